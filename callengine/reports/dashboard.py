"""The dashboard: today's plan and progress, live channels, 14 days of outcomes, per area."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime

from callengine.clock import to_db
from callengine.reports import figures as fig
from callengine.reports.live import ChannelUse, live_counts, server_use, trunk_use
from callengine.reports.localday import day_range, local_time
from callengine.reports.series import DayOutcomes, SeriesCache, outcome_series
from callengine.settings import Settings
from callengine.store.db import Database

SERIES_CACHE = SeriesCache()  # the process's cache of days that are over
# Today's figures by district and commune join the day's tasks to every person: the one part
# of the page no index makes cheap at a province's size (about 70 ms on PostgreSQL with
# 200,000 people). They are kept a minute; the totals and live channels are always counted.
AREA_CACHE = SeriesCache(ttl=60.0)


@dataclass(frozen=True)
class Dashboard:
    """Everything the `/` page and `callengine dashboard` show, as plain values."""

    day: date
    generated_at: datetime  # local time
    paused: bool | None  # None: the caller did not say
    totals: fig.Figures
    trunks: tuple[ChannelUse, ...]
    servers: tuple[ChannelUse, ...]
    series: tuple[DayOutcomes, ...]
    districts: tuple[fig.AreaFigures, ...]
    communes: tuple[fig.AreaFigures, ...]

    def to_dict(self) -> dict:
        """JSON-ready: dates and times as ISO 8601 strings."""
        return _jsonable(dataclasses.asdict(self))


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class LiveFigures:
    """What the dashboard re-reads every few seconds: totals, live channels, paused."""

    day: date
    generated_at: datetime  # local time
    paused: bool | None
    totals: fig.Figures
    trunks: tuple[ChannelUse, ...]

    def to_dict(self) -> dict:
        """JSON-ready: dates and times as ISO 8601 strings."""
        return _jsonable(dataclasses.asdict(self))


def dashboard_live(db: Database, day: date, now: datetime, settings: Settings, *,
                   paused: bool | None = None,
                   channel_limits: dict[str, int] | None = None) -> LiveFigures:
    """The light read for polling: the day's totals (no areas, no chart) and live channels."""
    tz = settings.timezone
    start, end = day_range(day, tz)
    with db.session() as s:
        totals = fig.task_totals(s, day) + fig.flag_totals(s, start, end)
        live = live_counts(s)
    return LiveFigures(day=day, generated_at=local_time(to_db(now), tz), paused=paused,
                       totals=totals, trunks=trunk_use(live, settings, channel_limits))


def dashboard(db: Database, day: date, now: datetime, settings: Settings, *,
              paused: bool | None = None,
              channel_limits: dict[str, int] | None = None,
              series_cache: SeriesCache | None = SERIES_CACHE,
              area_cache: SeriesCache | None = AREA_CACHE) -> Dashboard:
    """The dashboard of `day`; `channel_limits` overrides the trunks' max_channels.

    Days of the chart that are over come from `series_cache`, the figures per area from
    `area_cache` (None: always counted); the totals are always counted.
    """
    tz = settings.timezone
    start, end = day_range(day, tz)
    today = local_time(to_db(now), tz).date()
    with db.session() as s:
        totals = fig.task_totals(s, day) + fig.flag_totals(s, start, end)
        by_area = _areas(s, day, start, end, area_cache, str(db.engine.url))
        live = live_counts(s)
        series = outcome_series(s, day, tz, today=today, cache=series_cache,
                                scope=str(db.engine.url))
    return Dashboard(
        day=day, generated_at=local_time(to_db(now), tz), paused=paused,
        totals=totals, trunks=trunk_use(live, settings, channel_limits),
        servers=server_use(live), series=series,
        districts=fig.districts(by_area), communes=fig.communes(by_area),
    )


def _areas(s, day: date, start: datetime, end: datetime, cache: SeriesCache | None,
           scope: str) -> dict[tuple, fig.Figures]:
    key = ("areas", scope, day)
    cached = cache.get(key) if cache is not None else None
    if cached is None:
        cached = fig.merge(fig.task_figures(s, day), fig.flag_figures(s, start, end))
        if cache is not None:
            cache.put(key, cached)
    return cached
