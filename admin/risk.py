"""Staff pages of the business risk self-assessment: a venue's "Đánh giá nguy cơ" section
(latest result, history, the business's link), the form filled in by staff for a venue, and
/venues/risk, the venues whose latest assessment is high or very high, by district. Audited."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _

from callengine.health.errors import InvalidForm, NotFound
from callengine.health.risk import (
    flagged_venues,
    record_assessment,
    risk_token,
    risk_url,
    rotate_risk_token,
    venue_history,
)
from callengine.health.risk_criteria import default_criteria
from callengine.health.venues import VenueView, get_venue
from callengine.paging import InvalidCursor
from admin import venues
from admin.access import roles_required
from admin.context import actor, audit_event, context

bp = Blueprint("risk", __name__, url_prefix="/venues")
STAFF = roles_required("staff", "supervisor")  # as the venue pages
PAGE_SIZE = 50
HISTORY = 20


def venue_risk_context(venue: VenueView) -> dict:
    """What the venue page's risk section shows."""
    ctx = context()
    token = risk_token(ctx.db, venue.id, now=ctx.clock.now())
    history = venue_history(ctx.db, venue.id, limit=HISTORY)
    return {"risk_history": history, "risk_latest": history[0] if history else None,
            "risk_link": risk_url(ctx.settings.public_url, token) if ctx.settings.public_url
            else None, "risk_path": url_for("risk_public.form", token=token),
            "risk_criteria": default_criteria()}


venues.VENUE_SECTIONS.append("risk/_venue_section.html")
venues.VENUE_SECTION_CONTEXT.append(venue_risk_context)
venues.ON_ROTATE.append(
    lambda venue_id: rotate_risk_token(context().db, venue_id, now=context().clock.now()))


def _venue_or_404(venue_id: int) -> VenueView:
    try:
        return get_venue(context().db, venue_id)
    except NotFound:
        abort(404)


def _form_page(venue: VenueView, values: dict, errors: dict, status: int = 200):
    return render_template("risk/staff_form.html", venue=venue, criteria=default_criteria(),
                           values=values, errors=errors), status


@bp.route("/<int:venue_id>/risk", methods=["GET", "POST"])
@STAFF
def assess(venue_id: int):
    """Staff fill in the self-assessment for a venue (e.g. on a visit or by phone)."""
    venue = _venue_or_404(venue_id)
    if request.method == "GET":
        return _form_page(venue, {}, {})
    criteria = default_criteria()
    answers = {c.id: request.form.get(c.id, "") for c in criteria.criteria}
    ctx = context()
    try:
        saved = record_assessment(ctx.db, venue_id, answers, submitted_by=actor().username,
                                  now=ctx.clock.now())
    except InvalidForm as error:
        return _form_page(venue, request.form.to_dict(), error.errors, 422)
    audit_event("risk.assess", object_type="venue", object_id=venue_id,
                assessment=saved.id, band=saved.band.code)
    flash(_("Assessment saved: %(band)s (%(index)s %%).", band=saved.band.label,
            index=format_decimal(saved.index_percent)), "error" if saved.flagged else "success")
    if saved.alerts:
        flash(_("Components to fix first: %(names)s", names=", ".join(
            c.text for c in criteria.criteria if c.id in saved.alerts)), "error")
    return redirect(url_for("venues.detail", venue_id=venue_id), 303)


@bp.get("/risk")
@STAFF
def index():
    """Venues whose latest assessment is high or very high, by name; ?district= filters."""
    district = (request.args.get("district") or "").strip()[:100] or None
    try:
        page = flagged_venues(context().db, district=district,
                              after=request.args.get("cursor") or None, limit=PAGE_SIZE)
    except InvalidCursor as error:
        flash(str(error), "error")
        return render_template("risk/index.html", items=(), next=None,
                               district=district), 400
    audit_event("risk.list", district=district, results=len(page.items))
    return render_template("risk/index.html", items=page.items, next=page.next,
                           district=district)
