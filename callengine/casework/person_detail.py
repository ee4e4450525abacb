"""One person's page: identity, class history, every day's call with its attempts and
answers, flags and the person's history."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from callengine.casework.calls import AttemptView, attempt_views
from callengine.casework.errors import NotFound
from callengine.casework.events import PersonEventView, person_history
from callengine.casework.labels import display_name
from callengine.clock import from_db
from callengine.questionnaire import Questionnaire
from callengine.store.db import Database
from callengine.store.models import CallAttempt, CallTask, MonitoringPeriod, Person
from callengine.store.supervision import Flag


@dataclass(frozen=True)
class Identity:
    id: int
    name: str
    full_name: str
    phone: str  # E.164, in full (this page only)
    alt_phones: tuple[str, ...]
    carrier: str
    national_id: str | None
    category: str | None
    birth_year: int | None
    sex: str | None
    village: str | None
    commune: str | None
    district: str | None
    address: str | None
    origin: str | None
    notes: str | None
    status: str
    monitoring_start: date | None
    monitoring_end: date | None


@dataclass(frozen=True)
class PeriodView:
    category: str
    start: date
    end: date
    source: str | None
    list_date: date | None


@dataclass(frozen=True)
class DayView:
    day: date
    status: str
    origin: str
    attempts_made: int
    last_outcome: str | None
    callback_requested: bool
    attempts: tuple[AttemptView, ...]  # oldest first, each with its answers


@dataclass(frozen=True)
class PersonFlag:
    id: int
    kind: str
    urgent: bool
    status: str
    created_at: datetime
    detail: str | None
    assigned_to: str | None


@dataclass(frozen=True)
class PersonDetail:
    identity: Identity
    periods: tuple[PeriodView, ...]  # class history, oldest first
    days: tuple[DayView, ...]  # newest first
    flags: tuple[PersonFlag, ...]  # newest first
    history: tuple[PersonEventView, ...]  # newest first


def _identity(p: Person) -> Identity:
    return Identity(p.id, display_name(p.id, p.full_name), p.full_name, p.phone,
                    tuple((p.alt_phones or "").split()), p.carrier, p.national_id, p.category,
                    p.birth_year, p.sex, p.village, p.commune, p.district, p.address,
                    p.origin, p.notes, p.status, p.monitoring_start, p.monitoring_end)


def _days(s: Session, person_id: int, questionnaire: Questionnaire) -> tuple[DayView, ...]:
    tasks = list(s.scalars(select(CallTask).where(CallTask.person_id == person_id)
                           .order_by(CallTask.day.desc())))
    attempts = list(s.scalars(select(CallAttempt).where(
        CallAttempt.task_id.in_([t.id for t in tasks]))
        .order_by(CallAttempt.created_at, CallAttempt.id))) if tasks else []
    by_task: dict[int, list[AttemptView]] = defaultdict(list)
    for view in attempt_views(s, attempts, questionnaire):
        by_task[view.task_id].append(view)
    return tuple(DayView(t.day, t.status, t.origin, t.attempts, t.last_outcome,
                         bool(t.callback_requested), tuple(by_task[t.id])) for t in tasks)


def _flags(s: Session, person_id: int) -> tuple[PersonFlag, ...]:
    rows = s.scalars(select(Flag).where(Flag.person_id == person_id)
                     .order_by(Flag.created_at.desc(), Flag.id.desc()))
    return tuple(PersonFlag(f.id, f.kind, bool(f.urgent), f.status, from_db(f.created_at),
                            f.detail, f.assigned_to) for f in rows)


def person_detail(db: Database, person_id: int, questionnaire: Questionnaire) -> PersonDetail:
    """Everything about one person; NotFound if there is no such person."""
    with db.session() as s:
        person = s.get(Person, person_id)
        if person is None:
            raise NotFound(f"Không tìm thấy người #{person_id}.")
        periods = s.scalars(select(MonitoringPeriod)
                            .where(MonitoringPeriod.person_id == person_id)
                            .order_by(MonitoringPeriod.start_date, MonitoringPeriod.id))
        return PersonDetail(
            _identity(person),
            tuple(PeriodView(p.category, p.start_date, p.end_date, p.source, p.list_date)
                  for p in periods),
            _days(s, person_id, questionnaire), _flags(s, person_id),
            person_history(s, person_id))
