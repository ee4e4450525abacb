"""Durable records of tasks, attempts and answers: every state change is one transaction."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from callengine.clock import from_db, to_db
from callengine.dialer import outcome as oc
from callengine.dialer.answers import AnswerBook, flag_callback
from callengine.dialer.retry import RetryPolicy
from callengine.dialer.window import Window
from callengine.flags import FlagWriter
from callengine.phones import mask_phone
from callengine.questionnaire import Questionnaire
from callengine.store.db import Database
from callengine.store.dbclock import utc_now
from callengine.store.hiccups import is_write_lock
from callengine.store.models import (
    ATTEMPT_ANSWERED,
    ATTEMPT_CLAIMED,
    ATTEMPT_ENDED,
    ATTEMPT_ORIGINATING,
    ATTEMPT_RINGING,
    DIALLED_LIVE_STATES,
    LIVE_ATTEMPT_STATES,
    TASK_DIALING,
    TASK_DONE,
    TASK_EXHAUSTED,
    TASK_PENDING,
    CallAttempt,
    CallTask,
    Person,
    Server,
)

log = logging.getLogger("callengine.attempts")


@dataclass(frozen=True)
class DueTask:
    task_id: int
    person_id: int
    phone: str
    carrier: str
    greeting: str | None = None  # sound path (Asterisk's view, no extension), set at plan time


@dataclass(frozen=True)
class Ending:
    """How an attempt ended, as the dialer learned it."""

    outcome: str
    cause: int | None = None
    sip_code: int | None = None
    detail: str | None = None
    stage: str | None = None
    answers: dict[str, str] | None = None  # question -> key


# Why the database refused a claim (ClaimRefused.reason).
REFUSED_LIVE_ELSEWHERE = "live_elsewhere"  # the person has a live attempt (another server's)
REFUSED_LOCKED = "locked"  # SQLite: another writer (an import) held the lock too long


class ClaimRefused(Exception):
    """The database refused a claim: the task is taken by someone else for now."""

    def __init__(self, reason: str, task: DueTask | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.task = task  # the task refused (claim_next picks it itself)


NEVER_DIALLED = "claim lease expired: never dialled"  # the detail of a leased-back claim


class AttemptRecords:
    def __init__(
        self, db: Database, questionnaire: Questionnaire, policy: RetryPolicy, window: Window,
        server_id: str, claim_lease: float = 30.0,
    ) -> None:
        self.db = db
        self.claim_lease = claim_lease  # seconds a claim not yet dialled stays this server's
        self.questionnaire = questionnaire
        self.policy = policy
        self.window = window
        self.server_id = server_id
        self.flags = FlagWriter(questionnaire)
        self.answers = AnswerBook(db, questionnaire, self.flags, server_id)

    def due_tasks(self, day: date, now: datetime, limit: int,
                  skip: Collection[int] = ()) -> list[DueTask]:
        """Pending tasks due by `now`, soonest first, except the task ids in `skip`."""
        with self.db.session() as s:
            rows = s.execute(_due_query(day, now, skip).limit(limit)).all()
        return [DueTask(*row) for row in rows]

    @property
    def skip_locked(self) -> bool:
        """Claims pick their task with FOR UPDATE SKIP LOCKED (PostgreSQL; not SQLite)."""
        return self.db.engine.dialect.name == "postgresql"

    def next_due_at(self, day: date) -> datetime | None:
        with self.db.session() as s:
            value = s.scalar(
                select(CallTask.next_attempt_at)
                .where(CallTask.day == day, CallTask.status == TASK_PENDING)
                .order_by(CallTask.next_attempt_at).limit(1)
            )
        return from_db(value) if value else None

    def claim(self, task: DueTask, attempt_id: str, trunk: str, now: datetime) -> bool:
        """Move a due task to dialing and write its attempt, atomically; False if taken.

        Raises ClaimRefused when the database refuses it (nothing is written).
        """
        try:
            return self._claim(task, attempt_id, trunk, now)
        except IntegrityError:
            raise ClaimRefused(REFUSED_LIVE_ELSEWHERE, task) from None
        except OperationalError as exc:
            if is_write_lock(exc):
                raise ClaimRefused(REFUSED_LOCKED, task) from None
            raise

    def claim_next(self, day: date, now: datetime, carriers: Collection[str],
                   skip: Collection[int], attempt_id: str, trunk: str) -> DueTask | None:
        """PostgreSQL: claim the soonest due task of one of `carriers` that no other engine is
        claiming (FOR UPDATE SKIP LOCKED: never waits on another engine), in one transaction
        with its attempt row; None when none is left. Raises ClaimRefused like claim()."""
        query = (_due_query(day, now, skip).where(Person.carrier.in_(list(carriers)))
                 .limit(1).with_for_update(of=CallTask, skip_locked=True))
        task: DueTask | None = None
        try:
            with self.db.session() as s:
                row = s.execute(query).first()
                if row is None:
                    return None
                task = DueTask(*row)
                s.execute(update(CallTask).where(CallTask.id == task.task_id).values(
                    status=TASK_DIALING, attempts=CallTask.attempts + 1, updated_at=to_db(now)))
                s.add(self._new_attempt(task, attempt_id, trunk, now))
            return task
        except IntegrityError:
            raise ClaimRefused(REFUSED_LIVE_ELSEWHERE, task) from None

    def _claim(self, task: DueTask, attempt_id: str, trunk: str, now: datetime) -> bool:
        with self.db.session() as s:
            taken = s.execute(  # type: ignore[attr-defined]  # DML gives a CursorResult
                update(CallTask)
                .where(CallTask.id == task.task_id, CallTask.status == TASK_PENDING,
                       CallTask.next_attempt_at <= to_db(now))
                .values(status=TASK_DIALING, attempts=CallTask.attempts + 1,
                        updated_at=to_db(now))
            ).rowcount
            if taken != 1:
                return False
            s.add(self._new_attempt(task, attempt_id, trunk, now))
        return True

    def _new_attempt(self, task: DueTask, attempt_id: str, trunk: str,
                     now: datetime) -> CallAttempt:
        return CallAttempt(
            id=attempt_id, task_id=task.task_id, person_id=task.person_id, phone=task.phone,
            trunk=trunk, server_id=self.server_id, state=ATTEMPT_CLAIMED, created_at=to_db(now),
            lease_until=utc_now(self.claim_lease))

    def dialling(self, attempt_id: str) -> bool:
        """Mark a claimed attempt as dialled, durably, before its Originate is written: from
        now on no lease returns it. False when its lease already ended it (do not dial)."""
        with self.db.session() as s:
            return s.execute(  # type: ignore[attr-defined]  # DML gives a CursorResult
                update(CallAttempt)
                .where(CallAttempt.id == attempt_id, CallAttempt.state == ATTEMPT_CLAIMED)
                .values(state=ATTEMPT_ORIGINATING, lease_until=None)).rowcount == 1

    def expire_leases(self, now: datetime) -> list[tuple[str, str]]:
        """End claims whose lease passed on the database clock and whose Originate was never
        sent (the engine died between claim and dial): `failed`, not counted as a try, and
        the task pending at once. Any engine may do it. (id, server id) of those ended."""
        with self.db.session() as s:
            attempts = s.scalars(
                select(CallAttempt)
                .where(CallAttempt.state == ATTEMPT_CLAIMED,
                       CallAttempt.lease_until < utc_now())
                .order_by(CallAttempt.created_at).limit(100)
                .with_for_update(skip_locked=True)).all()
            for attempt in attempts:
                attempt.state, attempt.outcome = ATTEMPT_ENDED, oc.FAILED
                attempt.detail = (f"{NEVER_DIALLED} (server {attempt.server_id}); ended by "
                                  f"{self.server_id}")[:200]
                attempt.ended_at = to_db(now)
                task = s.get_one(CallTask, attempt.task_id, with_for_update=True)
                if task.status == TASK_DIALING:
                    task.status, task.next_attempt_at = TASK_PENDING, to_db(now)
                    task.attempts = max(0, task.attempts - 1)
                    task.updated_at = to_db(now)
            return [(a.id, a.server_id) for a in attempts]

    def originated(self, attempt_id: str, action_id: str) -> None:
        with self.db.session() as s:
            s.execute(update(CallAttempt)
                      .where(CallAttempt.id == attempt_id,
                             CallAttempt.state == ATTEMPT_ORIGINATING)
                      .values(state=ATTEMPT_RINGING, action_id=action_id))

    def answered(self, attempt_id: str, now: datetime) -> None:
        with self.db.session() as s:
            s.execute(update(CallAttempt)
                      .where(CallAttempt.id == attempt_id,
                             CallAttempt.state.in_(LIVE_ATTEMPT_STATES))
                      .values(state=ATTEMPT_ANSWERED, answered_at=to_db(now)))

    def save_answers(self, attempt_id: str, keys: dict[str, str], now: datetime) -> None:
        """The dialplan's keys of a live answer event (the answer owner decides)."""
        with self.db.session() as s:
            self.answers.record_keys(s, attempt_id, keys, now)

    def request_callback(self, attempt_id: str) -> None:
        with self.db.session() as s:
            flag_callback(s, attempt_id)

    def finish(self, attempt_id: str, ending: Ending, now: datetime) -> bool:
        """Close an attempt, store its answers and schedule the task; False if already closed."""
        with self.db.session() as s:
            attempt = s.get(CallAttempt, attempt_id, with_for_update=True)
            if attempt is None or attempt.state == ATTEMPT_ENDED:
                return False
            attempt.state = ATTEMPT_ENDED
            attempt.outcome = ending.outcome
            attempt.cause, attempt.sip_code = ending.cause, ending.sip_code
            attempt.detail, attempt.stage = ending.detail, ending.stage
            attempt.ended_at = to_db(now)
            attempt.lease_until = None  # a try that counts (only the lease's ends keep it)
            if ending.answers:
                self.answers.record_keys(s, attempt_id, ending.answers, now)
            task = s.get_one(CallTask, attempt.task_id, with_for_update=True)
            next_at = self._schedule(s, task, ending.outcome, now)
            s.flush()
            self.flags.for_attempt(s, task, attempt, now)
            if next_at is None:
                self.flags.for_closed_day(s, task, now)
            self._log(attempt, task, next_at)
        return True

    def _schedule(self, s: Session, task: CallTask, outcome: str, now: datetime):
        history = list(s.scalars(
            select(CallAttempt.outcome).where(CallAttempt.task_id == task.id,
                                              CallAttempt.state == ATTEMPT_ENDED,
                                              CallAttempt.lease_until.is_(None))
            .order_by(CallAttempt.created_at)))
        # an ended attempt always has its outcome
        next_at = self.policy.next_attempt(cast(list[str], history), now)
        if next_at is not None and next_at >= self.window.last_start(task.day):
            next_at = None
        task.last_outcome = outcome
        task.updated_at = to_db(now)
        if next_at is not None:
            task.status, task.next_attempt_at = TASK_PENDING, to_db(next_at)
        else:
            final = outcome in oc.FINAL
            task.status = TASK_DONE if final else TASK_EXHAUSTED
            task.next_attempt_at = None
        return next_at

    def _log(self, attempt: CallAttempt, task: CallTask, next_at: datetime | None) -> None:
        when = next_at.astimezone(self.window.tz).strftime("%H:%M:%S") if next_at else "-"
        log.info(
            "attempt %s phone=%s trunk=%s outcome=%s cause=%s sip=%s detail=%s try=%d next=%s",
            attempt.id, mask_phone(attempt.phone), attempt.trunk, attempt.outcome,
            attempt.cause if attempt.cause is not None else "-",
            attempt.sip_code if attempt.sip_code is not None else "-",
            attempt.detail or "-", task.attempts, when,
        )

    def live_attempts(self) -> list[tuple[str, str | None, str, datetime]]:
        """(id, action_id, trunk, created_at) of this server's dialled attempts not yet ended
        (a claim not dialled yet is its dialer's, or the lease's)."""
        with self.db.session() as s:
            rows = s.execute(
                select(CallAttempt.id, CallAttempt.action_id, CallAttempt.trunk,
                       CallAttempt.created_at)
                .where(CallAttempt.server_id == self.server_id,
                       CallAttempt.state.in_(DIALLED_LIVE_STATES))
            ).all()
        return [(r[0], r[1], r[2], from_db(r[3])) for r in rows]

    def silent_servers_attempts(self, grace: float,
                                started_before: datetime) -> list[tuple[str, str, datetime]]:
        """(id, server id, its last heartbeat) of dialled live attempts, started before
        `started_before`, of other servers whose heartbeat is older than `grace` seconds on
        the database clock."""
        with self.db.session() as s:
            rows = s.execute(
                select(CallAttempt.id, CallAttempt.server_id, Server.last_seen)
                .join(Server, Server.server_id == CallAttempt.server_id)
                .where(CallAttempt.state.in_(DIALLED_LIVE_STATES),
                       CallAttempt.server_id != self.server_id,
                       CallAttempt.created_at < to_db(started_before),
                       Server.last_seen < utc_now(-grace))
                .order_by(CallAttempt.created_at)).all()
        return [(r[0], r[1], from_db(r[2])) for r in rows]

    def stale_attempts(self, started_before: datetime) -> list[tuple[str, str]]:
        """(id, server id) of live attempts of any server started before `started_before`."""
        with self.db.session() as s:
            rows = s.execute(
                select(CallAttempt.id, CallAttempt.server_id)
                .where(CallAttempt.state.in_(LIVE_ATTEMPT_STATES),
                       CallAttempt.created_at < to_db(started_before))
                .order_by(CallAttempt.created_at)).all()
        return [(r[0], r[1]) for r in rows]

    def open_task_count(self, day: date) -> int:
        with self.db.session() as s:
            return s.scalar(select(func.count()).select_from(CallTask).where(
                CallTask.day == day, CallTask.status.in_((TASK_PENDING, TASK_DIALING)))) or 0

    def close_day(self, day: date, now: datetime) -> int:
        """Pending tasks of a day whose window has closed become exhausted (and flagged)."""
        with self.db.session() as s:
            tasks = s.scalars(select(CallTask).where(CallTask.day == day,
                                                     CallTask.status == TASK_PENDING)).all()
            for task in tasks:
                task.status, task.updated_at = TASK_EXHAUSTED, to_db(now)
            s.flush()
            for task in tasks:
                self.flags.for_closed_day(s, task, now)
            return len(tasks)


def _due_query(day: date, now: datetime, skip: Collection[int]):
    """Pending tasks of `day` due by `now`, soonest first (the claim-order index), except
    the task ids in `skip`: what both the listing and the PostgreSQL claim read."""
    query = (
        select(CallTask.id, Person.id, Person.phone, Person.carrier, CallTask.greeting)
        .join(Person, Person.id == CallTask.person_id)
        .where(CallTask.day == day, CallTask.status == TASK_PENDING,
               CallTask.next_attempt_at <= to_db(now))
        .order_by(CallTask.next_attempt_at, CallTask.id))
    if skip:
        query = query.where(CallTask.id.not_in(list(skip)))
    return query
