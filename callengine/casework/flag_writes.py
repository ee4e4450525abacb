"""Writes to flags by people (not the engine): compare-and-set on the flag's version, so of
two supervisors acting on one flag at once exactly one wins, and bulk closing with history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from callengine.casework.errors import FlagConflict, NotAllowedNow, NotFound
from callengine.casework.events import add_flag_event
from callengine.casework.labels import ACTION_LABELS, label
from callengine.clock import from_db, to_db
from callengine.store.db import Database
from callengine.store.supervision import FLAG_CLOSED, FLAG_OPEN, Flag, FlagEvent


@dataclass(frozen=True)
class FlagState:
    """What a supervisor must see again after a conflict: the flag as it is now."""

    id: int
    status: str
    version: int
    assigned_to: str | None
    action: str | None  # the last action
    updated_at: datetime | None
    updated_by: str | None  # who took the last action


def load_state(s: Session, flag_id: int) -> FlagState:
    """The flag's current state; NotFound if there is no such flag."""
    flag = s.get(Flag, flag_id, populate_existing=True)
    if flag is None:
        raise NotFound(f"Không tìm thấy cờ #{flag_id}.")
    last_actor = s.scalar(select(FlagEvent.actor).where(FlagEvent.flag_id == flag_id)
                          .order_by(FlagEvent.id.desc()).limit(1))
    updated = from_db(flag.updated_at) if flag.updated_at else None
    return FlagState(flag.id, flag.status, flag.version, flag.assigned_to, flag.action,
                     updated, last_actor)


def flag_state(db: Database, flag_id: int) -> FlagState:
    """The flag's current state (its version to act with); NotFound if there is none."""
    with db.session() as s:
        return load_state(s, flag_id)


def closing_values(actor: str, note: str | None, now: datetime) -> dict:
    """The columns an action that closes a flag sets."""
    return {"status": FLAG_CLOSED, "closed_at": to_db(now), "closed_by": actor, "note": note}


def compare_and_set(s: Session, flag_id: int, expected_version: int, action: str,
                    now: datetime, values: dict) -> None:
    """Update an open flag only if it is still at expected_version (UPDATE ... WHERE id AND
    version): FlagConflict when someone else changed it first, NotAllowedNow if closed,
    NotFound if there is no such flag."""
    changed = s.execute(  # type: ignore[attr-defined]  # DML gives a CursorResult
        update(Flag).where(Flag.id == flag_id, Flag.version == expected_version,
                           Flag.status == FLAG_OPEN)
        .values(version=Flag.version + 1, action=action, updated_at=to_db(now), **values)
        .execution_options(synchronize_session=False)).rowcount
    if changed == 1:
        return
    current = load_state(s, flag_id)
    if current.version != expected_version:
        who = current.updated_by or "người khác"
        raise FlagConflict(
            f"Cờ #{flag_id} vừa được {who} cập nhật ({label(ACTION_LABELS, current.action)}). "
            "Thao tác của bạn chưa được ghi; hãy xem lại cờ rồi làm lại nếu vẫn cần.", current)
    raise NotAllowedNow(f"Cờ #{flag_id} đã đóng; không thể thao tác thêm.")


def close_open_flags(s: Session, person_id: int, kinds: frozenset[str], action: str,
                     actor: str, now: datetime, note: str | None,
                     effect: str | None = None) -> int:
    """Close a person's open flags of these kinds (each with a history step); how many."""
    ids = list(s.scalars(select(Flag.id).where(Flag.person_id == person_id,
                                               Flag.status == FLAG_OPEN,
                                               Flag.kind.in_(kinds))))
    if not ids:
        return 0
    s.execute(update(Flag).where(Flag.id.in_(ids), Flag.status == FLAG_OPEN)
              .values(version=Flag.version + 1, action=action, updated_at=to_db(now),
                      **closing_values(actor, note, now))
              .execution_options(synchronize_session=False))
    for flag_id in ids:
        add_flag_event(s, flag_id, now, actor, action, FLAG_CLOSED, note, effect)
    return len(ids)
