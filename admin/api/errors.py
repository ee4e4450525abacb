"""JSON errors of the API: {"error": {"code": ..., "message": <Vietnamese or English>}}."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from werkzeug.exceptions import HTTPException

from callengine.paging import InvalidCursor

CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    422: "invalid", 429: "too_many_requests", 500: "internal_error",
}


class ApiError(HTTPException):
    """Raise from an API view: a status, a stable machine code, a user-facing message."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(description=message)
        self.code = status
        self.error_code = code
        self.extra = extra


def json_error(error: HTTPException, default_message: str):
    """The JSON response for any HTTP error raised under /api/."""
    status = error.code or 500
    body: dict[str, Any] = {
        "code": getattr(error, "error_code", CODES.get(status, "error")),
        "message": error.description if isinstance(error, ApiError) else default_message,
    }
    body.update(getattr(error, "extra", {}))
    response = jsonify({"error": body})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="callengine"'
    valid_methods = getattr(error, "valid_methods", None)  # a MethodNotAllowed's
    if status == 405 and valid_methods:
        response.headers["Allow"] = ", ".join(valid_methods)
    retry = getattr(error, "retry_after", None)
    if retry:
        response.headers["Retry-After"] = str(retry)
    return response


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 400 that says the body is not one."""
    from flask_babel import gettext as _

    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", _("The request body must be a JSON object."))
    return data


def invalid(field: str, message: str) -> ApiError:
    """A 422 naming the field whose value is refused."""
    return ApiError(422, "invalid", message, field=field)


def bad_cursor(error: InvalidCursor) -> ApiError:
    """The 400 for a cursor this API did not produce."""
    return ApiError(400, "bad_cursor", str(error))
