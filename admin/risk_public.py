"""The public risk self-assessment /v/<token>/risk: no account, Vietnamese, no JavaScript.

A business reaches it from its own link (given by staff from its venue page), answers each
criterion and reads its score, band and what it must do. The form checks its own CSRF token
(to answer in its own words) and shares the check-in page's throttle: limits per client
address (from the audit log) and per venue answer 429.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Flask, make_response, render_template, request

from callengine.health.errors import InvalidForm
from callengine.health.risk import (
    RISK_REFUSED,
    RISK_SENT,
    assessments_since,
    find_by_risk_token,
    record_assessment,
    submitter,
)
from callengine.health.risk_criteria import default_criteria
from callengine.health.venues import TOKEN_INACTIVE, TOKEN_ROTATED, VenueView
from callengine.throttle import retry_after
from admin.access import public
from admin.checkin import message_page, refused_post
from admin.context import actor, audit_event, client_address, context
from admin.security import csrf

bp = Blueprint("risk_public", __name__)
NOT_THERE = {
    TOKEN_ROTATED: (410, "Đường dẫn đánh giá này đã được thay bằng đường dẫn mới. Xin hỏi "
                         "cơ quan y tế đường dẫn mới."),
    TOKEN_INACTIVE: (410, "Địa điểm này đã ngừng hoạt động trên hệ thống."),
}
UNKNOWN = (404, "Không tìm thấy cơ sở của đường dẫn này. Xin kiểm tra lại đường dẫn.")
EXPIRED = "Trang đánh giá đã hết hạn. Xin tải lại trang rồi gửi lại."
BUSY = "Có quá nhiều lượt gửi đánh giá. Xin đợi một lúc rồi gửi lại."
HEADING = "Đánh giá nguy cơ lây nhiễm"


def configure(app: Flask) -> None:
    """The form checks its own CSRF token (to answer in its own words)."""
    csrf(app).exempt(bp)


def _message(status: int, text: str):
    return message_page(status, text, heading=HEADING)


def _venue(token: str) -> VenueView | tuple[int, str]:
    found = find_by_risk_token(context().db, token)
    return found.venue if found.venue is not None else NOT_THERE.get(found.status, UNKNOWN)


def _form(venue: VenueView, token: str, values: dict, errors: dict[str, str],
          status: int = 200):
    return make_response(render_template(
        "risk/public_form.html", venue=venue, token=token, criteria=default_criteria(),
        values=values, errors=errors), status)


def _throttled(venue_id: int) -> int | None:
    ctx = context()
    per_client, (per_venue, span) = ctx.settings.risk_rates
    now = ctx.clock.now()
    if assessments_since(ctx.db, venue_id, now - timedelta(seconds=span)) >= per_venue:
        return int(span)
    return retry_after(ctx.db, ctx.clock, (RISK_SENT, RISK_REFUSED), per_client,
                       address=client_address())


@bp.get("/v/<token>/risk")
@public
def form(token: str):
    """The self-assessment form of the venue this link names, or why there is none."""
    venue = _venue(token)
    if isinstance(venue, tuple):
        return _message(*venue)
    return _form(venue, token, {}, {})


@bp.post("/v/<token>/risk")
@public
def submit(token: str):
    """Score and keep the assessment; show the score, the band and the advice."""
    venue = _venue(token)
    if isinstance(venue, tuple):
        return _message(*venue)
    stop = refused_post(venue.id, _throttled(venue.id), busy=BUSY, expired=EXPIRED,
                        refused=RISK_REFUSED, heading=HEADING)
    if stop is not None:
        return stop
    answers = {c.id: request.form.get(c.id, "") for c in default_criteria().criteria}
    try:
        by = submitter(answers, request.form.get("submitted_by"))
        ctx = context()
        saved = record_assessment(ctx.db, venue.id, answers, submitted_by=by,
                                  now=ctx.clock.now(), actor=actor())
    except InvalidForm as error:
        audit_event(RISK_REFUSED, object_type="venue", object_id=venue.id,
                    fields=sorted(error.errors))
        return _form(venue, token, request.form.to_dict(), error.errors, 422)
    return render_template("risk/public_result.html", venue=venue, assessment=saved,
                           criteria=default_criteria())
