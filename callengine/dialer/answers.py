"""The one owner of stored answers: one write path per source, every other module reads.

Sources and their paths:
- the dialplan's keys (each live CallengineAnswer event and the end-of-call summary carry
  the same keys): record_keys — a key decides; "~<try>" (a spoken answer recorded, not yet
  recognised) only fills a question with no answer or an unclear one;
- a spoken answer recognised during its call (the FastAGI 'recognize' script):
  record_spoken — it never replaces a keyed answer;
- a spoken answer recognised after its call (the pending loop): resolve_pending — only a
  row still pending, and it raises the flags the answer implies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from callengine import contract
from callengine.clock import to_db
from callengine.flags import FlagWriter
from callengine.questionnaire import Questionnaire
from callengine.store.db import Database
from callengine.store.models import (
    ATTEMPT_ENDED,
    LIVE_ATTEMPT_STATES,
    Answer,
    CallAttempt,
    CallTask,
)

VALUE_PENDING = "pending"  # a spoken answer recorded, not yet recognised


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


class AnswerBook:
    def __init__(self, db: Database, questionnaire: Questionnaire, flags: FlagWriter,
                 server_id: str) -> None:
        self.db = db
        self.questionnaire = questionnaire
        self.flags = flags
        self.server_id = server_id

    # --- writes: one per source ---------------------------------------------------------

    def record_keys(self, s: Session, attempt_id: str, keys: dict[str, str],
                    now: datetime) -> None:
        """The dialplan's keys, in the caller's transaction (an answer event or the summary)."""
        existing = {a.question_id: a for a in s.scalars(
            select(Answer).where(Answer.attempt_id == attempt_id))}
        for qid, key in keys.items():
            if qid not in self.questionnaire.question_ids:
                continue
            if contract.pending_try(key) is not None:
                self._mark_pending(s, attempt_id, qid, key, existing.get(qid), now)
            else:
                self._key(s, attempt_id, qid, key, existing.get(qid), now)
        if contract.CALLBACK_ANSWER in keys:
            flag_callback(s, attempt_id)

    def _mark_pending(self, s: Session, attempt_id: str, qid: str, key: str,
                      row: Answer | None, now: datetime) -> None:
        audio = contract.recording_name(attempt_id, qid, key.removeprefix(contract.KEY_PENDING))
        if row is None:
            row = Answer(attempt_id=attempt_id, question_id=qid, created_at=to_db(now))
            s.add(row)
        elif row.value != "unknown" or row.audio_path == audio:
            return  # a later recording may hold what an unclear one did not
        row.value, row.key, row.source = VALUE_PENDING, key, contract.SOURCE_SPEECH
        row.transcript = row.confidence = None
        row.audio_path = audio

    def _key(self, s: Session, attempt_id: str, qid: str, key: str, row: Answer | None,
             now: datetime) -> None:
        """A key decides; the same key as a spoken answer keeps its transcript and audio."""
        value = self.questionnaire.value_of(qid, key)
        if row is None:
            s.add(Answer(attempt_id=attempt_id, question_id=qid, value=value, key=key,
                         source=contract.SOURCE_DTMF, created_at=to_db(now)))
        elif row.key != key:
            row.value, row.key, row.source = value, key, contract.SOURCE_DTMF
            row.transcript = row.confidence = row.audio_path = None

    def record_spoken(self, attempt_id: str, spoken: SpokenAnswerRecord,
                      now: datetime) -> bool:
        """A spoken answer recognised in its call, durable before the dialplan moves on;
        False when a keyed answer is already there (a key always wins). One recognised after
        its call ended raises the flags it implies, as the end of the call ran them without."""
        with self.db.session() as s:
            row = s.scalars(select(Answer).where(
                Answer.attempt_id == attempt_id,
                Answer.question_id == spoken.question_id)).first()
            if row is not None and row.source == contract.SOURCE_DTMF:
                return False
            if row is None:
                row = Answer(attempt_id=attempt_id, question_id=spoken.question_id,
                             created_at=to_db(now))
                s.add(row)
            spoken.apply(row)
            attempt = s.get(CallAttempt, attempt_id)
            if attempt is not None and attempt.state == ATTEMPT_ENDED:
                s.flush()
                s.expire(attempt, ["answers"])
                self.flags.for_attempt(s, s.get_one(CallTask, attempt.task_id), attempt, now)
        return True

    def resolve_pending(self, answer_id: int, spoken: SpokenAnswerRecord | None,
                        now: datetime, *, callback: bool = False) -> None:
        """A pending answer recognised after its call: store it (None: nothing was said, so
        no answer) and raise the flags it implies; callback: it asked to be called back."""
        with self.db.session() as s:
            row = s.get(Answer, answer_id, with_for_update=True)
            if row is None or row.value != VALUE_PENDING:
                return
            attempt = s.get_one(CallAttempt, row.attempt_id)
            if spoken is None:
                s.delete(row)
            else:
                spoken.apply(row)
            if callback:
                flag_callback(s, row.attempt_id)
            s.flush()
            s.expire(attempt, ["answers"])
            task = s.get_one(CallTask, attempt.task_id)
            self.flags.for_attempt(s, task, attempt, now)

    # --- reads --------------------------------------------------------------------------

    def is_live_call(self, attempt_id: str, uniqueid: str) -> bool:
        """Whether an AGI request is for a call of this server still up on that channel
        (the attempt id is the channel's uniqueid)."""
        if not attempt_id or uniqueid != attempt_id:
            return False
        with self.db.session() as s:
            state = s.scalar(select(CallAttempt.state).where(
                CallAttempt.id == attempt_id, CallAttempt.server_id == self.server_id))
        return state in LIVE_ATTEMPT_STATES

    def pending(self, limit: int) -> list[tuple[int, str, str, str]]:
        """(answer id, attempt id, question, recording) of this server's spoken answers still
        to recognise, from calls that have ended."""
        with self.db.session() as s:
            rows = s.execute(
                select(Answer.id, Answer.attempt_id, Answer.question_id, Answer.audio_path)
                .join(CallAttempt, CallAttempt.id == Answer.attempt_id)
                .where(Answer.value == VALUE_PENDING, CallAttempt.state == ATTEMPT_ENDED,
                       CallAttempt.server_id == self.server_id)
                .order_by(Answer.id).limit(limit)).all()
        return [(r[0], r[1], r[2], r[3] or "") for r in rows]

    def recordings(self, attempt_id: str) -> set[str]:
        """Recordings an attempt's answers still refer to."""
        with self.db.session() as s:
            return {p for p in s.scalars(select(Answer.audio_path).where(
                Answer.attempt_id == attempt_id, Answer.audio_path.is_not(None))) if p}


def flag_callback(s: Session, attempt_id: str) -> None:
    """The resident asked for a health worker to call back (key 0 or said so)."""
    task_id = s.scalar(select(CallAttempt.task_id).where(CallAttempt.id == attempt_id))
    s.execute(update(CallTask).where(CallTask.id == task_id).values(callback_requested=True))
