"""Time as a collaborator: code takes a Clock, only SystemClock reads the real time."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC datetime."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin, never going back."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def monotonic(self) -> float:
        return time.monotonic()


def to_db(moment: datetime) -> datetime:
    """Naive UTC, as the database stores it."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def from_db(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc)
