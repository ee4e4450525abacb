"""Cookies, CSRF, request size, security headers and proxies."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, abort, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from callengine.settings import Settings

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "media-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'",
    "frame-ancestors 'none'",
))
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def configure(app: Flask, settings: Settings) -> None:
    """Session cookie flags, CSRF protection, the body limit and the headers."""
    app.config.update(
        SECRET_KEY=settings.admin_secret_key,
        SESSION_COOKIE_NAME="callengine_admin",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.admin_secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=settings.admin_session_idle_timeout),
        SESSION_REFRESH_EACH_REQUEST=True,
        MAX_CONTENT_LENGTH=settings.admin_max_request_mb * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the (idle-limited) session
        # Referrer-Policy: no-referrer means browsers send no Referer, which the strict HTTPS
        # check needs; the session-bound token and SameSite=Lax protect the forms.
        WTF_CSRF_SSL_STRICT=False,
    )
    if settings.admin_trusted_proxies:
        hops = settings.admin_trusted_proxies
        proxied = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
        app.wsgi_app = proxied  # type: ignore[method-assign]
    app.before_request(_refuse_large_bodies)
    CSRFProtect(app)
    app.after_request(_add_headers)


def _refuse_large_bodies() -> None:
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        abort(413)


def _add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


def csrf(app: Flask) -> CSRFProtect:
    """The app's CSRF extension (to exempt the token API)."""
    return app.extensions["csrf"]
