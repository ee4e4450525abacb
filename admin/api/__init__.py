"""The JSON API under /api/v1: bearer tokens only (cookies never authenticate it), no CSRF.

An API view is an ordinary view on `bp` with an access rule and an `@operation` note:

    @bp.get("/me")
    @any_role
    @operation("Tài khoản đang dùng mã truy cập", response="Me", schemas={"Me": ME})
    def me(): ...

Inside it, `current_user` is the token's user. Lists answer `list_response(page, fn)`.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Callable, TypeVar

from flask import Blueprint, Flask, current_app, g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from callengine.audit import Actor
from callengine.casework import paging as casework_paging
from callengine.paging import Page
from callengine.throttle import retry_after
from admin.access import any_role, is_api_request, public
from admin.api.errors import ApiError
from admin.api.openapi import document, operation
from admin.auth import SignedInUser
from admin.context import audit_event, client_address, context, local_today
from admin.security import csrf

T = TypeVar("T")
bp = Blueprint("api", __name__, url_prefix="/api/v1")
TOKEN_REJECTED = "api.token_rejected"
MAX_LIMIT = 200
ME = {"type": "object", "required": ["id", "username", "role"],
      "properties": {"id": {"type": "integer"}, "username": {"type": "string"},
                     "role": {"type": "string", "enum": ["admin", "supervisor", "staff"]}}}


def _bearer_token() -> str | None:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _token_principal() -> None:
    """For API requests, the user is the bearer token's, never the session's."""
    if not is_api_request():
        return
    g._login_user = current_app.login_manager.anonymous_user()  # type: ignore[attr-defined]
    token = _bearer_token()
    if token is None:
        return
    ctx = context()
    per_client = ctx.settings.admin_login_rates[1]
    wait = retry_after(ctx.db, ctx.clock, (TOKEN_REJECTED,), per_client,
                       address=client_address())
    if wait:
        error = ApiError(429, "too_many_requests",
                         _("Too many requests with a wrong token. Wait a minute."))
        error.retry_after = wait  # type: ignore[attr-defined]
        raise error
    account = ctx.accounts.user_for_token(token)
    if account is None:
        audit_event(TOKEN_REJECTED, who=Actor(None, "", client_address()))
        return
    g._login_user = SignedInUser(account)


def configure(app: Flask) -> None:
    """Token authentication for /api/; the API is exempt from CSRF (no cookies count)."""
    app.before_request(_token_principal)
    csrf(app).exempt(bp)


def limit_arg(default: int = 50) -> int:
    """The `limit` query argument, 1..200."""
    raw = request.args.get("limit", str(default))
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiError(422, "invalid", _("limit must be a whole number from 1 to %(max)d.",
                                         max=MAX_LIMIT), field="limit")
    return int(raw)


def day_arg(raw: str | None, refuse: Callable[[str], Exception]) -> date:
    """A day written YYYY-MM-DD (a query or form value); today, locally, when empty."""
    raw = (raw or "").strip()
    if not raw:
        return local_today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise refuse(_("date must be a day written YYYY-MM-DD.")) from None


def cursor_arg() -> str | None:
    """The `cursor` query argument (a list's `next`), if any."""
    return request.args.get("cursor") or None


def list_response(page: Page[T] | casework_paging.Page[T],
                  serialize: Callable[[T], dict[str, Any]]):
    """{"items": [...], "next": cursor or null}."""
    return jsonify({"items": [serialize(item) for item in page.items], "next": page.next})


@bp.get("/me")
@any_role
@operation("Tài khoản của mã truy cập đang dùng", response="Me", schemas={"Me": ME})
def me():
    """Who the token belongs to."""
    return jsonify({"id": current_user.id, "username": current_user.username,
                    "role": current_user.role})


@bp.get("/openapi.json")
@public
def openapi():
    """The OpenAPI 3 document of this API."""
    return jsonify(document(current_app))


from admin.api import flags as _flags  # noqa: E402,F401  (its routes are on bp)
from admin.api import reports as _reports  # noqa: E402,F401  (its routes are on bp)
