"""Domain errors of casework: each message is Vietnamese and says what to do."""

from __future__ import annotations

from typing import TYPE_CHECKING

from callengine.errors import CallengineError

if TYPE_CHECKING:
    from callengine.casework.flag_actions import FlagState


class CaseworkError(CallengineError):
    """A request staff made cannot be done; the message (Vietnamese) says why."""

    code = "invalid"  # a machine code for the API


class NotFound(CaseworkError):
    code = "not_found"


class InvalidRequest(CaseworkError):
    """Bad input: an unknown action, filter or cursor, a missing note or reason."""

    code = "invalid"


class BadCursor(InvalidRequest):
    """A page cursor this code did not produce (the list must be reloaded from the top)."""

    code = "bad_cursor"


class NotAllowedNow(CaseworkError):
    """The request is valid but the state forbids it (window closed, already closed...)."""

    code = "not_allowed"


class FlagConflict(CaseworkError):
    """Someone else changed the flag since it was read; `current` is its state now."""

    code = "conflict"

    def __init__(self, message: str, current: FlagState) -> None:
        super().__init__(message)
        self.current = current
