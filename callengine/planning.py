"""The daily call plan: one task per person whose monitoring covers the day.

Set-based SQL (one INSERT ... SELECT), so a million people under monitoring plan in seconds,
and idempotent (a task exists at most once per person and day), so running it twice, or from
two servers, changes nothing.

The plan only ever withdraws its own calls. A call staff asked for by hand (origin
`manual`: `callengine call`, the admin's "call now") is a one-off call outside monitoring,
and the plan leaves it alone whatever the person's status.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, exists, false, func, insert, literal, select, update

from callengine import metrics
from callengine.clock import to_db
from callengine.dialer.window import Window
from callengine.store.db import Database
from callengine.store.models import (
    ORIGIN_PLAN,
    PERSON_CLOSED,
    PERSON_ENDED,
    PERSON_F0,
    PERSON_MONITORING,
    TASK_CANCELLED,
    TASK_PENDING,
    CallTask,
    MonitoringPeriod,
    Person,
)

log = logging.getLogger("callengine.planning")

# Why the plan withdraws a pending call, by the person's status: (log, staff's words).
CANCEL_REASONS = {
    PERSON_ENDED: ("monitoring ended", "hết thời gian theo dõi"),
    PERSON_F0: ("became F0 (patient)", "đã là F0"),
    PERSON_CLOSED: ("closed by a supervisor", "giám sát viên đã đóng theo dõi"),
}


def cancel_reason(status: str, vietnamese: bool = False) -> str:
    words = CANCEL_REASONS.get(status, (f"status {status}", f"trạng thái {status}"))
    return words[1] if vietnamese else words[0]


@dataclass(frozen=True)
class PlanResult:
    day: date
    created: int
    ended: int
    cancelled: dict[str, int] = field(default_factory=dict)  # person status -> calls withdrawn

    @property
    def cancelled_total(self) -> int:
        return sum(self.cancelled.values())

    def summary(self) -> str:
        """One log line: what the plan did, and what it cancelled and why."""
        line = (f"daily plan {self.day}: {self.created} call(s) created, "
                f"{self.ended} monitoring ended, {self.cancelled_total} cancelled")
        if self.cancelled:
            line += " (" + ", ".join(f"{n} {cancel_reason(status)}"
                                     for status, n in sorted(self.cancelled.items())) + ")"
        return line


def _covering(day: date):
    return exists().where(MonitoringPeriod.person_id == Person.id,
                          MonitoringPeriod.start_date <= day, MonitoringPeriod.end_date >= day)


def _future_period(day: date):
    return exists().where(MonitoringPeriod.person_id == Person.id,
                          MonitoringPeriod.end_date >= day)


def _task_count(s, day: date) -> int:
    return s.scalar(select(func.count()).select_from(CallTask).where(CallTask.day == day))


def _withdrawable(day: date):
    """The plan's own pending calls (today on) of people who should not be called."""
    return and_(CallTask.day >= day, CallTask.status == TASK_PENDING,
                CallTask.origin == ORIGIN_PLAN)


def cancel_unwanted(s, day: date, now: datetime,
                    person_ids: list[int] | None = None) -> dict[str, int]:
    """Withdraw the plan's pending calls (from `day` on) of people no longer under
    monitoring (ended, F0, closed), of everyone or only of `person_ids`; returns the count
    per person status. The daily plan runs it, and so does whatever makes someone F0."""
    unwanted = [Person.status != PERSON_MONITORING]
    if person_ids is not None:
        unwanted.append(Person.id.in_(person_ids))
    counts = dict(s.execute(
        select(Person.status, func.count())
        .join(CallTask, CallTask.person_id == Person.id)
        .where(_withdrawable(day), *unwanted)
        .group_by(Person.status)).all())
    if counts:
        not_monitored = select(Person.id).where(*unwanted)
        s.execute(
            update(CallTask).where(_withdrawable(day), CallTask.person_id.in_(not_monitored))
            .values(status=TASK_CANCELLED, updated_at=to_db(now))
            .execution_options(synchronize_session=False))
    return counts


def plan_day(db: Database, day: date, now: datetime, window: Window) -> PlanResult:
    """End finished monitoring, cancel calls nobody should get, create the day's tasks."""
    first_call = to_db(max(now, window.opens(day)))
    with db.session() as s:
        ended = s.execute(  # type: ignore[attr-defined]  # DML gives a CursorResult
            update(Person).where(Person.status == PERSON_MONITORING, ~_future_period(day))
            .values(status=PERSON_ENDED, updated_at=to_db(now))
            .execution_options(synchronize_session=False)).rowcount
        cancelled = cancel_unwanted(s, day, now)
        already = exists().where(and_(CallTask.person_id == Person.id, CallTask.day == day))
        due = select(
            Person.id, literal(day), literal(TASK_PENDING), literal(ORIGIN_PLAN), literal(0),
            literal(first_call), false(), literal(to_db(now)), literal(to_db(now)),
        ).where(Person.status == PERSON_MONITORING, _covering(day), ~already)
        before = _task_count(s, day)  # rowcount of INSERT ... SELECT is -1 on PostgreSQL
        s.execute(insert(CallTask).from_select(
            ["person_id", "day", "status", "origin", "attempts", "next_attempt_at",
             "callback_requested", "created_at", "updated_at"], due))
        created = _task_count(s, day) - before
    return PlanResult(day, created, ended, cancelled)


def plan_and_greet(db: Database, day: date, now: datetime, settings):
    """The daily plan, then the day's greetings by name: what the service and `callengine
    plan` both run. A greeting problem never undoes or fails the committed plan."""
    from callengine.campaign import effective_settings
    from callengine.greetings import GreetingResult, attach_greetings

    started = time.monotonic()
    live = effective_settings(db, settings)  # the first calls go at the campaign's opening
    window = Window(live.call_window, live.timezone, live.window_close_guard)
    result = plan_day(db, day, now, window)
    log.info("%s", result.summary())
    try:
        greetings = attach_greetings(db, day, settings)
    except Exception:
        log.exception("daily plan %s: greetings failed; calls go without", day)
        greetings = GreetingResult()
    metrics.plan_ran(time.monotonic() - started, result.created)
    return result, greetings


def run_plan(db: Database, day: date, settings, clock, *, trigger: str, holder: str):
    """plan_and_greet, recorded as a plan run; None when the day's daily run is done or under
    way elsewhere (scheduled and catch-up runs happen once a day; manual ones every time)."""
    from callengine import plan_runs

    run_id = plan_runs.begin(db, day, trigger, holder, clock.now())
    if run_id is None:
        log.info("daily plan %s: already run or running elsewhere; not run again", day)
        return None
    try:
        result, greetings = plan_and_greet(db, day, clock.now(), settings)
    except BaseException as exc:
        plan_runs.fail(db, run_id, exc, clock.now())
        raise
    plan_runs.finish(db, run_id, plan_runs.Outcome(
        result.created, result.ended, result.cancelled_total), clock.now())
    return result, greetings
