"""When to try again after each outcome (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from callengine.dialer import outcome as oc
from callengine.settings import Settings

_ONCE = {oc.PARTIAL, oc.REJECTED}
_BACKOFF = {oc.CONGESTION, oc.FAILED}


@dataclass(frozen=True)
class RetryPolicy:
    delays: dict[str, float]
    backoff_max: float
    max_attempts: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            delays={
                oc.BUSY: settings.retry_busy,
                oc.NO_ANSWER: settings.retry_no_answer,
                oc.CONGESTION: settings.retry_congestion,
                oc.FAILED: settings.retry_failed,
                oc.PARTIAL: settings.retry_partial,
                oc.REJECTED: settings.retry_rejected,
            },
            backoff_max=settings.retry_congestion_max,
            max_attempts=settings.max_attempts_per_day,
        )

    def next_attempt(self, history: list[str], ended_at: datetime) -> datetime | None:
        """When to call again given today's outcomes so far (last = the latest), or None."""
        latest = history[-1]
        if latest in oc.FINAL or len(history) >= self.max_attempts:
            return None
        same = history.count(latest)
        if latest in _ONCE and same > 1:
            return None
        delay = self.delays[latest]
        if latest in _BACKOFF:
            delay = min(delay * 2 ** (same - 1), max(self.backoff_max, delay))
        return ended_at + timedelta(seconds=delay)
