"""One flag's page: the flag, its person (full phone), the call that raised it with its
answers, transcripts and recordings, and the flag's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from callengine.casework.calls import AttemptView, attempt_views
from callengine.casework.errors import NotFound
from callengine.casework.events import FlagEventView, flag_history
from callengine.casework.labels import display_name
from callengine.clock import from_db
from callengine.questionnaire import Questionnaire
from callengine.store.db import Database
from callengine.store.models import CallAttempt, Person
from callengine.store.supervision import Flag


@dataclass(frozen=True)
class PersonSummary:
    id: int
    name: str
    phone: str  # E.164, in full: detail pages only
    category: str | None
    status: str
    district: str | None
    commune: str | None
    village: str | None
    monitoring_end: date | None


@dataclass(frozen=True)
class FlagDetail:
    id: int
    kind: str
    urgent: bool
    status: str
    detail: str | None
    created_at: datetime
    day: date  # the day of the call that raised it, or of the record
    reference: str | None  # the health record that raised it (e.g. "sample:A1"), if any
    assigned_to: str | None
    version: int  # pass it back with an action
    closed_at: datetime | None
    closed_by: str | None
    note: str | None  # the closing note
    person: PersonSummary
    attempt: AttemptView | None  # None for flags of a whole day (unreachable)
    history: tuple[FlagEventView, ...]


def person_summary(person: Person) -> PersonSummary:
    """The person as a flag's page shows them."""
    return PersonSummary(person.id, display_name(person.id, person.full_name), person.phone,
                         person.category, person.status, person.district, person.commune,
                         person.village, person.monitoring_end)


def flag_detail(db: Database, flag_id: int, questionnaire: Questionnaire) -> FlagDetail:
    """Everything a supervisor needs to decide about one flag; NotFound if none."""
    with db.session() as s:
        flag = s.get(Flag, flag_id)
        if flag is None:
            raise NotFound(f"Không tìm thấy cờ #{flag_id}.")
        attempt = s.get(CallAttempt, flag.attempt_id) if flag.attempt_id else None
        views = attempt_views(s, [attempt] if attempt else [], questionnaire)
        return FlagDetail(
            flag.id, flag.kind, bool(flag.urgent), flag.status, flag.detail,
            from_db(flag.created_at), flag.day, flag.reference, flag.assigned_to,
            flag.version, from_db(flag.closed_at) if flag.closed_at else None,
            flag.closed_by, flag.note, person_summary(s.get_one(Person, flag.person_id)),
            views[0] if views else None, flag_history(s, flag.id))
