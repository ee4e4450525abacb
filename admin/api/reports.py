"""The calls log, the dashboard and the campaign in the JSON API.

    GET /api/v1/calls?date=&outcome=&trunk=&district=&server=&cursor=&limit=   (staff)
    GET /api/v1/dashboard?date=                                               (any role)
    GET /api/v1/campaign                                                      (supervisors)
    PUT /api/v1/campaign  {"paused"?, "call_window"?, "retry_busy"?, ..., "trunks"?: {...},
                           "revision"?: n}                                    (supervisors)

A call's times are ISO 8601 in UTC; its phone is masked (`phone_masked`), and it carries no
name: the person's own endpoint has those.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _

from callengine import campaign as campaign_service
from callengine.campaign import CampaignConflict, CampaignError
from callengine.paging import InvalidCursor
from callengine.reports import CallFilters, CallRow, calls_log
from callengine.store.models import OUTCOMES
from admin.access import any_role, roles_required
from admin.api import bp, cursor_arg, day_arg, limit_arg, list_response
from admin.api.errors import ApiError, bad_cursor, invalid, json_body
from admin.api.openapi import operation
from admin.campaign import change
from admin.context import context
from admin.dashboard import board_of

_NULLABLE_TEXT = {"type": ["string", "null"]}
_NULLABLE_INT = {"type": ["integer", "null"]}
_NULLABLE_NUMBER = {"type": ["number", "null"]}
_COUNT = {"type": "integer", "minimum": 0}
CALL = {"type": "object", "required": ["id", "time", "person_id", "outcome"], "properties": {
    "id": {"type": "string"}, "time": {"type": "string", "format": "date-time"},
    "person_id": {"type": "integer"},
    "phone_masked": {"type": "string", "description": "the number dialled, masked"},
    "district": _NULLABLE_TEXT, "commune": _NULLABLE_TEXT, "trunk": {"type": "string"},
    "server": {"type": "string"}, "state": {"type": "string"},
    "outcome": {"type": ["string", "null"], "description": "null while the call is live"},
    "outcome_label": {"type": "string"}, "cause": _NULLABLE_INT, "sip_code": _NULLABLE_INT,
    "duration": _NULLABLE_NUMBER, "talk": _NULLABLE_NUMBER}}
FIGURES = {"type": "object", "additionalProperties": _COUNT, "required": [
    "planned", "dialled", "reached", "completed", "flagged", "urgent", "unreachable"]}
CHANNELS = {"type": "object", "required": ["name", "live"], "properties": {
    "name": {"type": "string"}, "live": _COUNT, "max_channels": _NULLABLE_INT}}
AREA = {"type": "object", "required": ["district", "commune", "figures"], "properties": {
    "district": _NULLABLE_TEXT, "commune": _NULLABLE_TEXT, "figures": FIGURES}}
DASHBOARD = {"type": "object", "required": ["day", "paused", "totals", "trunks", "series"],
             "properties": {
                 "day": {"type": "string", "format": "date"},
                 "generated_at": {"type": "string"}, "paused": {"type": ["boolean", "null"]},
                 "totals": FIGURES, "trunks": {"type": "array", "items": CHANNELS},
                 "servers": {"type": "array", "items": CHANNELS},
                 "series": {"type": "array", "items": {
                     "type": "object", "required": ["day", "counts"], "properties": {
                         "day": {"type": "string", "format": "date"},
                         "counts": {"type": "object", "additionalProperties": _COUNT}}}},
                 "districts": {"type": "array", "items": AREA},
                 "communes": {"type": "array", "items": AREA}}}
_TRUNK_LIMITS = {"type": "object", "properties": {
    "max_channels": {"type": ["integer", "string", "null"]},
    "cps": {"type": ["number", "string", "null"]}}}
_SETTING = {"type": ["string", "number", "null"],
            "description": "null: back to the settings file's value"}
CAMPAIGN_FIELDS = {
    "call_window": {"type": ["string", "null"], "example": "08:00-20:00"},
    **{key: _SETTING for key in ("retry_busy", "retry_no_answer", "retry_congestion",
                                 "retry_congestion_max", "retry_partial", "retry_rejected",
                                 "retry_failed")},
    "max_attempts_per_day": {"type": ["integer", "string", "null"]},
}
CAMPAIGN = {"type": "object", "required": ["revision", "paused", "call_window", "trunks"],
            "properties": {
                "revision": {"type": "integer"}, "paused": {"type": "boolean"},
                **CAMPAIGN_FIELDS,
                "trunks": {"type": "object", "additionalProperties": _TRUNK_LIMITS},
                "paused_by": _NULLABLE_TEXT, "paused_at": _NULLABLE_TEXT,
                "updated_by": _NULLABLE_TEXT, "updated_at": _NULLABLE_TEXT,
                "overridden": {"type": "array", "items": {"type": "string"}}}}
CAMPAIGN_CHANGE = {"type": "object", "properties": {
    "revision": {"type": "integer", "description": "the revision you read; 409 if it changed"},
    "paused": {"type": "boolean"}, **CAMPAIGN_FIELDS,
    "trunks": {"type": "object", "additionalProperties": _TRUNK_LIMITS}}}
_DATE = {"name": "date", "in": "query", "description": "YYYY-MM-DD (local); default today",
         "schema": {"type": "string", "format": "date"}}
CALL_PARAMETERS = [
    _DATE,
    {"name": "outcome", "in": "query", "schema": {"type": "string", "enum": list(OUTCOMES)}},
    *({"name": name, "in": "query", "schema": {"type": "string"}}
      for name in ("trunk", "district", "server", "cursor")),
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                  "maximum": 200}},
]


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def call_json(row: CallRow) -> dict[str, Any]:
    """An attempt in the API: UTC times, the phone masked, no name."""
    data = row.to_dict()
    del data["name"], data["phone"]
    return {**data, "time": _utc(row.time), "phone_masked": row.phone}


def _date_arg() -> date:
    return day_arg(request.args.get("date"), lambda message: invalid("date", message))


def _text_arg(name: str, longest: int = 100) -> str | None:
    value = request.args.get(name, "").strip()
    if len(value) > longest:
        raise invalid(name, _("%(name)s is too long.", name=name))
    return value or None


@bp.get("/calls")
@roles_required("staff", "supervisor")
@operation("Nhật ký cuộc gọi của một ngày, mới nhất trước", response="Call", list_of=True,
           schemas={"Call": CALL}, parameters=CALL_PARAMETERS,
           errors={400: "Con trỏ không hợp lệ", 422: "Bộ lọc không hợp lệ"})
def calls():
    """One page of the attempt log."""
    outcome = _text_arg("outcome")
    if outcome is not None and outcome not in OUTCOMES:
        raise invalid("outcome", _("outcome must be one of: %(outcomes)s.",
                                   outcomes=", ".join(OUTCOMES)))
    filters = CallFilters(day=_date_arg(), outcome=outcome, trunk=_text_arg("trunk"),
                          district=_text_arg("district"), server=_text_arg("server"))
    ctx = context()
    try:
        page = calls_log(ctx.db, filters, tz=ctx.settings.timezone, after=cursor_arg(),
                         limit=limit_arg())
    except InvalidCursor as error:
        raise bad_cursor(error) from None
    return list_response(page, call_json)


@bp.get("/dashboard")
@any_role
@operation("Tổng quan một ngày: kế hoạch, tiến độ, kênh đang dùng, 14 ngày, theo địa bàn",
           response="Dashboard", schemas={"Dashboard": DASHBOARD},
           parameters=[_DATE], errors={422: "Ngày không hợp lệ"})
def dashboard():
    """The dashboard of a day (default today), as the page shows it."""
    board, _campaign = board_of(_date_arg())
    return jsonify(board.to_dict())


@bp.get("/campaign")
@roles_required("supervisor")
@operation("Chiến dịch mà mọi máy gọi đang tuân theo", response="Campaign",
           schemas={"Campaign": CAMPAIGN})
def campaign():
    """The effective campaign."""
    ctx = context()
    return jsonify(campaign_service.current(ctx.db, ctx.settings).to_dict())


@bp.put("/campaign")
@roles_required("supervisor")
@operation("Thay đổi chiến dịch (tất cả hoặc không gì cả); máy gọi áp dụng trong 5 giây",
           response="Campaign", request_body="CampaignChange",
           schemas={"Campaign": CAMPAIGN, "CampaignChange": CAMPAIGN_CHANGE},
           errors={400: "Thân yêu cầu không phải JSON",
                   409: "Chiến dịch vừa được người khác thay đổi",
                   422: "Giá trị không hợp lệ (mỗi trường một thông báo)"})
def change_campaign():
    """Change the campaign; with "revision", refused if someone changed it meanwhile."""
    body = json_body()
    revision = body.pop("revision", None)
    if revision is not None and (type(revision) is not int or revision < 0):
        raise invalid("revision", _("revision must be a whole number."))
    try:
        updated = change(body, expected_revision=revision)
    except CampaignConflict as error:
        raise ApiError(409, error.code, error.errors["revision"]) from None
    except CampaignError as error:
        raise ApiError(422, error.code, str(error), field=error.field,
                       errors=error.errors) from None
    return jsonify(updated.to_dict())
