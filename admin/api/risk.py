"""The risk self-assessment API: submit a venue's answers (score and band back) and read its
history. Every call is audited."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from callengine.health.errors import InvalidForm, NotFound
from callengine.health.risk import AssessmentView, record_assessment, venue_history
from callengine.health.risk_criteria import default_criteria
from callengine.paging import Page
from admin.access import roles_required
from admin.api import bp, limit_arg, list_response
from admin.api.errors import ApiError, json_body
from admin.api.openapi import operation
from admin.api.venues import NOT_FOUND, _venue
from admin.context import actor, audit_event, context

STAFF = roles_required("staff", "supervisor")  # as the venues API

ASSESSMENT = {"type": "object",
              "required": ["id", "venue_id", "points", "index_percent", "band", "answers"],
              "properties": {
                  "id": {"type": "integer"}, "venue_id": {"type": "integer"},
                  "criteria_id": {"type": "string"}, "criteria_version": {"type": "integer"},
                  "answers": {"type": "object", "additionalProperties": {"type": "string"},
                              "description": "mã tiêu chí -> mã lựa chọn"},
                  "points": {"type": "integer"}, "max_points": {"type": "integer"},
                  "index_percent": {"type": "number", "description": "điểm / tối đa × 100"},
                  "band": {"type": "string",
                           "enum": [b.code for b in default_criteria().bands]},
                  "band_label": {"type": "string"}, "advice": {"type": "string"},
                  "flagged": {"type": "boolean", "description": "nguy cơ cao hoặc rất cao"},
                  "alerts": {"type": "array", "items": {"type": "string"},
                             "description": "tiêu chí từ component_alert điểm trở lên"},
                  "submitted_at": {"type": "string", "format": "date-time"},
                  "submitted_by": {"type": "string"}}}
NEW_ASSESSMENT = {"type": "object", "required": ["answers"], "additionalProperties": False,
                  "properties": {"answers": {
                      "type": "object", "additionalProperties": {"type": "string"},
                      "description": "mỗi tiêu chí của bộ tiêu chí -> một mã lựa chọn"}}}
SCHEMAS = {"RiskAssessment": ASSESSMENT, "NewRiskAssessment": NEW_ASSESSMENT}


def assessment_json(assessment: AssessmentView) -> dict[str, Any]:
    criteria = default_criteria()
    return {"id": assessment.id, "venue_id": assessment.venue_id,
            "criteria_id": assessment.criteria_id,
            "criteria_version": assessment.criteria_version, "answers": assessment.answers,
            "points": assessment.points, "max_points": criteria.max_points,
            "index_percent": assessment.index_percent, "band": assessment.band.code,
            "band_label": assessment.band.label, "advice": assessment.band.advice,
            "flagged": assessment.flagged,
            "alerts": list(assessment.alerts),
            "submitted_at": assessment.submitted_at.isoformat(),
            "submitted_by": assessment.submitted_by}


def _answers() -> dict[str, str]:
    body = json_body()
    unknown = sorted(set(body) - {"answers"})
    if unknown:
        raise ApiError(422, "invalid", f"Trường '{unknown[0]}' không có.", field=unknown[0])
    answers = body.get("answers")
    if not isinstance(answers, dict):
        raise ApiError(422, "invalid", "answers phải là một đối tượng: mã tiêu chí -> mã "
                                       "lựa chọn.", field="answers")
    return answers


@bp.post("/venues/<int:venue_id>/risk-assessments")
@STAFF
@operation("Gửi một bản tự đánh giá nguy cơ của địa điểm: trả về điểm, chỉ số và mức nguy cơ",
           response="RiskAssessment", status=201, schemas=SCHEMAS,
           request_body="NewRiskAssessment",
           errors={**NOT_FOUND, 400: "Thân yêu cầu không phải JSON",
                   422: "Thiếu tiêu chí hoặc lựa chọn không hợp lệ (field nói tiêu chí nào)"})
def risk_assessment_create(venue_id: int):
    _venue(venue_id)
    answers = _answers()
    ctx = context()
    try:
        saved = record_assessment(ctx.db, venue_id, answers, submitted_by=actor().username,
                                  now=ctx.clock.now())
    except InvalidForm as error:
        field, message = next(iter(error.errors.items()))
        raise ApiError(422, "invalid", message, field=field) from None
    except NotFound as error:
        raise ApiError(404, "not_found", str(error)) from None
    audit_event("risk.assess", object_type="venue", object_id=venue_id, via="api",
                assessment=saved.id, band=saved.band.code)
    return jsonify(assessment_json(saved)), 201


@bp.get("/venues/<int:venue_id>/risk-assessments")
@STAFF
@operation("Lịch sử tự đánh giá nguy cơ của địa điểm, mới nhất trước",
           response="RiskAssessment", list_of=True, schemas=SCHEMAS, errors={
               **NOT_FOUND, 422: "limit không hợp lệ"},
           parameters=[{"name": "limit", "in": "query", "required": False,
                        "description": "Số bản đánh giá (1–200)",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 200}}])
def risk_assessment_list(venue_id: int):
    _venue(venue_id)
    history = venue_history(context().db, venue_id, limit=limit_arg())
    audit_event("risk.history", object_type="venue", object_id=venue_id, via="api",
                results=len(history))
    return list_response(Page(history, None), assessment_json)
