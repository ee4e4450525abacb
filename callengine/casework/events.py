"""The history of flags and people: one writer each, and their views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from callengine.clock import from_db, to_db
from callengine.store.supervision import FlagEvent, PersonEvent


@dataclass(frozen=True)
class FlagEventView:
    at: datetime
    actor: str
    action: str  # an action code (labels.ACTION_LABELS), or 'assigned'
    note: str | None
    status: str  # the flag's status after this step
    effect: str | None  # an effect code (flag_actions.EFFECT_LABELS)


@dataclass(frozen=True)
class PersonEventView:
    at: datetime
    actor: str
    action: str  # labels.PERSON_EVENT_LABELS
    reason: str | None  # labels.CLOSURE_REASONS
    note: str | None
    old_value: str | None
    new_value: str | None


def add_flag_event(s: Session, flag_id: int, now: datetime, actor: str, action: str,
                   status: str, note: str | None = None, effect: str | None = None) -> None:
    """Write one step of a flag's history in the caller's transaction."""
    s.add(FlagEvent(flag_id=flag_id, at=to_db(now), actor=actor, action=action, note=note,
                    status=status, effect=effect))


def add_person_event(s: Session, person_id: int, now: datetime, actor: str, action: str, *,
                     reason: str | None = None, note: str | None = None,
                     old_value: str | None = None, new_value: str | None = None) -> None:
    """Write one change of a person in the caller's transaction."""
    s.add(PersonEvent(person_id=person_id, at=to_db(now), actor=actor, action=action,
                      reason=reason, note=note, old_value=old_value, new_value=new_value))


def flag_history(s: Session, flag_id: int) -> tuple[FlagEventView, ...]:
    """A flag's steps, oldest first."""
    rows = s.scalars(select(FlagEvent).where(FlagEvent.flag_id == flag_id)
                     .order_by(FlagEvent.at, FlagEvent.id))
    return tuple(FlagEventView(from_db(e.at), e.actor, e.action, e.note, e.status, e.effect)
                 for e in rows)


def person_history(s: Session, person_id: int) -> tuple[PersonEventView, ...]:
    """A person's changes, newest first."""
    rows = s.scalars(select(PersonEvent).where(PersonEvent.person_id == person_id)
                     .order_by(PersonEvent.at.desc(), PersonEvent.id.desc()))
    return tuple(PersonEventView(from_db(e.at), e.actor, e.action, e.reason, e.note,
                                 e.old_value, e.new_value) for e in rows)
