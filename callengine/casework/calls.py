"""Attempts and their answers as shown on a flag's and a person's page."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from callengine.clock import from_db
from callengine.questionnaire import Questionnaire
from callengine.store.models import Answer, CallAttempt


@dataclass(frozen=True)
class AnswerView:
    id: int  # the answer's row (a recording is fetched by it)
    question_id: str
    question: str  # the question's Vietnamese text ('' for a question no longer asked)
    value: str  # yes / no / unknown / pending
    source: str  # dtmf / speech
    key: str | None
    transcript: str | None
    confidence: float | None
    audio_path: str | None  # the recording's file name (spoken answers only)


@dataclass(frozen=True)
class AttemptView:
    id: str
    task_id: int
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    phone: str  # the number dialled, in full (a person's page only)
    trunk: str
    server_id: str
    state: str
    outcome: str | None
    cause: int | None
    sip_code: int | None
    detail: str | None
    answers: tuple[AnswerView, ...]


def _question_text(questionnaire: Questionnaire, qid: str) -> str:
    try:
        return questionnaire.question(qid).text
    except KeyError:
        return ""


def _order(questionnaire: Questionnaire, qid: str) -> int:
    ids = questionnaire.question_ids
    return ids.index(qid) if qid in ids else len(ids)


def answer_view(row: Answer, questionnaire: Questionnaire) -> AnswerView:
    """One stored answer, with its question's text."""
    return AnswerView(row.id, row.question_id, _question_text(questionnaire, row.question_id),
                      row.value, row.source, row.key, row.transcript, row.confidence,
                      row.audio_path)


def attempt_views(s: Session, attempts: list[CallAttempt],
                  questionnaire: Questionnaire) -> list[AttemptView]:
    """The attempts with their answers in questionnaire order (one query for all answers)."""
    by_attempt: dict[str, list[Answer]] = defaultdict(list)
    if attempts:
        for row in s.scalars(select(Answer).where(
                Answer.attempt_id.in_([a.id for a in attempts]))):
            by_attempt[row.attempt_id].append(row)
    views = []
    for a in attempts:
        answers = sorted(by_attempt[a.id], key=lambda r: _order(questionnaire, r.question_id))
        views.append(AttemptView(
            a.id, a.task_id, from_db(a.created_at), _aware(a.answered_at), _aware(a.ended_at),
            a.phone, a.trunk, a.server_id, a.state, a.outcome, a.cause, a.sip_code, a.detail,
            tuple(answer_view(r, questionnaire) for r in answers)))
    return views


def _aware(moment: datetime | None) -> datetime | None:
    return from_db(moment) if moment is not None else None
