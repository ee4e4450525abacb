"""`/`: the dashboard every signed-in user lands on: today's plan and progress, whether the
campaign is paused, live channels per trunk, 14 days of outcomes, the same per area.

The page is complete without JavaScript; `static/dashboard.js` re-reads `/dashboard/live`
(totals, live channels, paused: the light read) and updates the figures in place.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, jsonify, render_template, url_for
from flask_babel import gettext as _

from callengine import campaign as campaign_service
from callengine.campaign import Campaign
from callengine.health.risk import flagged_count
from callengine.labels import FIGURE_LABELS, NO_COMMUNE, NO_DISTRICT
from callengine.reports import Dashboard, LiveFigures, dashboard, dashboard_live
from callengine.reports.series import SeriesCache
from callengine.vaccination.coverage import by_district, coverage_by_commune, province_total
from admin.access import any_role, may_use
from admin.charts import outcome_chart
from admin.context import context, local_today
from admin.i18n import format_moment

bp = Blueprint("home", __name__)  # "home.index": the nav's and the sign-in's landing page
TILES = ("planned", "dialled", "reached", "completed", "flagged", "urgent", "unreachable")
REFRESH_SECONDS = 10  # app.config["DASHBOARD_REFRESH_SECONDS"] overrides it
COVERAGE_CACHE = SeriesCache(ttl=60.0)  # vaccination coverage reads every person: a minute


def _campaign() -> tuple[Campaign, dict[str, int]]:
    """The campaign as engines obey it now, and its per-trunk channel limits."""
    ctx = context()
    current = campaign_service.current(ctx.db, ctx.settings)
    return current, {name: t.max_channels for name, t in current.trunks.items()}


def board_of(day: date) -> tuple[Dashboard, Campaign]:
    """The dashboard of a day, with the campaign's pause and channel limits."""
    ctx = context()
    current, limits = _campaign()
    board = dashboard(ctx.db, day, ctx.clock.now(), ctx.settings, paused=current.paused,
                      channel_limits=limits)
    return board, current


def campaign_status(current: Campaign) -> str:
    """One sentence: running, or paused by whom since when."""
    if not current.paused:
        return _("The campaign is running.")
    return _("The campaign is paused by %(name)s since %(when)s: no new call starts.",
             name=current.paused_by or "?", when=format_moment(current.paused_at))


@bp.get("/")
@any_role
def index():
    """Today's dashboard."""
    today = local_today(context().clock.now())
    board, current = board_of(today)
    coverage = coverage_by_commune(context().db, today, COVERAGE_CACHE)
    flags_link = (url_for("flags.queue", urgent="y") if may_use("flags.queue") else None)
    return render_template(
        "dashboard/index.html", board=board, campaign=current, status=campaign_status(current),
        chart=outcome_chart(board.series), tiles=TILES, columns=TILES,
        figure_labels=FIGURE_LABELS, no_district=NO_DISTRICT, no_commune=NO_COMMUNE,
        flags_link=flags_link, coverage=by_district(coverage),
        risk_flagged=flagged_count(context().db),
        coverage_total=province_total(coverage),
        refresh=current_app.config.get("DASHBOARD_REFRESH_SECONDS", REFRESH_SECONDS))


def live_json(live: LiveFigures, current: Campaign) -> dict:
    """What the page's script needs: figures, channels, the campaign's state in words."""
    return {**live.to_dict(), "status": campaign_status(current)}


@bp.get("/dashboard/live")
@any_role
def live():
    """The figures that change during the day, re-read by the page every few seconds."""
    ctx = context()
    now = ctx.clock.now()
    current, limits = _campaign()
    figures = dashboard_live(ctx.db, local_today(now), now, ctx.settings,
                             paused=current.paused, channel_limits=limits)
    return jsonify(live_json(figures, current))
