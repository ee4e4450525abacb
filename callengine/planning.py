"""The daily call plan: one task per person whose monitoring covers the day.

Set-based SQL (one INSERT ... SELECT), so a million people under monitoring plan in seconds,
and idempotent (a task exists at most once per person and day), so running it twice, or from
two servers, changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, exists, false, func, insert, literal, select, update

from callengine.clock import to_db
from callengine.dialer.window import Window
from callengine.store.db import Database
from callengine.store.models import (
    TASK_CANCELLED, TASK_PENDING, CallTask, MonitoringPeriod, Person,
)

STATUS_MONITORING = "monitoring"
STATUS_ENDED = "ended"


@dataclass(frozen=True)
class PlanResult:
    day: date
    created: int
    ended: int
    cancelled: int


def _covering(day: date):
    return exists().where(MonitoringPeriod.person_id == Person.id,
                          MonitoringPeriod.start_date <= day, MonitoringPeriod.end_date >= day)


def _future_period(day: date):
    return exists().where(MonitoringPeriod.person_id == Person.id,
                          MonitoringPeriod.end_date >= day)


def _task_count(s, day: date) -> int:
    return s.scalar(select(func.count()).select_from(CallTask).where(CallTask.day == day))


def plan_day(db: Database, day: date, now: datetime, window: Window) -> PlanResult:
    """End finished monitoring, cancel calls nobody should get, create the day's tasks."""
    first_call = to_db(max(now, window.opens(day)))
    with db.session() as s:
        ended = s.execute(
            update(Person).where(Person.status == STATUS_MONITORING, ~_future_period(day))
            .values(status=STATUS_ENDED, updated_at=to_db(now))
            .execution_options(synchronize_session=False)).rowcount
        not_monitored = select(Person.id).where(Person.status != STATUS_MONITORING)
        cancelled = s.execute(
            update(CallTask).where(CallTask.day >= day, CallTask.status == TASK_PENDING,
                                   CallTask.person_id.in_(not_monitored))
            .values(status=TASK_CANCELLED, updated_at=to_db(now))
            .execution_options(synchronize_session=False)).rowcount
        already = exists().where(and_(CallTask.person_id == Person.id, CallTask.day == day))
        due = select(
            Person.id, literal(day), literal(TASK_PENDING), literal(0), literal(first_call),
            false(), literal(to_db(now)), literal(to_db(now)),
        ).where(Person.status == STATUS_MONITORING, _covering(day), ~already)
        before = _task_count(s, day)  # rowcount of INSERT ... SELECT is -1 on PostgreSQL
        s.execute(insert(CallTask).from_select(
            ["person_id", "day", "status", "attempts", "next_attempt_at",
             "callback_requested", "created_at", "updated_at"], due))
        created = _task_count(s, day) - before
    return PlanResult(day, created, ended, cancelled)
