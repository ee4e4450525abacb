"""The audit log: who saw or changed what, when and from where. No Flask, no passwords."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callengine.clock import Clock, SystemClock, from_db, to_db
from callengine.paging import Page, after, decode_cursor, page_of
from callengine.store.accounts import AuditEvent
from callengine.store.db import Database

FORBIDDEN_DETAIL_KEYS = frozenset({"password", "token", "secret"})
MAX_PAGE = 200


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user, a CLI user, or an anonymous client (user_id None)."""

    user_id: int | None
    username: str
    address: str | None = None


@dataclass(frozen=True)
class AuditRecord:
    """One audit event as read back."""

    id: int
    at: datetime  # aware UTC
    user_id: int | None
    username: str
    action: str
    object_type: str | None
    object_id: str | None
    address: str | None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditFilter:
    """What to show; None means any. Dates are aware datetimes, `until` exclusive."""

    user_id: int | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def record_in(session: Session, action: str, *, actor: Actor | None, at: datetime,
              object_type: str | None = None, object_id: Any = None,
              detail: dict[str, Any] | None = None) -> None:
    """Add an audit event to the caller's transaction, so it commits with the change."""
    detail = detail or {}
    if FORBIDDEN_DETAIL_KEYS & set(detail):
        raise ValueError("secrets never go into the audit log")
    actor = actor or Actor(None, "")
    session.add(AuditEvent(
        at=to_db(at), user_id=actor.user_id, username=actor.username[:64], action=action,
        object_type=object_type, object_id=None if object_id is None else str(object_id),
        address=actor.address,
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)))


def record(db: Database, action: str, *, actor: Actor | None, clock: Clock | None = None,
           object_type: str | None = None, object_id: Any = None,
           detail: dict[str, Any] | None = None) -> None:
    """Write one audit event in its own transaction."""
    now = (clock or SystemClock()).now()
    with db.session() as session:
        record_in(session, action, actor=actor, at=now, object_type=object_type,
                  object_id=object_id, detail=detail)


def _conditions(filters: AuditFilter) -> list[Any]:
    conditions = []
    if filters.user_id is not None:
        conditions.append(AuditEvent.user_id == filters.user_id)
    if filters.action:
        conditions.append(AuditEvent.action == filters.action)
    if filters.object_type:
        conditions.append(AuditEvent.object_type == filters.object_type)
    if filters.object_id is not None:
        conditions.append(AuditEvent.object_id == str(filters.object_id))
    if filters.since is not None:
        conditions.append(AuditEvent.at >= to_db(filters.since))
    if filters.until is not None:
        conditions.append(AuditEvent.at < to_db(filters.until))
    return conditions


def _snapshot(event: AuditEvent) -> AuditRecord:
    return AuditRecord(
        id=event.id, at=from_db(event.at), user_id=event.user_id, username=event.username,
        action=event.action, object_type=event.object_type, object_id=event.object_id,
        address=event.address, detail=json.loads(event.detail) if event.detail else {})


def query(db: Database, filters: AuditFilter = AuditFilter(), *, cursor: str | None = None,
          limit: int = 50) -> Page[AuditRecord]:
    """Newest first, one page at a time, keyset-paged by (at, id)."""
    limit = max(1, min(limit, MAX_PAGE))
    statement = select(AuditEvent).where(*_conditions(filters))
    if cursor:
        at, event_id = decode_cursor(cursor, 2)
        statement = statement.where(
            after((AuditEvent.at, AuditEvent.id), (to_db(at), int(event_id))))
    statement = statement.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit + 1)
    with db.session() as session:
        rows = [_snapshot(e) for e in session.scalars(statement)]
    return page_of(rows, limit, lambda r: (r.at, r.id))


def count_since(db: Database, actions: Iterable[str], since: datetime, *,
                username: str | None = None, address: str | None = None) -> int:
    """How many of these events a username or an address caused since a moment."""
    statement = select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action.in_(list(actions)), AuditEvent.at >= to_db(since))
    if username is not None:
        statement = statement.where(AuditEvent.username == username)
    if address is not None:
        statement = statement.where(AuditEvent.address == address)
    with db.session() as session:
        return int(session.scalar(statement) or 0)


def actions(db: Database) -> list[str]:
    """Every action that occurs in the log, for a filter list."""
    with db.session() as session:
        return sorted(session.scalars(select(AuditEvent.action).distinct()))
