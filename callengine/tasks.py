"""Manual calls: a task staff asked for by hand (`callengine call`, the admin's "call now").

A manual call is a one-off call today, outside any monitoring period: its task has origin
`manual`, which the daily plan never cancels. A person first met through a manual call is
`unmonitored` (no daily calls) until a list puts them under monitoring.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from callengine.clock import to_db
from callengine.phones import normalize_phone
from callengine.store.db import Database
from callengine.store.models import (
    ORIGIN_MANUAL, PERSON_UNMONITORED, TASK_CANCELLED, TASK_DIALING, TASK_DONE,
    TASK_EXHAUSTED, TASK_PENDING, CallTask, Person,
)


@dataclass(frozen=True)
class Scheduled:
    phone: str  # E.164
    person_id: int
    status: str  # what happened, in Vietnamese for staff


def find_or_create_person(session, e164: str, carrier: str, now: datetime,
                          full_name: str = "") -> Person:
    person = session.scalars(select(Person).where(Person.phone == e164)
                             .order_by(Person.id).limit(1)).first()
    if person is None:
        person = Person(phone=e164, carrier=carrier, full_name=full_name,
                        status=PERSON_UNMONITORED, created_at=to_db(now),
                        updated_at=to_db(now))
        session.add(person)
        session.flush()
    return person


def schedule_call(db: Database, raw_phone: str, day: date, now: datetime,
                  full_name: str = "") -> Scheduled:
    """A manual call today for one number, creating the person if unknown. Never a second
    task: a pending or dialling one stays as it is, one that ran out of attempts or was
    withdrawn is called again (and is now the staff's, so the plan leaves it alone)."""
    number = normalize_phone(raw_phone)
    with db.session() as s:
        person = find_or_create_person(s, number.e164, number.carrier, now, full_name)
        task = s.scalars(select(CallTask).where(CallTask.person_id == person.id,
                                                CallTask.day == day)).first()
        if task is None:
            s.add(CallTask(person_id=person.id, day=day, status=TASK_PENDING,
                           origin=ORIGIN_MANUAL, next_attempt_at=to_db(now),
                           created_at=to_db(now), updated_at=to_db(now)))
            return Scheduled(number.e164, person.id, "đã lên lịch gọi")
        if task.status == TASK_DONE:
            return Scheduled(number.e164, person.id, "đã hoàn thành hôm nay, không gọi lại")
        if task.status in (TASK_PENDING, TASK_DIALING):
            task.origin = ORIGIN_MANUAL  # asked for by hand: the plan must not withdraw it
            return Scheduled(number.e164, person.id, "đã có trong lịch gọi hôm nay")
        if task.status in (TASK_EXHAUSTED, TASK_CANCELLED):
            task.status, task.origin = TASK_PENDING, ORIGIN_MANUAL
            task.next_attempt_at = task.updated_at = to_db(now)
            return Scheduled(number.e164, person.id, "gọi lại theo yêu cầu")
        return Scheduled(number.e164, person.id, f"không gọi (trạng thái {task.status})")
