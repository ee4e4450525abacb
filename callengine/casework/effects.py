"""What supervisors' decisions change in the engine: a call today, a corrected number.

Both run in the caller's transaction, so a decision and its effect are stored together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from callengine.casework.errors import InvalidRequest
from callengine.casework.events import add_person_event
from callengine.casework.flag_writes import close_open_flags
from callengine.clock import to_db
from callengine.dialer.outcome import INVALID
from callengine.dialer.window import Window
from callengine.importer.rows import MAX_ALT_PHONES_CHARS
from callengine.phones import PhoneNumber
from callengine.store.models import TASK_DONE, TASK_EXHAUSTED, CallTask, Person
from callengine.store.supervision import FLAG_INVALID_NUMBER
from callengine.tasks import (
    CALL_AGAIN,
    CALL_ALREADY_DONE,
    CALL_ALREADY_PLANNED,
    CALL_SCHEDULED,
    request_call,
)

FIXED_BY_NEW_NUMBER = frozenset({FLAG_INVALID_NUMBER})
_CALL_EFFECTS = {CALL_SCHEDULED: "call_scheduled", CALL_AGAIN: "call_scheduled",
                 CALL_ALREADY_PLANNED: "call_already_planned",
                 CALL_ALREADY_DONE: "call_already_done"}


def call_today(s: Session, person_id: int, now: datetime, window: Window, *,
               again_if_done: bool) -> str:
    """A manual call for the person today, from now or the window's opening; an effect code
    (labels.EFFECT_LABELS). Too late today: nothing changes."""
    due = window.next_start(now)
    if due is None:
        return "call_too_late"
    code = request_call(s, person_id, window.local_day(now), now, due=due,
                        again_if_done=again_if_done, bring_forward=True)
    return _CALL_EFFECTS.get(code, "call_already_planned")


def failed_for_bad_number(s: Session, person_id: int, now: datetime, window: Window) -> bool:
    """Today's call is over and its last attempt found the number does not exist."""
    task = s.scalars(select(CallTask).where(CallTask.person_id == person_id,
                                            CallTask.day == window.local_day(now))).first()
    return (task is not None and task.last_outcome == INVALID
            and task.status in (TASK_DONE, TASK_EXHAUSTED))


def with_alternate(alt_phones: str, e164: str, drop: str) -> str:
    """The alternates with e164 added (if it fits the column) and `drop` removed."""
    numbers = [n for n in alt_phones.split() if n not in (e164, drop)]
    if len(" ".join([e164, *numbers])) <= MAX_ALT_PHONES_CHARS:
        numbers.insert(0, e164)
    return " ".join(numbers)


@dataclass(frozen=True)
class PhoneChange:
    effect: str  # phone_corrected / phone_corrected_recalled / call_too_late
    flags_closed: int


def change_phone(s: Session, person: Person, number: PhoneNumber, actor: str, now: datetime,
                 window: Window, note: str | None = None) -> PhoneChange:
    """Put the new number in place (the old one kept as an alternate and in the history),
    call again today if today's call failed for a bad number, close invalid-number flags."""
    old = person.phone
    if number.e164 == old:
        raise InvalidRequest("Số mới trùng với số đang dùng; không có gì để sửa.")
    recall = failed_for_bad_number(s, person.id, now, window)
    person.alt_phones = with_alternate(person.alt_phones or "", old, number.e164)
    person.phone, person.carrier, person.updated_at = number.e164, number.carrier, to_db(now)
    add_person_event(s, person.id, now, actor, "phone_corrected", note=note, old_value=old,
                     new_value=number.e164)
    effect = "phone_corrected"
    if recall:
        called = call_today(s, person.id, now, window, again_if_done=True)
        effect = "phone_corrected_recalled" if called == "call_scheduled" else called
    closed = close_open_flags(s, person.id, FIXED_BY_NEW_NUMBER, "number_corrected", actor,
                              now, note, effect)
    return PhoneChange(effect, closed)
