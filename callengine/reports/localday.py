"""Local days (the settings' time zone) as naive-UTC ranges the database can compare with."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case
from sqlalchemy.sql.elements import SQLCoreOperations

from callengine.clock import from_db, to_db


def day_start(day: date, tz: str) -> datetime:
    """Local midnight of `day`, as the database stores datetimes (naive UTC)."""
    return to_db(datetime.combine(day, time(0), ZoneInfo(tz)))


def day_range(day: date, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of a local day in naive UTC."""
    return day_start(day, tz), day_start(day + timedelta(days=1), tz)


def days_ending(day: date, count: int) -> list[date]:
    """The `count` local days up to and including `day`, oldest first."""
    return [day - timedelta(days=count - 1 - i) for i in range(count)]


def day_index(column: SQLCoreOperations[datetime], days: list[date],
              tz: str) -> ColumnElement[int]:
    """The position in `days` of the local day a stored datetime falls on (portable SQL).

    Comparisons against each day's start, so any time zone (with or without DST) is exact and
    an index on the column still bounds the scan; rows outside the days must be filtered out.
    """
    starts = [day_start(d, tz) for d in days[1:]]
    return case(*((column < start, i) for i, start in enumerate(starts)), else_=len(days) - 1)


def local_time(stored: datetime, tz: str) -> datetime:
    """A stored naive-UTC datetime as an aware local one."""
    return from_db(stored).astimezone(ZoneInfo(tz))
