"""`/map`: the epidemic map: the province's communes coloured by a chosen figure (F0, under
monitoring, flagged today, ...), in the division before or after the 2025 reorganisation,
with a legend, a tooltip per commune and the same figures in a table. No JavaScript."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from callengine.geo import NEW, OLD
from callengine.reports.map import FIGURES, map_data
from admin.access import roles_required
from admin.context import audit_event, context, local_today
from admin.map_chart import format_value, map_chart

bp = Blueprint("map", __name__)


def choice(name: str, labels: dict[str, str], default: str) -> tuple[str, str | None]:
    """A query argument among `labels`' keys: (value, None), or (default, message)."""
    value = request.args.get(name, "").strip() or default
    if value in labels:
        return value, None
    return default, _("Unknown choice %(value)s: showing %(default)s.", value=value[:40],
                      default=labels[default])


def division_labels() -> dict[str, str]:
    return {OLD: _("Before 1 July 2025 (districts and communes)"),
            NEW: _("From 1 July 2025 (merged communes)")}


@bp.get("/map")
@roles_required("staff", "supervisor")
def index():
    """The map of today's figure chosen in the form (default: F0, old division)."""
    figure, figure_error = choice("figure", {k: f.label for k, f in FIGURES.items()},
                                  next(iter(FIGURES)))
    division, division_error = choice("division", division_labels(), OLD)
    ctx = context()
    data = map_data(ctx.db, figure, division, local_today(ctx.clock.now()),
                    ctx.settings.timezone)
    audit_event("map.view", object_type="map", object_id=figure, division=division)
    return render_template(
        "map/index.html", data=data, chart=map_chart(data), figures=FIGURES,
        divisions=division_labels(), errors=[e for e in (figure_error, division_error) if e],
        unplaced=None if data.unplaced is None else format_value(data.unplaced, "count"),
        format_value=format_value)
