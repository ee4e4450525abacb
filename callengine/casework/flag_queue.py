"""The supervisors' flag queue: urgent first, then oldest first, paged by keyset.

Urgent and other flags are read as two index-ordered segments (status, urgent, created_at,
id), so a page costs an index range scan whatever the queue's length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, tuple_

from callengine.casework.errors import InvalidRequest
from callengine.casework.labels import FLAG_KIND_LABELS, display_name
from callengine.casework.paging import Page, check_limit, decode_cursor, page_of
from callengine.clock import from_db, to_db
from callengine.phones import mask_phone
from callengine.store.db import Database
from callengine.store.models import Person
from callengine.store.supervision import FLAG_CLOSED, FLAG_OPEN, Flag


@dataclass(frozen=True)
class FlagFilters:
    """What the queue shows; None means any. assigned_to is a username (a view turns 'me'
    into the signed-in user's)."""

    status: str = FLAG_OPEN  # open / closed
    kind: str | None = None
    urgent: bool | None = None
    district: str | None = None
    commune: str | None = None
    older_than: timedelta | None = None
    assigned_to: str | None = None
    person_id: int | None = None

    def check(self) -> FlagFilters:
        """Self, or InvalidRequest naming the bad filter."""
        if self.status not in (FLAG_OPEN, FLAG_CLOSED):
            raise InvalidRequest(f"Trạng thái cờ '{self.status}' không hợp lệ (open, closed).")
        if self.kind is not None and self.kind not in FLAG_KIND_LABELS:
            raise InvalidRequest(f"Loại cờ '{self.kind}' không hợp lệ "
                                 f"({', '.join(FLAG_KIND_LABELS)}).")
        if self.older_than is not None and self.older_than < timedelta(0):
            raise InvalidRequest("Độ tuổi của cờ không được âm.")
        return self


@dataclass(frozen=True)
class FlagRow:
    id: int
    kind: str
    urgent: bool
    status: str
    created_at: datetime
    age: timedelta
    person_id: int
    person_name: str
    phone_masked: str
    district: str | None
    commune: str | None
    detail: str | None
    assigned_to: str | None
    version: int


@dataclass(frozen=True)
class FlagCounts:
    open: int
    urgent_open: int
    by_kind: dict[str, int] = field(default_factory=dict)  # open flags per kind


_COLUMNS = (Flag.id, Flag.kind, Flag.urgent, Flag.status, Flag.created_at, Flag.person_id,
            Person.full_name, Person.phone, Person.district, Person.commune, Flag.detail,
            Flag.assigned_to, Flag.version)


def _base(filters: FlagFilters, now: datetime):
    query = select(*_COLUMNS).join(Person, Person.id == Flag.person_id).where(
        Flag.status == filters.status)
    for column, value in ((Flag.kind, filters.kind), (Person.district, filters.district),
                          (Person.commune, filters.commune),
                          (Flag.assigned_to, filters.assigned_to),
                          (Flag.person_id, filters.person_id)):
        if value is not None:
            query = query.where(column == value)
    if filters.older_than is not None:
        query = query.where(Flag.created_at <= to_db(now - filters.older_than))
    return query


def segment_statement(filters: FlagFilters, now: datetime, urgent: bool,
                      after: tuple | None, limit: int):
    """The SELECT of one segment (urgent or not) of the queue, after a (created_at, id)."""
    query = _base(filters, now).where(Flag.urgent.is_(urgent))
    if after is not None:
        query = query.where(tuple_(Flag.created_at, Flag.id) > tuple(after))
    return query.order_by(Flag.created_at, Flag.id).limit(limit)


def _row(r, now: datetime) -> FlagRow:
    created = from_db(r.created_at)
    return FlagRow(r.id, r.kind, bool(r.urgent), r.status, created, now - created,
                   r.person_id, display_name(r.person_id, r.full_name), mask_phone(r.phone),
                   r.district, r.commune, r.detail, r.assigned_to, r.version)


def flag_queue(db: Database, filters: FlagFilters = FlagFilters(), *, after: str | None = None,
               limit: int = 50, now: datetime) -> Page[FlagRow]:
    """One page of the queue: urgent flags first, then the oldest; `after` is a cursor."""
    filters, limit = filters.check(), check_limit(limit)
    cursor = decode_cursor(after, bool, datetime, int) if after else None
    segments = [u for u in (True, False) if filters.urgent in (None, u)]
    if cursor is not None:
        segments = [u for u in segments if u <= cursor[0]]  # urgent (True) comes first
    rows: list = []
    with db.session() as s:
        for urgent in segments:
            key = cursor[1:] if cursor is not None and cursor[0] == urgent else None
            rows += s.execute(segment_statement(filters, now, urgent, key,
                                                limit + 1 - len(rows))).all()
            if len(rows) > limit:
                break
    items, next_cursor = page_of([_row(r, now) for r in rows], limit,
                                 lambda f: (f.urgent, to_db(f.created_at), f.id))
    return Page(items, next_cursor)


def flag_counts(db: Database) -> FlagCounts:
    """Open flags, urgent open flags, and open flags per kind (the dashboard's tiles)."""
    with db.session() as s:
        rows = s.execute(select(Flag.kind, Flag.urgent, func.count())
                         .where(Flag.status == FLAG_OPEN)
                         .group_by(Flag.kind, Flag.urgent)).all()
    by_kind: dict[str, int] = {}
    for kind, _urgent, n in rows:
        by_kind[kind] = by_kind.get(kind, 0) + n
    return FlagCounts(sum(n for *_, n in rows), sum(n for _, u, n in rows if u), by_kind)
