"""The public check-in page /c/<token>: no account, Vietnamese, no JavaScript, a few KB.

A visitor who scanned a venue's poster gives a name, a phone and an optional national ID and
ticks what applies in the health declaration. Limits per client address (from the audit
log) and per venue (new check-ins) answer 429. The form's CSRF token is checked here, so a
refused form gets this page's own Vietnamese message. The page shows the visitor's own
answers only; "remember my phone" keeps the phone, and only it, in an HttpOnly cookie.
"""

from __future__ import annotations

from flask import Blueprint, Flask, make_response, render_template, request
from flask_wtf.csrf import ValidationError, validate_csrf

from callengine.health.checkins import (
    CHECKIN_REFUSED,
    CHECKIN_SENT,
    DECLARATION,
    DECLARATION_LABELS,
    SYMPTOMS,
    check_in,
    read_visitor,
    venue_retry_after,
)
from callengine.health.errors import InvalidForm
from callengine.health.venues import (
    TOKEN_INACTIVE,
    TOKEN_ROTATED,
    VenueView,
    find_by_token,
)
from callengine.phones import InvalidPhone, normalize_phone
from callengine.throttle import retry_after
from admin.access import public
from admin.context import actor, audit_event, client_address, context
from admin.security import csrf

bp = Blueprint("checkin", __name__)
PHONE_COOKIE = "checkin_phone"
PHONE_COOKIE_DAYS = 180
NOT_THERE = {
    TOKEN_ROTATED: (410, "Mã QR này đã được thay bằng mã mới, xin quét mã dán tại địa điểm."),
    TOKEN_INACTIVE: (410, "Địa điểm này đã ngừng nhận khai báo."),
}
UNKNOWN = (404, "Không tìm thấy địa điểm của mã này. Xin kiểm tra lại mã hoặc quét mã QR "
                "dán tại địa điểm.")
EXPIRED = "Trang khai báo đã hết hạn. Xin tải lại trang rồi gửi lại."
BUSY = "Có quá nhiều lượt khai báo cùng lúc. Xin đợi vài phút rồi gửi lại."


def configure(app: Flask) -> None:
    """The check-in form checks its own CSRF token (to answer in its own words)."""
    csrf(app).exempt(bp)


def message_page(status: int, text: str, retry: int | None = None, *,
                 heading: str = "Khai báo y tế"):
    """A public page that only says something (why not, wait, expired), in Vietnamese."""
    response = make_response(render_template("checkin/message.html", message=text,
                                             heading=heading), status)
    if retry:
        response.headers["Retry-After"] = str(retry)
    return response


def refused_post(venue_id: int, wait: int | None, *, busy: str, expired: str, refused: str,
                 heading: str = "Khai báo y tế"):
    """The answer to a public form's POST that must stop here (over a limit: 429; no valid
    CSRF token: 400, audited as `refused`), or None when it may go on."""
    if wait:
        return message_page(429, busy, wait, heading=heading)
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        audit_event(refused, object_type="venue", object_id=venue_id, reason="csrf")
        return message_page(400, expired, heading=heading)
    return None


def _venue(token: str) -> VenueView | tuple[int, str]:
    found = find_by_token(context().db, token)
    if found.venue is not None:
        return found.venue
    return NOT_THERE.get(found.status, UNKNOWN)


def _remembered_phone() -> str:
    try:
        return normalize_phone(request.cookies.get(PHONE_COOKIE, "")).national()
    except InvalidPhone:
        return ""


def _form(venue: VenueView, values: dict, errors: dict[str, str], status: int = 200):
    return make_response(render_template(
        "checkin/form.html", venue=venue, values=values, errors=errors, items=DECLARATION,
        labels=DECLARATION_LABELS, retention=context().settings.checkin_retention_days), status)


@bp.get("/c/<token>")
@public
def form(token: str):
    """The check-in form of the venue this code names, or why there is none."""
    venue = _venue(token)
    if isinstance(venue, tuple):
        return message_page(*venue)
    phone = _remembered_phone()
    return _form(venue, {"phone": phone, "remember": bool(phone)}, {})


def _throttled(venue_id: int) -> int | None:
    ctx = context()
    per_client, per_venue = ctx.settings.checkin_rates
    return (retry_after(ctx.db, ctx.clock, (CHECKIN_SENT, CHECKIN_REFUSED), per_client,
                        address=client_address())
            or venue_retry_after(ctx.db, venue_id, ctx.clock.now(), per_venue))


def _thanks(venue: VenueView, declared: frozenset[str], phone: str, remember: bool):
    symptoms = [DECLARATION_LABELS[item] for item in SYMPTOMS if item in declared]
    response = make_response(render_template("checkin/thanks.html", venue=venue,
                                             symptoms=symptoms))
    if remember:
        response.set_cookie(PHONE_COOKIE, phone, max_age=PHONE_COOKIE_DAYS * 86400,
                            path="/c/", httponly=True, samesite="Lax",
                            secure=context().settings.admin_secure_cookies)
    elif PHONE_COOKIE in request.cookies:
        response.delete_cookie(PHONE_COOKIE, path="/c/")
    return response


@bp.post("/c/<token>")
@public
def submit(token: str):
    """Record the check-in (a repeat within 30 minutes is merged) and thank the visitor."""
    venue = _venue(token)
    if isinstance(venue, tuple):
        return message_page(*venue)
    stop = refused_post(venue.id, _throttled(venue.id), busy=BUSY, expired=EXPIRED,
                        refused=CHECKIN_REFUSED)
    if stop is not None:
        return stop
    try:
        visitor = read_visitor(request.form)
    except InvalidForm as error:
        audit_event(CHECKIN_REFUSED, object_type="venue", object_id=venue.id,
                    fields=sorted(error.errors))
        return _form(venue, request.form.to_dict(), error.errors, 422)
    ctx = context()
    check_in(ctx.db, venue.id, visitor, now=ctx.clock.now(), tz=ctx.settings.timezone,
             actor=actor())  # its audit row, counted by the per-client limit, goes with it
    return _thanks(venue, visitor.declared, visitor.phone.e164, "remember" in request.form)

