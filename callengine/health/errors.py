"""Errors of the health records: each message is Vietnamese and names what is wrong."""

from __future__ import annotations

from callengine.errors import CallengineError


class HealthError(CallengineError):
    """A request cannot be done; the message (Vietnamese) says why."""

    code = "invalid"  # a machine code for the API


class NotFound(HealthError):
    code = "not_found"


class InvalidInput(HealthError):
    """Bad input; `field` names the field the message is about."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class InvalidForm(HealthError):
    """Several fields are wrong at once: `errors` maps each to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors
