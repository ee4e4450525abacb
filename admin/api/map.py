"""The epidemic map in the JSON API.

    GET /api/v1/map?figure=f0&division=old|new&date=     (any role)

Every commune of the division with the figure's value (zero included), counted by the
official codes stored beside people's written communes; `unplaced` counts the people whose
commune matches no unit (null for percentages).
"""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _

from callengine.geo import DIVISIONS
from callengine.reports.map import FIGURES, map_data
from admin.access import roles_required
from admin.api import bp, day_arg
from admin.api.errors import invalid
from admin.api.openapi import operation
from admin.context import audit_event, context

_NUMBER = {"type": "number", "minimum": 0}
MAP = {"type": "object", "required": ["figure", "division", "day", "units", "unplaced"],
       "properties": {
           "figure": {"type": "string"}, "label": {"type": "string"},
           "kind": {"type": "string", "enum": ["count", "percent"]},
           "division": {"type": "string", "enum": list(DIVISIONS)},
           "day": {"type": "string", "format": "date"},
           "unplaced": {"type": ["number", "null"]},
           "classes": {"type": "array", "items": {
               "type": "object", "required": ["low", "high"],
               "properties": {"low": _NUMBER, "high": _NUMBER}}},
           "units": {"type": "array", "items": {
               "type": "object", "required": ["code", "name", "value"], "properties": {
                   "code": {"type": "string", "description": "official (GSO) code"},
                   "name": {"type": "string"}, "district": {"type": ["string", "null"]},
                   "value": _NUMBER}}}}}
PARAMETERS = [
    {"name": "figure", "in": "query", "required": True, "schema": {"type": "string"},
     "description": "f0, monitoring, flagged (and the figures added to the registry)"},
    {"name": "division", "in": "query", "schema": {"type": "string", "enum": list(DIVISIONS)},
     "description": "old: before 1 July 2025 (default); new: after"},
    {"name": "date", "in": "query", "description": "YYYY-MM-DD (local); default today",
     "schema": {"type": "string", "format": "date"}},
]


def _one_of(name: str, allowed, default: str | None = None) -> str:
    value = request.args.get(name, "").strip() or default
    if value is None or value not in allowed:  # allowed holds names only
        raise invalid(name, _("%(name)s must be one of: %(values)s.", name=name,
                              values=", ".join(allowed)))
    return value


@bp.get("/map")
@roles_required("staff", "supervisor")
@operation("Bản đồ dịch tễ: số liệu của từng xã, phường theo mã đơn vị hành chính",
           response="Map", schemas={"Map": MAP}, parameters=PARAMETERS,
           errors={422: "Số liệu, cách chia địa giới hoặc ngày không hợp lệ"})
def epidemic_map():
    """One figure for every commune of a division."""
    figure = _one_of("figure", tuple(FIGURES))
    division = _one_of("division", DIVISIONS, "old")
    day = day_arg(request.args.get("date"), lambda message: invalid("date", message))
    ctx = context()
    data = map_data(ctx.db, figure, division, day, ctx.settings.timezone)
    audit_event("map.view", object_type="map", object_id=figure, division=division)
    return jsonify(data.to_dict())
