"""Database hiccups: which errors pass (a lost connection, a held write lock) and how long to
wait before trying again (exponential backoff, capped). Pure: no I/O, no clock."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

_LOCKED = ("database is locked", "database table is locked")


def is_write_lock(exc: BaseException) -> bool:
    """SQLite's refusal to write while another connection holds the lock past busy_timeout."""
    return isinstance(exc, OperationalError) and any(text in str(exc.orig) for text in _LOCKED)


def is_transient(exc: BaseException) -> bool:
    """An error that says nothing about the data: the database is briefly unreachable or busy."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


class Backoff:
    """Delays between tries that double from `initial` up to `cap`; one episode at a time."""

    def __init__(self, initial: float = 0.5, cap: float = 30.0) -> None:
        self.initial, self.cap = initial, cap
        self.failures = 0  # in the current episode
        self._next = initial

    def failed(self) -> float:
        """Record a failure; return the seconds to wait before the next try."""
        self.failures += 1
        delay, self._next = self._next, min(self._next * 2, self.cap)
        return delay

    @property
    def episode_started(self) -> bool:
        """True right after the first failure of an episode (the one to log)."""
        return self.failures == 1

    def succeeded(self) -> int:
        """End the episode; return how many failures it had (0: there was none)."""
        failures, self.failures, self._next = self.failures, 0, self.initial
        return failures
