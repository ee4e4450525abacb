"""Error pages in the user's language; JSON errors under /api/."""

from __future__ import annotations

import logging
import traceback

from flask import Flask, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, InternalServerError

from admin.access import is_api_request
from admin.api.errors import json_error

MESSAGES = {
    400: _l("The request could not be understood. Reload the page and try again."),
    401: _l("Sign in first."),
    403: _l("Your role does not allow this page or action."),
    404: _l("This page does not exist."),
    405: _l("This action is not allowed here."),
    409: _l("Someone else changed this at the same time. Reload and try again."),
    413: _l("The file or request is too large (at most %(mb)d MB)."),
    422: _l("Some values are not valid."),
    429: _l("Too many attempts. Wait a minute and try again."),
    500: _l("Something went wrong on the server. The error was logged."),
}
API_MESSAGES = {
    401: _l("A valid API token is required (Authorization: Bearer <token>)."),
}
CSRF_MESSAGE = _l("The form has expired or is not valid. Reload the page and try again.")


def message_for(status: int, max_mb: int = 0) -> str:
    """The user-facing message of an HTTP status."""
    message = MESSAGES.get(status, MESSAGES[500 if status >= 500 else 400])
    return str(message) % {"mb": max_mb} if status == 413 else str(message)


def _handle(error: HTTPException):
    status = error.code or 500
    max_mb = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
    if is_api_request():
        return json_error(error, str(API_MESSAGES.get(status, message_for(status, max_mb))))
    message = message_for(status, max_mb)
    if error.__class__.__name__ == "CSRFError":
        message = str(CSRF_MESSAGE)
    return render_template("errors/error.html", status=status, message=message), status


def _handle_unexpected(error: Exception):
    """Log where it broke without the exception's text, which may quote personal data."""
    frames = "".join(traceback.format_tb(error.__traceback__))
    logging.getLogger("admin").error("unexpected %s in %s\n%s", type(error).__name__,
                                     request.endpoint, frames)
    return _handle(InternalServerError(original_exception=error))


def configure(app: Flask) -> None:
    """One handler for every HTTP error, and for anything unexpected."""
    app.register_error_handler(HTTPException, _handle)
    app.register_error_handler(Exception, _handle_unexpected)
