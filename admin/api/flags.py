"""The flags in the JSON API: the queue, one flag with its answers, and acting on it.

    GET  /api/v1/flags?status=open&type=&urgent=&cursor=&limit=
    GET  /api/v1/flags/{id}
    POST /api/v1/flags/{id}/actions   {"action": ..., "note": ..., "version"?: n, "phone"?: ...}

Without "version" an action applies to the flag as it is now; with it, a flag changed since
that version answers 409 and nothing is written.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from callengine.casework.calls import AnswerView
from callengine.casework.errors import (
    CaseworkError,
    FlagConflict,
    NotAllowedNow,
    NotFound,
)
from callengine.casework.flag_actions import ACTIONS, act
from callengine.casework.flag_detail import FlagDetail, flag_detail
from callengine.casework.flag_queue import FlagFilters, FlagRow, flag_queue
from callengine.casework.flag_writes import FlagState, flag_state
from callengine.casework.labels import FLAG_KIND_LABELS
from callengine.casework.paging import BAD_CURSOR
from callengine.phones import InvalidPhone
from admin.access import roles_required
from admin.api import bp, cursor_arg, limit_arg, list_response
from admin.api.errors import ApiError, invalid, json_body
from admin.api.openapi import operation
from admin.context import audit_event, call_window, context, questionnaire

SUPERVISOR = roles_required("supervisor")
_MOMENT = {"type": "string", "format": "date-time"}
_NULLABLE_TEXT = {"type": ["string", "null"]}
FLAG_FIELDS = {
    "id": {"type": "integer"},
    "type": {"type": "string", "enum": list(FLAG_KIND_LABELS)},
    "urgent": {"type": "boolean"},
    "status": {"type": "string", "enum": ["open", "closed"]},
    "person_id": {"type": "integer"},
    "created_at": _MOMENT,
    "detail": _NULLABLE_TEXT,
    "assigned_to": _NULLABLE_TEXT,
    "version": {"type": "integer"},
}
FLAG = {"type": "object", "required": list(FLAG_FIELDS), "properties": {
    **FLAG_FIELDS, "district": _NULLABLE_TEXT, "commune": _NULLABLE_TEXT}}
ANSWER = {"type": "object", "required": ["id", "question_id", "value", "source"], "properties": {
    "id": {"type": "integer"}, "question_id": {"type": "string"}, "question": {"type": "string"},
    "value": {"type": "string"}, "source": {"type": "string"}, "transcript": _NULLABLE_TEXT,
    "confidence": {"type": ["number", "null"]},
    "recording": {"type": ["string", "null"], "description": "URL of the WAV (supervisors)"}}}
EVENT = {"type": "object", "required": ["at", "actor", "action", "status"], "properties": {
    "at": _MOMENT, "actor": {"type": "string"}, "action": {"type": "string"},
    "note": _NULLABLE_TEXT, "status": {"type": "string"}, "effect": _NULLABLE_TEXT}}
PERSON = {"type": "object", "required": ["id", "full_name", "phone"], "properties": {
    "id": {"type": "integer"}, "full_name": {"type": "string"},
    "phone": {"type": "string", "description": "E.164, in full"},
    "category": _NULLABLE_TEXT, "status": {"type": "string"},
    "district": _NULLABLE_TEXT, "commune": _NULLABLE_TEXT}}
FLAG_DETAIL = {"type": "object", "required": [*FLAG_FIELDS, "person", "answers", "history"],
               "properties": {**FLAG_FIELDS, "closed_at": {"type": ["string", "null"]},
                              "closed_by": _NULLABLE_TEXT, "note": _NULLABLE_TEXT,
                              "person": PERSON, "answers": {"type": "array", "items": ANSWER},
                              "history": {"type": "array", "items": EVENT}}}
FLAG_STATE = {"type": "object", "required": ["id", "status", "version"], "properties": {
    "id": {"type": "integer"}, "status": {"type": "string", "enum": ["open", "closed"]},
    "version": {"type": "integer"}, "assigned_to": _NULLABLE_TEXT, "action": _NULLABLE_TEXT,
    "updated_at": {"type": ["string", "null"]}, "updated_by": _NULLABLE_TEXT}}
ACT_RESULT = {"type": "object", "required": ["flag", "effect", "message"], "properties": {
    "flag": FLAG_STATE, "effect": _NULLABLE_TEXT, "message": {"type": "string"}}}
ACTION_REQUEST = {"type": "object", "required": ["action"], "properties": {
    "action": {"type": "string", "enum": list(ACTIONS)},
    "note": _NULLABLE_TEXT,
    "version": {"type": "integer", "description": "the version you saw; default: the "
                                                  "current one"},
    "phone": {"type": "string", "description": "the new number (number_corrected)"}}}
LIST_PARAMETERS = [
    {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["open", "closed"]}},
    {"name": "type", "in": "query", "schema": {"type": "string", "enum": list(FLAG_KIND_LABELS)}},
    {"name": "urgent", "in": "query", "schema": {"type": "string", "enum": ["true", "false"]}},
    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                  "maximum": 200}},
]


def _moment(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def flag_json(row: FlagRow | FlagDetail) -> dict[str, Any]:
    """The fields every flag has in the API."""
    return {"id": row.id, "type": row.kind, "urgent": row.urgent, "status": row.status,
            "person_id": row.person.id if isinstance(row, FlagDetail) else row.person_id,
            "created_at": _moment(row.created_at), "detail": row.detail,
            "assigned_to": row.assigned_to, "version": row.version}


def _row_json(row: FlagRow) -> dict[str, Any]:
    return {**flag_json(row), "district": row.district, "commune": row.commune}


def _answer_json(a: AnswerView) -> dict[str, Any]:
    recording = (url_for("recordings.answer", answer_id=a.id)
                 if a.source == "speech" and a.audio_path else None)
    return {"id": a.id, "question_id": a.question_id, "question": a.question, "value": a.value,
            "source": a.source, "transcript": a.transcript, "confidence": a.confidence,
            "recording": recording}


def _detail_json(flag: FlagDetail) -> dict[str, Any]:
    p = flag.person
    return {**flag_json(flag), "closed_at": _moment(flag.closed_at),
            "closed_by": flag.closed_by, "note": flag.note,
            "person": {"id": p.id, "full_name": p.name, "phone": p.phone,
                       "category": p.category, "status": p.status, "district": p.district,
                       "commune": p.commune},
            "answers": [_answer_json(a) for a in (flag.attempt.answers if flag.attempt else ())],
            "history": [{"at": _moment(e.at), "actor": e.actor, "action": e.action,
                         "note": e.note, "status": e.status, "effect": e.effect}
                        for e in flag.history]}


def state_json(state: FlagState) -> dict[str, Any]:
    return {"id": state.id, "status": state.status, "version": state.version,
            "assigned_to": state.assigned_to, "action": state.action,
            "updated_at": _moment(state.updated_at), "updated_by": state.updated_by}


def _api_error(error: CaseworkError | InvalidPhone) -> ApiError:
    """The API's answer to a refusal of the casework services."""
    if isinstance(error, FlagConflict):
        return ApiError(409, "conflict", str(error), current=state_json(error.current))
    if isinstance(error, NotAllowedNow):
        return ApiError(409, "flag_closed", str(error))
    if isinstance(error, NotFound):
        return ApiError(404, "not_found", str(error))
    if str(error) == BAD_CURSOR:
        return ApiError(400, "bad_cursor", str(error))
    return ApiError(422, "invalid", str(error))


def _urgent_arg() -> bool | None:
    raw = request.args.get("urgent", "")
    if raw in ("", "true", "false"):
        return {"": None, "true": True, "false": False}[raw]
    raise invalid("urgent", _("urgent must be true or false."))


@bp.get("/flags")
@SUPERVISOR
@operation("Hàng đợi cờ: khẩn trước, rồi cờ cũ nhất", response="Flag", list_of=True,
           schemas={"Flag": FLAG}, parameters=LIST_PARAMETERS,
           errors={400: "Con trỏ không hợp lệ", 422: "Bộ lọc không hợp lệ"})
def flags():
    """One page of the flag queue."""
    filters = FlagFilters(status=request.args.get("status") or "open",
                          kind=request.args.get("type") or None, urgent=_urgent_arg())
    ctx = context()
    try:
        page = flag_queue(ctx.db, filters, after=cursor_arg(), limit=limit_arg(),
                          now=ctx.clock.now())
    except CaseworkError as error:
        raise _api_error(error) from None
    return list_response(page, _row_json)


def _detail(flag_id: int) -> FlagDetail:
    try:
        return flag_detail(context().db, flag_id, questionnaire())
    except NotFound as error:
        raise _api_error(error) from None


@bp.get("/flags/<int:flag_id>")
@SUPERVISOR
@operation("Một cờ: người, các câu trả lời của cuộc gọi, lịch sử", response="FlagDetail",
           schemas={"FlagDetail": FLAG_DETAIL}, errors={404: "Không có cờ này"})
def flag(flag_id: int):
    """One flag with its person (full phone), its call's answers and its history."""
    detail = _detail(flag_id)
    audit_event("flag.view", object_type="flag", object_id=flag_id)
    return jsonify(_detail_json(detail))


def _action_request() -> tuple[str, str | None, int | None, str | None]:
    body = json_body()
    action, note = body.get("action"), body.get("note")
    version, phone = body.get("version"), body.get("phone")
    if not isinstance(action, str):
        raise invalid("action", _("action must be one of: %(actions)s.",
                                  actions=", ".join(ACTIONS)))
    if note is not None and not isinstance(note, str):
        raise invalid("note", _("note must be text."))
    if version is not None and (type(version) is not int or version < 0):
        raise invalid("version", _("version must be a whole number."))
    if phone is not None and not isinstance(phone, str):
        raise invalid("phone", _("phone must be text."))
    return action, note, version, phone


@bp.post("/flags/<int:flag_id>/actions")
@SUPERVISOR
@operation("Ghi việc đã làm với một cờ (không có version: áp dụng cho phiên bản hiện tại)",
           response="ActResult", request_body="ActionRequest",
           schemas={"ActResult": ACT_RESULT, "ActionRequest": ACTION_REQUEST},
           errors={400: "Thân yêu cầu không phải JSON", 404: "Không có cờ này",
                   409: "Cờ đã đóng hoặc vừa bị người khác thay đổi",
                   422: "Thao tác, ghi chú hoặc số điện thoại không hợp lệ"})
def flag_action(flag_id: int):
    """Record what was done about a flag and apply its effect on the engine."""
    action, note, version, phone = _action_request()
    ctx = context()
    try:
        if version is None:
            version = flag_state(ctx.db, flag_id).version
        result = act(ctx.db, flag_id, action, note, current_user.username, version,
                     ctx.clock.now(), call_window(), phone=phone)
    except InvalidPhone as error:
        raise invalid("phone", str(error)) from None
    except CaseworkError as error:
        raise _api_error(error) from None
    audit_event("flag.act", object_type="flag", object_id=flag_id, flag_action=action)
    return jsonify({"flag": state_json(result.flag), "effect": result.effect,
                    "message": result.message})

