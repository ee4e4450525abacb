"""/api/v1/results: a day's results, the rows of the results export."""

from __future__ import annotations

from datetime import date

from flask import jsonify, request

from callengine.questionnaire import load_questionnaire
from callengine.results import result_rows
from admin.access import roles_required
from admin.api import bp, day_arg
from admin.api.errors import ApiError
from admin.api.openapi import operation
from admin.context import audit_event, context

RESULT_ROW = {
    "type": "object",
    "required": ["phone", "full_name", "district", "commune", "outcome", "attempts",
                 "callback_requested", "flagged"],
    "properties": {"phone": {"type": "string"}, "full_name": {"type": ["string", "null"]},
                   "district": {"type": "string"}, "commune": {"type": "string"},
                   "outcome": {"type": "string"}, "attempts": {"type": "integer"},
                   "callback_requested": {"type": "string", "enum": ["yes", "no"]},
                   "flagged": {"type": "string", "enum": ["yes", "no"]}},
    "additionalProperties": {"type": "string"},  # one answer per question: yes|no|unknown|""
}


def _day() -> date:
    return day_arg(request.args.get("date"),
                   lambda message: ApiError(400, "bad_date", message, field="date"))


@bp.get("/results")
@roles_required("staff", "supervisor")
@operation("Kết quả gọi của một ngày (các dòng của tệp xuất kết quả)", response="ResultRow",
           list_of=True, schemas={"ResultRow": RESULT_ROW},
           parameters=[{"name": "date", "in": "query",
                        "schema": {"type": "string", "format": "date"}}],
           errors={400: "Ngày sai"})
def results():
    """One row per person called that day, as in the export; one page (next is null)."""
    day = _day()
    ctx = context()
    rows = result_rows(ctx.db, load_questionnaire(ctx.settings.questionnaire), day)
    audit_event("export.results", object_type="results", object_id=day.isoformat(),
                day=day.isoformat(), rows=len(rows), via="api")
    return jsonify({"items": rows, "next": None})
