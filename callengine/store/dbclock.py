"""The database's own clock, in SQL: one time for every process sharing the database.

Leases between processes compare against it, so that two hosts whose clocks differ agree on
when a lease expires. Values are naive UTC, as every DateTime column stores them.
"""

from __future__ import annotations

import math

from sqlalchemy import DateTime
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class utc_now(FunctionElement):  # noqa: N801 (an SQL function, named like one)
    """The database's current UTC time plus `seconds` (naive, like the stored values)."""

    type = DateTime()
    inherit_cache = True

    def __init__(self, seconds: float = 0.0) -> None:
        if not math.isfinite(seconds):
            raise ValueError(f"utc_now: {seconds!r} is not a finite number of seconds")
        self.seconds = float(seconds)
        super().__init__()


@compiles(utc_now, "postgresql")
def _postgresql(element: utc_now, compiler, **kw) -> str:
    return f"(timezone('utc', now()) + interval '{element.seconds:.6f} seconds')"


@compiles(utc_now, "sqlite")
def _sqlite(element: utc_now, compiler, **kw) -> str:
    # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff': %f gives SS.SSS.
    return f"(strftime('%Y-%m-%d %H:%M:%f', 'now', '{element.seconds:+.3f} seconds') || '000')"
