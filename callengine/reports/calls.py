"""The attempt log, newest first, filtered and paged by keyset (created_at, id); never OFFSET."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import Select, select

from callengine.labels import LIVE_CALL_LABEL, OUTCOME_LABELS, display_name
from callengine.paging import InvalidCursor, Page, decode_cursor, page_of
from callengine.paging import after as after_key
from callengine.phones import mask_phone
from callengine.reports.localday import day_range, local_time
from callengine.store.db import Database
from callengine.store.models import CallAttempt, Person

MAX_LIMIT = 200


@dataclass(frozen=True)
class CallFilters:
    """What the log is narrowed to; None means any."""

    day: date | None = None  # local day of the attempt's start
    outcome: str | None = None
    trunk: str | None = None
    district: str | None = None
    commune: str | None = None
    server: str | None = None
    person_id: int | None = None


@dataclass(frozen=True)
class CallRow:
    """One attempt as the log shows it (phone masked)."""

    id: str
    time: datetime  # local
    person_id: int
    name: str
    phone: str  # masked
    district: str | None
    commune: str | None
    trunk: str
    server: str
    state: str
    outcome: str | None
    outcome_label: str
    cause: int | None
    sip_code: int | None
    duration: float | None  # seconds from the start of the attempt to its end
    talk: float | None  # seconds from the answer to the end

    def to_dict(self) -> dict:
        """JSON-ready, the time as ISO 8601."""
        return asdict(self) | {"time": self.time.isoformat()}


_COLUMNS = (
    CallAttempt.id, CallAttempt.created_at, CallAttempt.person_id, Person.full_name,
    CallAttempt.phone, Person.district, Person.commune, CallAttempt.trunk,
    CallAttempt.server_id, CallAttempt.state, CallAttempt.outcome, CallAttempt.cause,
    CallAttempt.sip_code, CallAttempt.answered_at, CallAttempt.ended_at,
)
_EQUALS = (("outcome", CallAttempt.outcome), ("trunk", CallAttempt.trunk),
           ("district", Person.district), ("commune", Person.commune),
           ("server", CallAttempt.server_id), ("person_id", CallAttempt.person_id))


def _filtered(filters: CallFilters, tz: str) -> Select:
    query = select(*_COLUMNS).join(Person, Person.id == CallAttempt.person_id)
    for name, column in _EQUALS:
        value = getattr(filters, name)
        if value is not None:
            query = query.where(column == value)
    if filters.day is not None:
        start, end = day_range(filters.day, tz)
        query = query.where(CallAttempt.created_at >= start, CallAttempt.created_at < end)
    return query


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if start and end else None


def _row(r, tz: str) -> CallRow:
    return CallRow(
        id=r.id, time=local_time(r.created_at, tz), person_id=r.person_id,
        name=display_name(r.person_id, r.full_name), phone=mask_phone(r.phone),
        district=r.district, commune=r.commune, trunk=r.trunk, server=r.server_id,
        state=r.state, outcome=r.outcome,
        outcome_label=OUTCOME_LABELS.get(r.outcome, r.outcome) if r.outcome else LIVE_CALL_LABEL,
        cause=r.cause, sip_code=r.sip_code, duration=_seconds(r.created_at, r.ended_at),
        talk=_seconds(r.answered_at, r.ended_at),
    )


def _key(cursor: str) -> list:
    """The (created_at, id) of a cursor made by this log; InvalidCursor for anything else."""
    key = decode_cursor(cursor, 2)
    if not (isinstance(key[0], datetime) and isinstance(key[1], str)):
        raise InvalidCursor()
    return key


def calls_log(db: Database, filters: CallFilters, *, tz: str = "Asia/Ho_Chi_Minh",
              after: str | None = None, limit: int = 50) -> Page[CallRow]:
    """One page of attempts, newest first; `after` is the previous page's `next` cursor."""
    limit = max(1, min(limit, MAX_LIMIT))
    query = _filtered(filters, tz)
    if after is not None:
        query = query.where(after_key((CallAttempt.created_at, CallAttempt.id), _key(after)))
    query = query.order_by(CallAttempt.created_at.desc(), CallAttempt.id.desc()).limit(limit + 1)
    with db.session() as s:
        rows = s.execute(query).all()
    page = page_of(rows, limit, lambda r: (r.created_at, r.id))
    return Page([_row(r, tz) for r in page.items], page.next)
