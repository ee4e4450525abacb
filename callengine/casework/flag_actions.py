"""A supervisor's actions on a flag, and what each one makes the engine do.

Every action needs the flag's version as the supervisor saw it: of two supervisors acting
on one flag at once, one wins and the other gets FlagConflict with the flag as it is now.
Each action writes one step of the flag's history. A closed flag takes no more actions.

Closing follows Sara Alert: recording a contact or a public-health step keeps the flag on
the queue until a supervisor decides it needs nothing more.

    action                   closes                          effect on the engine
    called_back_reached      callback, unreachable,          none
                             speech_review flags
                             (a symptom needs a decision;
                             a wrong number needs a number)
    called_back_not_reached  no                              an automatic call today (one more
                                                             attempt, even after the day's
                                                             cap), from now or the window's
                                                             opening; none when the window is
                                                             over, the person is closed or
                                                             F0, or the flag is a wrong number
    referred_for_testing     no (open until the result)      none; daily calls go on
    advised_isolation        no (open until followed up)     none; daily calls go on
    number_corrected         yes (needs the new phone)       the phone is corrected as on the
                                                             person's page: the old number
                                                             kept as an alternate, a call
                                                             today if today's call failed for
                                                             a bad number, the person's other
                                                             wrong-number flags closed
    no_action_needed         yes                             none
    closed                   yes                             none

A note is required for every action except called_back_not_reached and number_corrected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from callengine.casework.effects import FIXED_BY_NEW_NUMBER, call_today, change_phone
from callengine.casework.errors import InvalidRequest, NotFound
from callengine.casework.events import add_flag_event
from callengine.casework.flag_writes import (
    FlagState,
    closing_values,
    compare_and_set,
    load_state,
)
from callengine.casework.labels import ACTION_LABELS, EFFECT_LABELS
from callengine.dialer.window import Window
from callengine.phones import PhoneNumber, normalize_phone
from callengine.store.db import Database
from callengine.store.models import PERSON_CLOSED, PERSON_F0, Person
from callengine.store.supervision import (
    FLAG_CALLBACK,
    FLAG_CLOSED,
    FLAG_OPEN,
    FLAG_SPEECH_REVIEW,
    FLAG_UNREACHABLE,
    Flag,
)

MAX_NOTE = 2000
ALL_KINDS = None  # closes a flag of any kind


@dataclass(frozen=True)
class ActionSpec:
    closes: frozenset[str] | None  # kinds it closes (ALL_KINDS: every kind)
    note_required: bool


ACTIONS: dict[str, ActionSpec] = {
    "called_back_reached": ActionSpec(
        frozenset({FLAG_CALLBACK, FLAG_UNREACHABLE, FLAG_SPEECH_REVIEW}), True),
    "called_back_not_reached": ActionSpec(frozenset(), False),
    "referred_for_testing": ActionSpec(frozenset(), True),
    "advised_isolation": ActionSpec(frozenset(), True),
    "number_corrected": ActionSpec(ALL_KINDS, False),
    "no_action_needed": ActionSpec(ALL_KINDS, True),
    "closed": ActionSpec(ALL_KINDS, True),
}


@dataclass(frozen=True)
class ActResult:
    flag: FlagState  # after the action
    effect: str | None  # labels.EFFECT_LABELS
    message: str  # what happened, in Vietnamese


def _checked(action: str, note: str | None, phone: str | None) -> tuple[str | None,
                                                                        PhoneNumber | None]:
    """(the cleaned note, the new number) or InvalidRequest / InvalidPhone."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise InvalidRequest(f"Thao tác '{action}' không hợp lệ. Các thao tác: "
                             + "; ".join(f"{c} ({ACTION_LABELS[c]})" for c in ACTIONS) + ".")
    note = (note or "").strip() or None
    if spec.note_required and note is None:
        raise InvalidRequest(f"Cần ghi chú cho thao tác “{ACTION_LABELS[action]}”.")
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidRequest(f"Ghi chú dài quá {MAX_NOTE} ký tự.")
    if action != "number_corrected":
        return note, None
    if phone is None or not phone.strip():
        raise InvalidRequest("Cần nhập số điện thoại mới để ghi “Đã sửa số điện thoại”.")
    return note, normalize_phone(phone)


def _closes(action: str, kind: str) -> bool:
    kinds = ACTIONS[action].closes
    return kinds is ALL_KINDS or kind in kinds


def assign(db: Database, flag_id: int, actor: str, expected_version: int,
           now: datetime) -> FlagState:
    """The actor takes the flag on (shown as assigned to them in the queue)."""
    with db.session() as s:
        compare_and_set(s, flag_id, expected_version, "assigned", now, {"assigned_to": actor})
        add_flag_event(s, flag_id, now, actor, "assigned", FLAG_OPEN)
        s.flush()
        return load_state(s, flag_id)


def act(db: Database, flag_id: int, action: str, note: str | None, actor: str,
        expected_version: int, now: datetime, window: Window, *,
        phone: str | None = None) -> ActResult:
    """Record what the supervisor did about a flag and apply its effect (module docstring);
    `phone` is the new number of number_corrected."""
    note, number = _checked(action, note, phone)
    with db.session() as s:
        flag = s.get(Flag, flag_id)
        if flag is None:
            raise NotFound(f"Không tìm thấy cờ #{flag_id}.")
        closes = _closes(action, flag.kind)  # a flag's kind never changes
        values = closing_values(actor, note, now) if closes else {}
        compare_and_set(s, flag_id, expected_version, action, now, values)
        flag = s.get_one(Flag, flag_id, populate_existing=True)
        effect = _effect(s, flag, action, number, actor, now, window, note)
        add_flag_event(s, flag_id, now, actor, action, FLAG_CLOSED if closes else FLAG_OPEN,
                       note, effect)
        s.flush()
        state = load_state(s, flag_id)
    message = ACTION_LABELS[action] + (f". {EFFECT_LABELS[effect]}" if effect else "")
    return ActResult(state, effect, message + ".")


def _effect(s: Session, flag: Flag, action: str, number: PhoneNumber | None, actor: str,
            now: datetime, window: Window, note: str | None) -> str | None:
    person = s.get_one(Person, flag.person_id)
    if action == "number_corrected":
        assert number is not None  # _checked reads one for this action
        return change_phone(s, person, number, actor, now, window, note).effect
    if action != "called_back_not_reached":
        return None
    if flag.kind in FIXED_BY_NEW_NUMBER:
        return "call_needs_new_number"
    if person.status == PERSON_CLOSED:
        return "call_not_for_closed"
    if person.status == PERSON_F0:
        return "call_not_for_f0"
    return call_today(s, person.id, now, window, again_if_done=True)
