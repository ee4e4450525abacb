"""The record of daily plan runs: one scheduled or catch-up run per day, whoever tries.

The scheduler lease already lets one process at a time lead; this record makes the daily
plan itself run once per day across lease hand-overs, restarts and APScheduler misfires:
a daily run begins by inserting its day into a unique column, which only one insert can do.
A run that failed gives its day back; one left `running` by a process that died is taken
over once it is older than STALE_RUN.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from callengine.clock import to_db
from callengine.store.db import Database
from callengine.store.supervision import (
    PLAN_DONE,
    PLAN_FAILED,
    PLAN_MANUAL,
    PLAN_RUNNING,
    PlanRun,
)

log = logging.getLogger("callengine.plan")
STALE_RUN = timedelta(minutes=30)  # a daily run still `running` after this has died


@dataclass(frozen=True)
class Outcome:
    created: int
    ended: int
    cancelled: int


def begin(db: Database, day: date, trigger: str, holder: str, now: datetime) -> int | None:
    """Start a run; its id, or None when the day's daily run is done or under way."""
    daily = None if trigger == PLAN_MANUAL else day
    if daily is not None and not _free_day(db, daily, now):
        return None
    run = PlanRun(day=day, daily_day=daily, trigger=trigger, holder=holder[:100],
                  status=PLAN_RUNNING, started_at=to_db(now))
    try:
        with db.session() as s:
            s.add(run)
            s.flush()
            return run.id
    except IntegrityError:  # another process began the day's run first
        return None


def _free_day(db: Database, day: date, now: datetime) -> bool:
    """False while a daily run of `day` is done or running; a dead run gives the day back."""
    with db.session() as s:
        run = s.scalars(select(PlanRun).where(PlanRun.daily_day == day)).one_or_none()
        if run is None:
            return True
        if run.status == PLAN_DONE or run.started_at > to_db(now - STALE_RUN):
            return False
        taken = s.execute(  # type: ignore[attr-defined]  # DML gives a CursorResult
            update(PlanRun).where(PlanRun.id == run.id, PlanRun.status == PLAN_RUNNING)
            .values(status=PLAN_FAILED, daily_day=None, finished_at=to_db(now),
                    detail="abandoned: still running after 30 minutes")).rowcount
    if taken:
        log.warning("daily plan of %s begun by %s never finished: run again", day, run.holder)
    return bool(taken)


def finish(db: Database, run_id: int, outcome: Outcome, now: datetime) -> None:
    with db.session() as s:
        s.execute(update(PlanRun).where(PlanRun.id == run_id).values(
            status=PLAN_DONE, finished_at=to_db(now), created=outcome.created,
            ended=outcome.ended, cancelled=outcome.cancelled))


def fail(db: Database, run_id: int, error: BaseException, now: datetime) -> None:
    """Record the failure and give the day back, so that a later try may run it."""
    with db.session() as s:
        s.execute(update(PlanRun).where(PlanRun.id == run_id).values(
            status=PLAN_FAILED, daily_day=None, finished_at=to_db(now),
            detail=f"{type(error).__name__}: {error}"[:200]))


def runs_of(db: Database, day: date) -> list[PlanRun]:
    """The runs of a day, oldest first."""
    with db.session() as s:
        return list(s.scalars(select(PlanRun).where(PlanRun.day == day)
                              .order_by(PlanRun.started_at, PlanRun.id)))
