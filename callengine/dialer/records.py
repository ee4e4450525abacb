"""Durable records of tasks, attempts and answers: every state change is one transaction."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from callengine import contract
from callengine.clock import from_db, to_db
from callengine.dialer import outcome as oc
from callengine.dialer.retry import RetryPolicy
from callengine.dialer.window import Window
from callengine.flags import FlagWriter
from callengine.phones import mask_phone
from callengine.questionnaire import Questionnaire
from callengine.store.db import Database
from callengine.store.hiccups import is_write_lock
from callengine.store.models import (
    ATTEMPT_ANSWERED, ATTEMPT_ENDED, ATTEMPT_ORIGINATING, ATTEMPT_RINGING, LIVE_ATTEMPT_STATES,
    TASK_DIALING, TASK_DONE, TASK_EXHAUSTED, TASK_PENDING, Answer, CallAttempt, CallTask, Person,
)

log = logging.getLogger("callengine.attempts")
VALUE_PENDING = "pending"  # a spoken answer recorded, not yet recognised


@dataclass(frozen=True)
class DueTask:
    task_id: int
    person_id: int
    phone: str
    carrier: str
    greeting: str | None = None  # sound path (Asterisk's view, no extension), set at plan time


@dataclass(frozen=True)
class SpokenAnswerRecord:
    """A recognised spoken answer as stored: audio_path is the recording's file name."""

    question_id: str
    key: str
    value: str
    transcript: str
    confidence: float | None
    audio_path: str

    def apply(self, row: Answer) -> None:
        row.key, row.value, row.source = self.key, self.value, contract.SOURCE_SPEECH
        row.transcript, row.confidence = self.transcript, self.confidence
        row.audio_path = self.audio_path


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

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AttemptRecords:
    def __init__(
        self, db: Database, questionnaire: Questionnaire, policy: RetryPolicy, window: Window,
        server_id: str,
    ) -> None:
        self.db = db
        self.questionnaire = questionnaire
        self.policy = policy
        self.window = window
        self.server_id = server_id
        self.flags = FlagWriter(questionnaire)

    def due_tasks(self, day: date, now: datetime, limit: int,
                  skip: Collection[int] = ()) -> list[DueTask]:
        """Pending tasks due by `now`, soonest first, except the task ids in `skip`."""
        query = (
            select(CallTask.id, Person.id, Person.phone, Person.carrier, CallTask.greeting)
            .join(Person, Person.id == CallTask.person_id)
            .where(CallTask.day == day, CallTask.status == TASK_PENDING,
                   CallTask.next_attempt_at <= to_db(now))
            .order_by(CallTask.next_attempt_at, CallTask.id)
            .limit(limit))
        if skip:
            query = query.where(CallTask.id.not_in(list(skip)))
        with self.db.session() as s:
            rows = s.execute(query).all()
        return [DueTask(*row) for row in rows]

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
            raise ClaimRefused(REFUSED_LIVE_ELSEWHERE) from None
        except OperationalError as exc:
            if is_write_lock(exc):
                raise ClaimRefused(REFUSED_LOCKED) from None
            raise

    def _claim(self, task: DueTask, attempt_id: str, trunk: str, now: datetime) -> bool:
        with self.db.session() as s:
            taken = s.execute(
                update(CallTask)
                .where(CallTask.id == task.task_id, CallTask.status == TASK_PENDING,
                       CallTask.next_attempt_at <= to_db(now))
                .values(status=TASK_DIALING, attempts=CallTask.attempts + 1,
                        updated_at=to_db(now))
            ).rowcount
            if taken != 1:
                return False
            s.add(CallAttempt(
                id=attempt_id, task_id=task.task_id, person_id=task.person_id,
                phone=task.phone, trunk=trunk, server_id=self.server_id,
                state=ATTEMPT_ORIGINATING, created_at=to_db(now),
            ))
        return True

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
        with self.db.session() as s:
            self._upsert_answers(s, attempt_id, keys, now)

    def _upsert_answers(self, s: Session, attempt_id: str, keys: dict[str, str],
                        now: datetime) -> None:
        """Store the dialplan's answers. A key decides, except that a pending spoken answer
        ("~<try>") replaces only an unclear one, and the same key as a spoken answer keeps
        that answer's transcript and audio."""
        existing = {a.question_id: a for a in s.scalars(
            select(Answer).where(Answer.attempt_id == attempt_id))}
        for qid, key in keys.items():
            if qid not in self.questionnaire.question_ids:
                continue
            row = existing.get(qid)
            pending_try = contract.pending_try(key)
            if pending_try is not None:
                audio = contract.recording_name(attempt_id, qid, pending_try)
                if row is None:
                    row = Answer(attempt_id=attempt_id, question_id=qid, created_at=to_db(now))
                    s.add(row)
                elif row.value != "unknown" or row.audio_path == audio:
                    continue  # a later recording may hold what an unclear one did not
                row.value, row.key, row.source = VALUE_PENDING, key, contract.SOURCE_SPEECH
                row.transcript = row.confidence = None
                row.audio_path = audio
                continue
            value = self.questionnaire.value_of(qid, key)
            if row is None:
                s.add(Answer(attempt_id=attempt_id, question_id=qid, value=value, key=key,
                             source=contract.SOURCE_DTMF, created_at=to_db(now)))
            elif row.key != key:
                row.value, row.key, row.source = value, key, contract.SOURCE_DTMF
                row.transcript = row.confidence = row.audio_path = None
        if contract.CALLBACK_ANSWER in keys:
            self._flag_callback(s, attempt_id)

    def save_spoken(self, attempt_id: str, spoken: SpokenAnswerRecord, now: datetime) -> None:
        """Store a recognised spoken answer at once (durable before the dialplan moves on).
        One recognised after its call ended (the resident hung up meanwhile) raises the flags
        it implies, as finish() already ran them without it."""
        with self.db.session() as s:
            row = s.scalars(select(Answer).where(
                Answer.attempt_id == attempt_id,
                Answer.question_id == spoken.question_id)).first()
            if row is None:
                row = Answer(attempt_id=attempt_id, question_id=spoken.question_id,
                             created_at=to_db(now))
                s.add(row)
            spoken.apply(row)
            attempt = s.get(CallAttempt, attempt_id)
            if attempt is not None and attempt.state == ATTEMPT_ENDED:
                s.flush()
                s.expire(attempt, ["answers"])
                self.flags.for_attempt(s, s.get(CallTask, attempt.task_id), attempt, now)

    def pending_spoken(self, limit: int) -> list[tuple[int, str, str, str]]:
        """(answer id, attempt id, question, recording) of this server's spoken answers still
        to recognise, from calls that have ended."""
        with self.db.session() as s:
            rows = s.execute(
                select(Answer.id, Answer.attempt_id, Answer.question_id, Answer.audio_path)
                .join(CallAttempt, CallAttempt.id == Answer.attempt_id)
                .where(Answer.value == VALUE_PENDING, CallAttempt.state == ATTEMPT_ENDED,
                       CallAttempt.server_id == self.server_id)
                .order_by(Answer.id).limit(limit)).all()
        return [tuple(r) for r in rows]

    def resolve_spoken(self, answer_id: int, spoken: SpokenAnswerRecord | None,
                       now: datetime) -> None:
        """A pending answer recognised after its call: store it (None: nothing was said, so
        no answer) and raise the flags it implies."""
        with self.db.session() as s:
            row = s.get(Answer, answer_id, with_for_update=True)
            if row is None or row.value != VALUE_PENDING:
                return
            attempt = s.get(CallAttempt, row.attempt_id)
            if spoken is None:
                s.delete(row)
            else:
                spoken.apply(row)
            s.flush()
            s.expire(attempt, ["answers"])
            task = s.get(CallTask, attempt.task_id)
            self.flags.for_attempt(s, task, attempt, now)

    def answer_recordings(self, attempt_id: str) -> set[str]:
        """Recordings an attempt's answers still refer to."""
        with self.db.session() as s:
            return {p for p in s.scalars(select(Answer.audio_path).where(
                Answer.attempt_id == attempt_id, Answer.audio_path.is_not(None)))}

    def request_callback(self, attempt_id: str) -> None:
        with self.db.session() as s:
            self._flag_callback(s, attempt_id)

    @staticmethod
    def _flag_callback(s: Session, attempt_id: str) -> None:
        task_id = s.scalar(select(CallAttempt.task_id).where(CallAttempt.id == attempt_id))
        s.execute(update(CallTask).where(CallTask.id == task_id)
                  .values(callback_requested=True))

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
            if ending.answers:
                self._upsert_answers(s, attempt_id, ending.answers, now)
            task = s.get(CallTask, attempt.task_id, with_for_update=True)
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
                                              CallAttempt.state == ATTEMPT_ENDED)
            .order_by(CallAttempt.created_at)))
        next_at = self.policy.next_attempt(history, now)
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
        """(id, action_id, trunk, created_at) of this server's attempts not yet ended."""
        with self.db.session() as s:
            rows = s.execute(
                select(CallAttempt.id, CallAttempt.action_id, CallAttempt.trunk,
                       CallAttempt.created_at)
                .where(CallAttempt.server_id == self.server_id,
                       CallAttempt.state.in_(LIVE_ATTEMPT_STATES))
            ).all()
        return [(r[0], r[1], r[2], from_db(r[3])) for r in rows]

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
                CallTask.day == day, CallTask.status.in_((TASK_PENDING, TASK_DIALING))))

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
