"""The venues API: register a venue (its token and check-in URL back), list and read venues,
their poster (PDF), and rotating a venue's token (admins). Every call is audited."""

from __future__ import annotations

from typing import Any

from flask import jsonify, make_response, request
from flask_babel import gettext as _

from callengine.health.errors import InvalidForm, NotFound
from callengine.health.poster import PosterError, render_poster
from callengine.health.venues import (
    KIND_LABELS,
    MAX_QUERY,
    VenueView,
    checkin_url,
    create_venue,
    get_venue,
    list_venues,
    rotate_token,
)
from callengine.paging import InvalidCursor
from admin.access import roles_required
from admin.api import MAX_LIMIT, bp, cursor_arg, limit_arg, list_response
from admin.api.errors import ApiError, bad_cursor, json_body
from admin.api.openapi import operation
from admin.context import actor, audit_event, context
from admin.venues import ON_ROTATE

STAFF = roles_required("staff", "supervisor")  # and admins: everyone signed in
ADMIN = roles_required("admin")
FIELDS = ("name", "address", "district", "commune", "kind", "contact_name", "contact_phone",
          "latitude", "longitude", "stay_minutes")

_TEXT_OR_NULL = {"type": ["string", "null"]}
_NUMBER_OR_NULL = {"type": ["number", "null"]}
VENUE = {"type": "object", "required": ["id", "name", "kind", "token", "checkin_url", "active"],
         "properties": {
             "id": {"type": "integer"}, "name": {"type": "string"},
             "address": {"type": "string"}, "district": _TEXT_OR_NULL,
             "commune": _TEXT_OR_NULL, "kind": {"type": "string", "enum": list(KIND_LABELS)},
             "contact_name": _TEXT_OR_NULL,
             "contact_phone": {"type": ["string", "null"], "description": "E.164"},
             "latitude": _NUMBER_OR_NULL, "longitude": _NUMBER_OR_NULL,
             "stay_minutes": {"type": ["integer", "null"],
                              "description": "null: the venue_stay_minutes setting"},
             "token": {"type": "string", "description": "the secret part of the QR's URL"},
             "checkin_url": {"type": ["string", "null"],
                             "description": "null while public_url is not set"},
             "active": {"type": "boolean"},
             "token_rotated_at": {"type": ["string", "null"], "format": "date-time"},
             "created_at": {"type": "string", "format": "date-time"}}}
NEW_VENUE = {"type": "object", "required": ["name"], "additionalProperties": False,
             "properties": {
                 "name": {"type": "string", "maxLength": 200},
                 "address": {"type": ["string", "null"], "maxLength": 300},
                 "district": {"type": ["string", "null"], "maxLength": 100},
                 "commune": {"type": ["string", "null"], "maxLength": 100},
                 "kind": {"type": "string", "enum": list(KIND_LABELS)},
                 "contact_name": {"type": ["string", "null"], "maxLength": 200},
                 "contact_phone": _TEXT_OR_NULL,
                 "latitude": {"type": ["number", "null"], "minimum": -90, "maximum": 90},
                 "longitude": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
                 "stay_minutes": {"type": ["integer", "null"], "minimum": 1,
                                  "maximum": 1440}}}
SCHEMAS = {"Venue": VENUE, "NewVenue": NEW_VENUE}
NOT_FOUND = {404: "Không có địa điểm này"}


def venue_json(venue: VenueView) -> dict[str, Any]:
    public_url = context().settings.public_url
    return {
        "id": venue.id, "name": venue.name, "address": venue.address,
        "district": venue.district, "commune": venue.commune, "kind": venue.kind,
        "contact_name": venue.contact_name, "contact_phone": venue.contact_phone,
        "latitude": venue.latitude, "longitude": venue.longitude,
        "stay_minutes": venue.stay_minutes, "token": venue.token,
        "checkin_url": checkin_url(public_url, venue.token) if public_url else None,
        "active": venue.active,
        "token_rotated_at": venue.token_rotated_at.isoformat() if venue.token_rotated_at
        else None,
        "created_at": venue.created_at.isoformat()}


def _venue(venue_id: int) -> VenueView:
    try:
        return get_venue(context().db, venue_id)
    except NotFound as error:
        raise ApiError(404, "not_found", str(error)) from None


def _new_venue_body() -> dict[str, Any]:
    body = json_body()
    for name, value in body.items():
        if name not in FIELDS:
            raise ApiError(422, "invalid", _("Unknown field %(name)s.", name=name), field=name)
        if value is not None and not isinstance(value, (str, int, float)) \
                or isinstance(value, bool):
            raise ApiError(422, "invalid", _("%(name)s must be a string.", name=name),
                           field=name)
    return body


@bp.post("/venues")
@STAFF
@operation("Đăng ký một địa điểm: trả về id, token và checkin_url (địa chỉ trong mã QR)",
           response="Venue", status=201, schemas=SCHEMAS, request_body="NewVenue",
           errors={400: "Thân yêu cầu không phải JSON",
                   422: "Giá trị không hợp lệ (trường field nói trường nào)"})
def venue_create():
    """A new venue, active, with a fresh token."""
    try:
        venue = create_venue(context().db, _new_venue_body(), now=context().clock.now(),
                             created_by=actor().username)
    except InvalidForm as error:
        field, message = next(iter(error.errors.items()))
        raise ApiError(422, "invalid", message, field=field) from None
    audit_event("venue.create", object_type="venue", object_id=venue.id, via="api")
    return jsonify(venue_json(venue)), 201


@bp.get("/venues")
@STAFF
@operation("Danh sách địa điểm theo tên (phân trang theo con trỏ)", response="Venue",
           list_of=True, schemas=SCHEMAS, errors={400: "Con trỏ trang không hợp lệ",
                                                  422: "Từ khóa hoặc limit không hợp lệ"},
           parameters=[
               {"name": "q", "in": "query", "required": False,
                "description": "Từ đầu các chữ trong tên (không phân biệt dấu, hoa thường)",
                "schema": {"type": "string", "maxLength": MAX_QUERY}},
               {"name": "cursor", "in": "query", "required": False,
                "description": "Giá trị next của trang trước", "schema": {"type": "string"}},
               {"name": "limit", "in": "query", "required": False,
                "description": "Số địa điểm mỗi trang (1–200)",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}}])
def venue_list():
    """Venues in name order."""
    try:
        page = list_venues(context().db, request.args.get("q", ""), after=cursor_arg(),
                           limit=limit_arg())
    except InvalidCursor as error:
        raise bad_cursor(error) from None
    except InvalidForm as error:
        raise ApiError(422, "invalid", str(error), field="q") from None
    audit_event("venue.list", via="api", results=len(page.items))
    return list_response(page, venue_json)


@bp.get("/venues/<int:venue_id>")
@STAFF
@operation("Một địa điểm", response="Venue", schemas=SCHEMAS, errors=NOT_FOUND)
def venue(venue_id: int):
    found = _venue(venue_id)
    audit_event("venue.view", object_type="venue", object_id=venue_id, via="api")
    return jsonify(venue_json(found))


@bp.get("/venues/<int:venue_id>/poster.pdf")
@STAFF
@operation("Áp phích A4 (PDF) có mã QR của địa điểm", schemas=SCHEMAS,
           errors={**NOT_FOUND, 409: "Chưa đặt public_url nên chưa in được áp phích"})
def venue_poster(venue_id: int):
    found = _venue(venue_id)
    try:
        pdf = render_poster(found, context().settings.public_url)
    except PosterError as error:
        raise ApiError(409, "no_public_url", str(error)) from None
    audit_event("venue.poster", object_type="venue", object_id=venue_id, via="api")
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    return response


@bp.post("/venues/<int:venue_id>/rotate-token")
@ADMIN
@operation("Đổi mã QR của địa điểm (áp phích cũ ngừng hoạt động, có thông báo rõ ràng)",
           response="Venue", schemas=SCHEMAS, errors=NOT_FOUND)
def venue_rotate_token(venue_id: int):
    _venue(venue_id)
    try:
        rotated = rotate_token(context().db, venue_id, now=context().clock.now())
    except NotFound as error:
        raise ApiError(404, "not_found", str(error)) from None
    for renew in ON_ROTATE:
        renew(venue_id)
    audit_event("venue.rotate_token", object_type="venue", object_id=venue_id, via="api")
    return jsonify(venue_json(rotated))
