"""The dashboard: today's plan and progress, live channels, 14 days of outcomes, per area."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime

from callengine.reports import figures as fig
from callengine.reports.live import ChannelUse, live_counts, server_use, trunk_use
from callengine.reports.localday import day_range, local_time
from callengine.reports.series import DayOutcomes, outcome_series
from callengine.clock import to_db
from callengine.settings import Settings
from callengine.store.db import Database


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


def dashboard(db: Database, day: date, now: datetime, settings: Settings, *,
              paused: bool | None = None,
              channel_limits: dict[str, int] | None = None) -> Dashboard:
    """Today's dashboard; `channel_limits` overrides the settings' per-trunk max_channels."""
    tz = settings.timezone
    start, end = day_range(day, tz)
    with db.session() as s:
        by_area = fig.merge(fig.task_figures(s, day), fig.flag_figures(s, start, end))
        live = live_counts(s)
        series = outcome_series(s, day, tz)
    return Dashboard(
        day=day, generated_at=local_time(to_db(now), tz), paused=paused,
        totals=fig.total(by_area), trunks=trunk_use(live, settings, channel_limits),
        servers=server_use(live), series=series,
        districts=fig.districts(by_area), communes=fig.communes(by_area),
    )
