"""Which attempts and days need a supervisor (rules are pure; writing joins the caller's
transaction so a call's outcome and its flags are stored together)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from callengine.clock import to_db
from callengine.contract import SOURCE_SPEECH
from callengine.dialer.outcome import REACHED
from callengine.questionnaire import Questionnaire
from callengine.store.models import ATTEMPT_ENDED, TASK_EXHAUSTED, CallAttempt, CallTask
from callengine.store.supervision import (
    FLAG_CALLBACK,
    FLAG_INVALID_NUMBER,
    FLAG_SPEECH_REVIEW,
    FLAG_SYMPTOM,
    FLAG_UNREACHABLE,
    Flag,
)


@dataclass(frozen=True)
class FlagSpec:
    kind: str
    urgent: bool = False
    detail: str | None = None


def attempt_flags(outcome: str, values: dict[str, str], callback: bool,
                  questionnaire: Questionnaire, unclear_speech: tuple[str, ...] = ()
                  ) -> list[FlagSpec]:
    """Flags an ended attempt raises: symptoms answered yes, a callback, an invalid number,
    spoken answers not understood (unclear_speech: their question ids)."""
    flags = []
    symptoms = [qid for qid in questionnaire.question_ids if values.get(qid) == "yes"]
    if symptoms:
        urgent = any(questionnaire.question(qid).urgent for qid in symptoms)
        flags.append(FlagSpec(FLAG_SYMPTOM, urgent, ", ".join(symptoms)))
    if callback:
        flags.append(FlagSpec(FLAG_CALLBACK, False, None))
    if outcome == "invalid_number":
        flags.append(FlagSpec(FLAG_INVALID_NUMBER, False, None))
    if unclear_speech:
        flags.append(FlagSpec(FLAG_SPEECH_REVIEW, False, ", ".join(unclear_speech)))
    return flags


def unreached(task: CallTask, outcomes: list[str]) -> bool:
    return task.status == TASK_EXHAUSTED and not any(o in REACHED for o in outcomes)


class FlagWriter:
    def __init__(self, questionnaire: Questionnaire) -> None:
        self.questionnaire = questionnaire

    def for_attempt(self, s: Session, task: CallTask, attempt: CallAttempt,
                    now: datetime) -> None:
        values = {a.question_id: a.value for a in attempt.answers}
        unclear = tuple(a.question_id for a in attempt.answers
                        if a.source == SOURCE_SPEECH and a.value == "unknown")
        specs = attempt_flags(attempt.outcome or "", values, task.callback_requested,
                              self.questionnaire, unclear)
        for spec in specs:
            self._raise(s, task, attempt.id, spec, now)

    def for_closed_day(self, s: Session, task: CallTask, now: datetime) -> None:
        """Flag a person not reached today and not reached on the day before either."""
        if not unreached(task, self._outcomes(s, task.id)):
            return
        yesterday = s.scalars(select(CallTask).where(
            CallTask.person_id == task.person_id,
            CallTask.day == task.day - timedelta(days=1))).first()
        if yesterday is not None and unreached(yesterday, self._outcomes(s, yesterday.id)):
            self._raise(s, task, None, FlagSpec(FLAG_UNREACHABLE, False, "2 ngày liên tiếp"),
                        now)

    @staticmethod
    def _outcomes(s: Session, task_id: int) -> list[str]:
        return list(s.scalars(select(CallAttempt.outcome).where(
            CallAttempt.task_id == task_id, CallAttempt.state == ATTEMPT_ENDED)))

    @staticmethod
    def _raise(s: Session, task: CallTask, attempt_id: str | None, spec: FlagSpec,
               now: datetime) -> None:
        existing = s.scalars(select(Flag).where(Flag.task_id == task.id,
                                                Flag.kind == spec.kind)).first()
        if existing is not None:  # one flag per kind per day; keep the latest evidence
            existing.attempt_id = attempt_id or existing.attempt_id
            existing.urgent = existing.urgent or spec.urgent
            existing.detail = spec.detail or existing.detail
            return
        s.add(Flag(person_id=task.person_id, task_id=task.id, attempt_id=attempt_id,
                   kind=spec.kind, urgent=spec.urgent, detail=spec.detail, day=task.day,
                   created_at=to_db(now)))


def raise_record_flag(s: Session, *, person_id: int, kind: str, urgent: bool,
                      detail: str | None, reference: str, day: date, now: datetime) -> Flag:
    """Raise a flag for a health record (a check-in, a sample), not a call, in the caller's
    transaction. One flag per (kind, reference): raising it again returns the first, made
    urgent if this one is."""
    existing = s.scalars(select(Flag).where(Flag.kind == kind,
                                            Flag.reference == reference)).first()
    if existing is not None:
        existing.urgent = existing.urgent or urgent
        return existing
    flag = Flag(person_id=person_id, task_id=None, attempt_id=None, kind=kind, urgent=urgent,
                detail=detail, reference=reference, day=day, created_at=to_db(now))
    s.add(flag)
    s.flush()
    return flag
