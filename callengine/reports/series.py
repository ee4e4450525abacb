"""Attempt outcomes per local day over the last days, for the dashboard's chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callengine.reports.localday import day_index, day_range, days_ending
from callengine.store.models import OUTCOMES, CallAttempt

SERIES_DAYS = 14


@dataclass(frozen=True)
class DayOutcomes:
    """One local day's ended attempts, counted per outcome (every outcome present)."""

    day: date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def outcome_series(s: Session, last_day: date, tz: str,
                   days: int = SERIES_DAYS) -> tuple[DayOutcomes, ...]:
    """Outcomes per day for the `days` local days up to `last_day`; days without calls are 0."""
    span = days_ending(last_day, days)
    start, end = day_range(span[0], tz)[0], day_range(last_day, tz)[1]
    bucket = day_index(CallAttempt.created_at, span, tz).label("bucket")
    rows = s.execute(
        select(bucket, CallAttempt.outcome, func.count())
        .where(CallAttempt.created_at >= start, CallAttempt.created_at < end,
               CallAttempt.outcome.is_not(None))
        .group_by(bucket, CallAttempt.outcome)
    ).all()
    counts = [dict.fromkeys(OUTCOMES, 0) for _ in span]
    for index, outcome, n in rows:
        if outcome in counts[index]:
            counts[index][outcome] += n
    return tuple(DayOutcomes(day, c) for day, c in zip(span, counts))
