"""The people API: search (GET with ?q=, or POST with the terms in a JSON body, for clients
that must keep search terms out of URLs and server logs) and one person in full.

API clients are staff systems with their own token, so phones are given in full (E.164),
and every answer is recorded in the audit log (what was seen, never the search terms).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _

from callengine.casework.errors import BadCursor, InvalidRequest, NotFound
from callengine.casework.labels import PERSON_STATUS_LABELS
from callengine.casework.people import MAX_QUERY, PersonFilters, PersonRow, search_people
from callengine.casework.person_detail import PersonDetail, person_detail
from callengine.importer.categories import CATEGORIES
from admin.access import roles_required
from admin.api import MAX_LIMIT, bp, cursor_arg, limit_arg, list_response
from admin.api.errors import ApiError, invalid, json_body
from admin.api.openapi import operation
from admin.context import audit_event, context, questionnaire

STAFF = roles_required("staff", "supervisor")  # and admins: everyone signed in
FILTERS = ("district", "commune", "category", "status")
TERMS = ("q", *FILTERS)

_TEXT = {"type": "string"}
_TEXT_OR_NULL = {"type": ["string", "null"]}
_INT_OR_NULL = {"type": ["integer", "null"]}
_DAY_OR_NULL = {"type": ["string", "null"], "format": "date"}
_MOMENT = {"type": "string", "format": "date-time"}
_MOMENT_OR_NULL = {"type": ["string", "null"], "format": "date-time"}


def _object(properties: dict[str, Any], required: tuple[str, ...] | None = None) -> dict:
    return {"type": "object", "required": list(required or properties),
            "properties": properties}


PERSON = _object({
    "id": {"type": "integer"}, "full_name": _TEXT,
    "phone": {"type": "string", "description": "E.164, in full", "pattern": r"^\+84\d{9}$"},
    "category": {"type": ["string", "null"], "enum": [*CATEGORIES, None]},
    "status": {"type": "string", "enum": list(PERSON_STATUS_LABELS)},
    "monitoring_end": _DAY_OR_NULL, "district": _TEXT_OR_NULL, "commune": _TEXT_OR_NULL,
})
SEARCH: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {
    "q": {"type": ["string", "null"], "maxLength": MAX_QUERY},
    "district": {"type": ["string", "null"]}, "commune": {"type": ["string", "null"]},
    "category": {"type": ["string", "null"], "enum": [*CATEGORIES, None]},
    "status": {"type": ["string", "null"], "enum": [*PERSON_STATUS_LABELS, None]},
    "cursor": {"type": ["string", "null"]},
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
}}
ANSWER = _object({
    "id": {"type": "integer"}, "question_id": _TEXT, "question": _TEXT, "value": _TEXT,
    "source": _TEXT, "key": _TEXT_OR_NULL, "transcript": _TEXT_OR_NULL,
    "confidence": {"type": ["number", "null"]},
    "has_audio": {"type": "boolean", "description": "a recording of a spoken answer exists"},
})
ATTEMPT = _object({
    "id": _TEXT, "started_at": _MOMENT, "answered_at": _MOMENT_OR_NULL,
    "ended_at": _MOMENT_OR_NULL, "phone": _TEXT, "trunk": _TEXT, "state": _TEXT,
    "outcome": _TEXT_OR_NULL, "cause": _INT_OR_NULL, "sip_code": _INT_OR_NULL,
    "answers": {"type": "array", "items": ANSWER},
})
CALL_DAY = _object({
    "day": {"type": "string", "format": "date"}, "status": _TEXT, "origin": _TEXT,
    "attempts_made": {"type": "integer"}, "last_outcome": _TEXT_OR_NULL,
    "callback_requested": {"type": "boolean"}, "attempts": {"type": "array", "items": ATTEMPT},
})
PERIOD = _object({"category": _TEXT, "start": {"type": "string", "format": "date"},
                  "end": {"type": "string", "format": "date"}, "source": _TEXT_OR_NULL,
                  "list_date": _DAY_OR_NULL})
PERSON_FLAG = _object({"id": {"type": "integer"}, "type": _TEXT, "urgent": {"type": "boolean"},
                       "status": _TEXT, "created_at": _MOMENT, "detail": _TEXT_OR_NULL,
                       "assigned_to": _TEXT_OR_NULL})
CHANGE = _object({"at": _MOMENT, "actor": _TEXT, "action": _TEXT, "reason": _TEXT_OR_NULL,
                  "note": _TEXT_OR_NULL, "old_value": _TEXT_OR_NULL,
                  "new_value": _TEXT_OR_NULL})
PERSON_DETAIL = {"type": "object", "required": [*PERSON["required"], "alt_phones", "periods",
                                                "calls", "flags", "history"],
                 "properties": {
                     **PERSON["properties"],
                     "alt_phones": {"type": "array", "items": _TEXT},
                     "national_id": _TEXT_OR_NULL, "birth_year": _INT_OR_NULL,
                     "sex": _TEXT_OR_NULL, "village": _TEXT_OR_NULL, "address": _TEXT_OR_NULL,
                     "monitoring_start": _DAY_OR_NULL,
                     "periods": {"type": "array", "items": PERIOD},
                     "calls": {"type": "array", "items": CALL_DAY,
                               "description": "every day's call, newest first"},
                     "flags": {"type": "array", "items": PERSON_FLAG},
                     "history": {"type": "array", "items": CHANGE}}}
SCHEMAS = {"Person": PERSON, "PersonDetail": PERSON_DETAIL, "PersonSearch": SEARCH}
ERRORS = {400: "Con trỏ trang không hợp lệ",
          422: "Bộ lọc hoặc từ khóa không hợp lệ (trường field nói trường nào)"}


def _parameter(name: str, description: str, schema: dict | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


LIST_PARAMETERS = [
    _parameter("q", "Tên (không phân biệt dấu, hoa thường), số điện thoại (mọi cách viết) "
                    "hoặc CMND/CCCD. Từ khóa nằm trong URL: dùng POST /api/v1/people/search "
                    "nếu không được để lộ.", {"type": "string", "maxLength": MAX_QUERY}),
    _parameter("district", "Huyện"), _parameter("commune", "Xã"),
    _parameter("category", "Phân loại", {"type": "string", "enum": list(CATEGORIES)}),
    _parameter("status", "Trạng thái", {"type": "string", "enum": list(PERSON_STATUS_LABELS)}),
    _parameter("cursor", "Giá trị next của trang trước"),
    _parameter("limit", "Số người mỗi trang (1–200)",
               {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
]


def person_json(row: PersonRow) -> dict[str, Any]:
    """One person of a list, phone in full."""
    return {"id": row.id, "full_name": row.full_name, "phone": row.phone,
            "category": row.category, "status": row.status,
            "monitoring_end": _plain(row.monitoring_end), "district": row.district,
            "commune": row.commune}


def _plain(value: Any) -> Any:
    """Dates as ISO 8601, tuples as lists, recursively."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _answer(answer: dict[str, Any]) -> dict[str, Any]:
    answer["has_audio"] = bool(answer.pop("audio_path"))
    return answer


def detail_json(detail: PersonDetail) -> dict[str, Any]:
    """A person in full: identity, class history, every day's call, flags, history."""
    data = _plain(asdict(detail))
    person = data["identity"]
    person.pop("name")  # the display name; full_name is the list's
    for day in data["days"]:
        for attempt in day["attempts"]:
            for key in ("task_id", "server_id", "detail"):
                attempt.pop(key)
            attempt["answers"] = [_answer(a) for a in attempt["answers"]]
    for flag in data["flags"]:
        flag["type"] = flag.pop("kind")
    person.update(periods=data["periods"], calls=data["days"], flags=data["flags"],
                  history=data["history"])
    return person


def _search(terms: dict[str, Any], cursor: str | None, limit: int):
    filters = PersonFilters(**{name: terms.get(name) or None for name in FILTERS})
    try:
        page = search_people(context().db, terms.get("q") or "", filters, after=cursor,
                             limit=limit, full_phones=True)
    except BadCursor as error:
        raise ApiError(400, "bad_cursor", str(error)) from None
    except InvalidRequest as error:
        raise ApiError(422, "invalid", str(error)) from None
    audit_event("people.list", via="api", results=len(page.items))
    return list_response(page, person_json)


@bp.get("/people")
@STAFF
@operation("Tìm người được theo dõi (phân trang theo con trỏ)", response="Person",
           list_of=True, schemas=SCHEMAS, parameters=LIST_PARAMETERS, errors=ERRORS)
def people():
    """People matching ?q= and the filters, in name order."""
    return _search({name: request.args.get(name) for name in TERMS}, cursor_arg(),
                   limit_arg())


def _text_terms(body: dict[str, Any]) -> dict[str, str | None]:
    for name in body:
        if name not in SEARCH["properties"]:
            raise invalid(name, _("Unknown field %(name)s.", name=name))
    for name in (*TERMS, "cursor"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise invalid(name, _("%(name)s must be a string.", name=name))
    return body


def _body_limit(body: dict[str, Any]) -> int:
    limit = body.get("limit", 50)
    if type(limit) is not int or not 1 <= limit <= MAX_LIMIT:
        raise invalid("limit", _("limit must be a whole number from 1 to %(max)d.",
                                 max=MAX_LIMIT))
    return limit


@bp.post("/people/search")
@STAFF
@operation("Tìm người, từ khóa trong thân yêu cầu JSON (không nằm trong URL)",
           response="Person", list_of=True, schemas=SCHEMAS, request_body="PersonSearch",
           errors={**ERRORS, 400: "Thân yêu cầu không phải JSON, hoặc con trỏ không hợp lệ"})
def people_search():
    """The same search as GET /people, with the terms in a JSON body."""
    body = _text_terms(json_body())
    return _search(body, body.get("cursor") or None, _body_limit(body))


@bp.get("/people/<int:person_id>")
@STAFF
@operation("Một người được theo dõi: danh tính, lịch sử phân loại, cuộc gọi từng ngày với "
           "câu trả lời, cờ và lịch sử thay đổi", response="PersonDetail", schemas=SCHEMAS,
           errors={404: "Không có người này"})
def person(person_id: int):
    """One person in full; who asked goes to the audit log."""
    try:
        detail = person_detail(context().db, person_id, questionnaire())
    except NotFound as error:
        raise ApiError(404, "not_found", str(error)) from None
    audit_event("person.view", object_type="person", object_id=person_id, via="api")
    return jsonify(detail_json(detail))
