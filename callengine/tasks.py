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
    ORIGIN_MANUAL,
    PERSON_UNMONITORED,
    TASK_CANCELLED,
    TASK_DIALING,
    TASK_DONE,
    TASK_EXHAUSTED,
    TASK_PENDING,
    CallTask,
    Person,
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


# What a request for a manual call did, by code, in staff's words.
CALL_SCHEDULED = "scheduled"  # no task today: a new one, due now
CALL_ALREADY_DONE = "done"  # completed (or a final outcome) today: not called again
CALL_ALREADY_PLANNED = "planned"  # pending or dialling already: left as it is
CALL_AGAIN = "again"  # ran out of attempts, withdrawn (or done, when asked): due again now
CALL_REFUSED = "refused"  # a status a manual call cannot change
REQUEST_MESSAGES = {
    CALL_SCHEDULED: "đã lên lịch gọi",
    CALL_ALREADY_DONE: "đã hoàn thành hôm nay, không gọi lại",
    CALL_ALREADY_PLANNED: "đã có trong lịch gọi hôm nay",
    CALL_AGAIN: "gọi lại theo yêu cầu",
}


def request_call(s, person_id: int, day: date, now: datetime, *, due: datetime | None = None,
                 again_if_done: bool = False, bring_forward: bool = False,
                 origin: str = ORIGIN_MANUAL) -> str:
    """Make sure the person is called on `day`, in the caller's session, and say how (a
    CALL_* code). Never a second task and never a second live call: a dialling task stays
    as it is. `due` (default now) is when the call may start; `again_if_done` re-calls a
    finished day; `bring_forward` moves a later pending attempt to `due`; `origin` is the
    origin of a new or revived task (ORIGIN_PLAN: a reopened monitoring's own call)."""
    due_db = to_db(due or now)
    task = s.scalars(select(CallTask).where(CallTask.person_id == person_id,
                                            CallTask.day == day)).first()
    if task is None:
        s.add(CallTask(person_id=person_id, day=day, status=TASK_PENDING,
                       origin=origin, next_attempt_at=due_db,
                       created_at=to_db(now), updated_at=to_db(now)))
        s.flush()
        return CALL_SCHEDULED
    if task.status == TASK_DONE and not again_if_done:
        return CALL_ALREADY_DONE
    if task.status in (TASK_PENDING, TASK_DIALING):
        if origin == ORIGIN_MANUAL:  # asked for by hand: the plan must not withdraw it
            task.origin = ORIGIN_MANUAL
        if bring_forward and task.status == TASK_PENDING and (
                task.next_attempt_at is None or task.next_attempt_at > due_db):
            task.next_attempt_at = task.updated_at = due_db
        return CALL_ALREADY_PLANNED
    if task.status in (TASK_EXHAUSTED, TASK_CANCELLED, TASK_DONE):
        task.status, task.origin = TASK_PENDING, origin
        task.next_attempt_at, task.updated_at = due_db, to_db(now)
        return CALL_AGAIN
    return CALL_REFUSED


def schedule_call(db: Database, raw_phone: str, day: date, now: datetime,
                  full_name: str = "") -> Scheduled:
    """A manual call today for one number, creating the person if unknown. Never a second
    task: a pending or dialling one stays as it is, one that ran out of attempts or was
    withdrawn is called again (and is now the staff's, so the plan leaves it alone)."""
    number = normalize_phone(raw_phone)
    with db.session() as s:
        person = find_or_create_person(s, number.e164, number.carrier, now, full_name)
        task_status = s.scalar(select(CallTask.status).where(
            CallTask.person_id == person.id, CallTask.day == day))
        code = request_call(s, person.id, day, now)
    status = REQUEST_MESSAGES.get(code) or f"không gọi (trạng thái {task_status})"
    return Scheduled(number.e164, person.id, status)
