"""One bid for the scheduler lease from its own process, on a clock shifted by SECONDS.

Run as `python -m tests.unit.lease_probe URL HOLDER SECONDS TTL`; prints 1 if the lease was
taken or renewed, 0 if another holder has it. Test code only: a host whose clock is wrong.
"""

from __future__ import annotations

import sys
from datetime import timedelta

from callengine.clock import SystemClock
from callengine.scheduler import DailyScheduler, run_daily_plan
from callengine.store.db import Database


def main(url: str, holder: str, shift: str, ttl: str) -> None:
    moved = timedelta(seconds=float(shift))
    real_now = SystemClock.now
    SystemClock.now = lambda self: real_now(self) + moved  # type: ignore[method-assign]
    db = Database(url, auto_migrate=False)
    try:
        scheduler = DailyScheduler(db, holder, "07:30", "Asia/Ho_Chi_Minh", run_daily_plan,
                                   ttl=float(ttl))
        print(1 if scheduler.renew() else 0)
    finally:
        db.dispose()


if __name__ == "__main__":
    main(*sys.argv[1:])
