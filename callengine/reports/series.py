"""Attempt outcomes per local day over the last days, for the dashboard's chart."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

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


class SeriesCache:
    """Counts of days that are over, kept `ttl` seconds (so late reconciliations show up)."""

    def __init__(self, ttl: float = 600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self._clock = ttl, clock
        self._entries: dict[tuple, tuple[float, dict]] = {}

    def get(self, key: tuple) -> dict | None:
        entry = self._entries.get(key)
        if entry is None or self._clock() - entry[0] > self.ttl:
            return None
        return entry[1]

    def put(self, key: tuple, counts: dict) -> None:
        if len(self._entries) > 10_000:  # many databases or time zones: start again
            self._entries.clear()
        self._entries[key] = (self._clock(), counts)


def day_counts(s: Session, days: list[date], tz: str) -> dict[date, dict[str, int]]:
    """Ended attempts per outcome on each of consecutive local days, in one GROUP BY."""
    start, end = day_range(days[0], tz)[0], day_range(days[-1], tz)[1]
    keys: list[Any] = [CallAttempt.outcome]
    if len(days) > 1:
        keys.insert(0, day_index(CallAttempt.created_at, days, tz).label("bucket"))
    rows = s.execute(
        select(*keys, func.count())
        .where(CallAttempt.created_at >= start, CallAttempt.created_at < end,
               CallAttempt.outcome.is_not(None))
        .group_by(*keys)
    ).all()
    counts = {day: dict.fromkeys(OUTCOMES, 0) for day in days}
    for *index, outcome, n in rows:
        day = days[index[0]] if index else days[0]
        if outcome in counts[day]:
            counts[day][outcome] += n
    return counts


def outcome_series(s: Session, last_day: date, tz: str, *, today: date,
                   cache: SeriesCache | None = None, scope: str = "",
                   days: int = SERIES_DAYS) -> tuple[DayOutcomes, ...]:
    """Outcomes per day for the `days` local days up to `last_day`; days without calls are 0.

    Days before `today` are over: with a cache, they are read once per `cache.ttl` (the
    key includes `scope`, the database); the others are counted every time.
    """
    span = days_ending(last_day, days)
    counts = {}
    if cache is not None:
        counts = {d: c for d in span if d < today
                  and (c := cache.get((scope, tz, d))) is not None}
    missing = [d for d in span if d not in counts]
    for run in _consecutive(missing):
        fresh = day_counts(s, run, tz)
        counts |= fresh
        if cache is not None:
            for d in run:
                if d < today:
                    cache.put((scope, tz, d), fresh[d])
    return tuple(DayOutcomes(d, dict(counts[d])) for d in span)


def _consecutive(days: list[date]) -> list[list[date]]:
    """Sorted days cut into runs of consecutive days."""
    runs: list[list[date]] = []
    for d in days:
        if runs and (d - runs[-1][-1]).days == 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return runs
