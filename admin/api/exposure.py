"""The exposure API: a case's contacts found from check-ins, and their confirmation.

GET answers for the case's review (the open one, else the latest), or, with none, for the
default window ending now. POST confirms on the case's review, opening one first (window
ending now) if the case has none; it enrols the contacts exactly as the admin's page does.
Phones are in full (E.164): API clients are staff systems with their own token.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user

from callengine.casework.errors import CaseworkError, NotFound
from callengine.health.confirm import Confirmation, confirm_exposure, parse_choices
from callengine.health.exposure import (
    Contact,
    Exposure,
    ReviewConflict,
    exposure_of_person,
    open_manual_review,
    review_of_person,
)
from callengine.store.exposure import ExposureReview
from admin.access import roles_required
from admin.api import bp
from admin.api.errors import ApiError, invalid, json_body
from admin.api.openapi import operation
from admin.context import audit_event, context

SUPERVISOR = roles_required("supervisor")
_TEXT = {"type": "string"}
_TEXT_OR_NULL = {"type": ["string", "null"]}
_INT = {"type": "integer"}
_MOMENT = {"type": "string", "format": "date-time"}
_MOMENT_OR_NULL = {"type": ["string", "null"], "format": "date-time"}


def _object(properties: dict[str, Any]) -> dict:
    return {"type": "object", "required": list(properties), "properties": properties}


VISIT = _object({"venue_id": _INT, "venue": _TEXT, "checkin_id": _INT,
                 "case_from": _MOMENT, "case_to": _MOMENT, "from": _MOMENT, "to": _MOMENT,
                 "minutes": {"type": "number", "description": "time spent together"}})
CANDIDATE = _object({
    "person_id": {"type": ["integer", "null"], "description": "a person of the register"},
    "full_name": _TEXT, "phone": {"type": "string", "description": "E.164"},
    "category": {"type": ["string", "null"], "description": "the known person's class now"},
    "proposed": {"type": "boolean", "description": "false for people already F0"},
    "last_contact": _MOMENT, "visits": {"type": "array", "items": VISIT}})
REVIEW = {"type": ["object", "null"], "properties": {
    "id": _INT, "status": {"type": "string", "enum": ["open", "confirmed"]}, "version": _INT,
    "source": _TEXT, "reference_at": _MOMENT, "isolated_at": _MOMENT,
    "confirmed_by": _TEXT_OR_NULL, "confirmed_at": _MOMENT_OR_NULL,
    "batch_id": {"type": ["integer", "null"]}}}
EXPOSURE = _object({
    "review": REVIEW,
    "window": _object({"start": _MOMENT, "end": _MOMENT}),
    "venues": {"type": "array", "items": _object({
        "venue_id": _INT, "name": _TEXT, "case_visits": _INT, "contacts": _INT})},
    "candidates": {"type": "array", "items": CANDIDATE}})
CHOICE = {"type": "object", "additionalProperties": False, "properties": {
    "checkin_id": _INT, "person_id": _INT, "full_name": _TEXT, "phone": _TEXT,
    "national_id": _TEXT, "commune": _TEXT, "district": _TEXT, "address": _TEXT},
    "description": "{checkin_id} or {person_id} (a candidate or known person, optionally "
                   "with an edited full_name/phone), or {full_name, phone, ...} typed in"}
CONFIRM_REQUEST: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {
    "f1": {"type": "array", "items": CHOICE}, "f2": {"type": "array", "items": CHOICE},
    "version": {"type": "integer", "description": "the review's version as read (optional)"}}}
CONFIRMED = _object({"review_id": _INT, "batch_id": _INT, "f1": _INT, "f2": _INT,
                     "created": _INT, "updated": _INT, "unchanged": _INT,
                     "skipped_cases": {"type": "array", "items": _TEXT}})
SCHEMAS = {"Exposure": EXPOSURE, "ExposureConfirm": CONFIRM_REQUEST,
           "ExposureConfirmed": CONFIRMED}


def _moment(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z")


def _review_json(review: ExposureReview | None) -> dict[str, Any] | None:
    if review is None:
        return None
    return {"id": review.id, "status": review.status, "version": review.version,
            "source": review.source, "reference_at": _moment(review.reference_at),
            "isolated_at": _moment(review.isolated_at), "confirmed_by": review.confirmed_by,
            "confirmed_at": _moment(review.confirmed_at), "batch_id": review.batch_id}


def _candidate_json(contact: Contact, names: dict[int, str]) -> dict[str, Any]:
    c, known = contact.candidate, contact.known
    return {
        "person_id": known.id if known else None,
        "full_name": known.full_name if known else c.full_name,
        "phone": known.phone if known else c.phone, "category": contact.category,
        "proposed": contact.proposable, "last_contact": _moment(c.last_contact),
        "visits": [{"venue_id": o.venue_id, "venue": names.get(o.venue_id, ""),
                    "checkin_id": o.checkin_id, "case_from": _moment(o.case_stay.start),
                    "case_to": _moment(o.case_stay.end), "from": _moment(o.stay.start),
                    "to": _moment(o.stay.end), "minutes": o.minutes} for o in c.overlaps]}


def exposure_json(review: ExposureReview | None, exposure: Exposure) -> dict[str, Any]:
    return {"review": _review_json(review),
            "window": {"start": _moment(exposure.window.start),
                       "end": _moment(exposure.window.end)},
            "venues": [{"venue_id": v.venue_id, "name": v.name, "case_visits": v.case_stays,
                        "contacts": v.contacts} for v in exposure.venues],
            "candidates": [_candidate_json(c, exposure.venue_names) for c in exposure.contacts]}


def _api_error(error: CaseworkError) -> ApiError:
    if isinstance(error, NotFound):
        return ApiError(404, "not_found", str(error))
    if isinstance(error, ReviewConflict):
        return ApiError(409, "conflict", str(error))
    return ApiError(422, "invalid", str(error))


@bp.get("/people/<int:person_id>/exposure")
@SUPERVISOR
@operation("Những người có thể đã tiếp xúc với một ca F0 (cùng địa điểm, trùng thời gian), "
           "theo đợt rà soát của ca hoặc cửa sổ mặc định", response="Exposure",
           schemas=SCHEMAS, errors={404: "Không có người này"})
def person_exposure(person_id: int):
    """The candidates of the person's review, each with their overlapping visits."""
    ctx = context()
    try:
        with ctx.db.session() as s:
            review, exposure = exposure_of_person(s, person_id, ctx.clock.now(), ctx.settings)
            body = exposure_json(review, exposure)
    except CaseworkError as error:
        raise _api_error(error) from None
    audit_event("exposure.view", object_type="person", object_id=person_id, via="api")
    return jsonify(body)


def _confirm_request() -> tuple[list, list, int | None]:
    body = json_body()
    for name in body:
        if name not in CONFIRM_REQUEST["properties"]:
            raise invalid(name, _("Unknown field %(name)s.", name=name))
    version = body.get("version")
    if version is not None and (type(version) is not int or version < 0):
        raise invalid("version", _("version must be a whole number."))
    try:
        return parse_choices(body.get("f1"), "f1"), parse_choices(body.get("f2"), "f2"), version
    except CaseworkError as error:
        raise ApiError(422, "invalid", str(error)) from None


def _review_to_confirm(person_id: int) -> int:
    """The person's review (opened now if they have none)."""
    ctx = context()
    with ctx.db.session() as s:
        review = review_of_person(s, person_id) or open_manual_review(
            s, person_id, now=ctx.clock.now(), actor=current_user.username,
            settings=ctx.settings)
        return review.id


def confirmed_json(done: Confirmation) -> dict[str, Any]:
    return {"review_id": done.review_id, "batch_id": done.batch_id, "f1": done.f1,
            "f2": done.f2, "created": done.created, "updated": done.updated,
            "unchanged": done.unchanged, "skipped_cases": list(done.skipped_cases)}


@bp.post("/people/<int:person_id>/exposure/confirm")
@SUPERVISOR
@operation("Xác nhận danh sách F1 và F2 của một ca F0: ghi vào sổ như một danh sách nhập, "
           "gọi từ sáng hôm sau", response="ExposureConfirmed", schemas=SCHEMAS,
           request_body="ExposureConfirm",
           errors={400: "Thân yêu cầu không phải JSON", 404: "Không có người này",
                   409: "Đã xác nhận, hoặc người khác vừa thay đổi đợt rà soát",
                   422: "Mục không hợp lệ (trường message nói mục nào, vì sao)"})
def confirm_person_exposure(person_id: int):
    """Enrol the chosen contacts (one transaction; nothing written on a refusal)."""
    f1, f2, version = _confirm_request()
    ctx = context()
    try:
        review_id = _review_to_confirm(person_id)
        done = confirm_exposure(ctx.db, review_id, f1=f1, f2=f2, actor=current_user.username,
                                now=ctx.clock.now(), settings=ctx.settings, version=version)
    except CaseworkError as error:
        raise _api_error(error) from None
    audit_event("exposure.confirm", object_type="exposure_review", object_id=review_id,
                via="api", batch_id=done.batch_id, f1=done.f1, f2=done.f2)
    return jsonify(confirmed_json(done))
