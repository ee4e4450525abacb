"""Registering samples (entry form, API, import) and reading them back.

A sample belongs to one person, found by id or by phone and name with the list import's
identity rules (health/people.py); a pooled sample (gộp mẫu) belongs to its members instead.
Codes are unique, kept upper case without spaces, and never appear in a URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from callengine.casework.errors import InvalidRequest, NotAllowedNow, NotFound
from callengine.clock import from_db, to_db
from callengine.health.labels import NO_RESULT, RESULT_LABELS, SAMPLE_KIND_LABELS
from callengine.health.people import identify_person
from callengine.importer.records import InvalidValue
from callengine.importer.text import cell_text
from callengine.paging import Page, after, decode_cursor, page_of
from callengine.phones import PhoneNumber, mask_phone
from callengine.store.db import Database
from callengine.store.models import Person
from callengine.store.samples import KIND_POOLED, RESULTS, SAMPLE_KINDS, PoolMember, Sample

CODE = re.compile(r"^[A-Z0-9][A-Z0-9._/-]{2,39}$")
FUTURE_TOLERANCE = timedelta(minutes=10)  # clocks of sampling teams' phones run ahead
MAX_SITE, MAX_TEAM = 200, 100


def normalise_code(raw: object) -> str:
    """A sample code as stored: upper case, no spaces; InvalidValue when it cannot be one."""
    text = "".join(cell_text(raw).split()).upper()
    if not CODE.match(text):
        raise InvalidValue(f"mã mẫu '{cell_text(raw)[:50]}' không hợp lệ (3–40 ký tự: chữ, "
                           "số và - _ . /)")
    return text


@dataclass(frozen=True)
class PersonRef:
    """Whose sample: a stored person's id, or a phone and a name (found or created)."""

    person_id: int | None = None
    phone: PhoneNumber | None = None
    full_name: str = ""


@dataclass(frozen=True)
class NewSample:
    code: str  # as typed; stored normalised (normalise_code)
    kind: str  # SAMPLE_KINDS
    taken_at: datetime  # aware
    person: PersonRef | None = None  # every kind but pooled
    members: tuple[PersonRef, ...] = ()  # pooled only
    site: str | None = None
    team: str | None = None


def check_new_sample(new: NewSample, now: datetime) -> None:
    """InvalidRequest (Vietnamese) for a sample that cannot be registered as given."""
    if new.kind not in SAMPLE_KINDS:
        raise InvalidRequest(f"Loại mẫu '{new.kind}' không hợp lệ (dùng "
                             f"{', '.join(SAMPLE_KINDS)}).")
    if new.taken_at > now + FUTURE_TOLERANCE:
        raise InvalidRequest("Thời gian lấy mẫu ở tương lai.")
    if new.kind == KIND_POOLED and (new.person is not None or not new.members):
        raise InvalidRequest("Mẫu gộp cần danh sách người trong mẫu (không gắn với một người).")
    if new.kind != KIND_POOLED and (new.person is None or new.members):
        raise InvalidRequest("Mẫu đơn cần đúng một người (mã người, hoặc số điện thoại và họ "
                             "tên).")


def resolve_person(s: Session, ref: PersonRef, now: datetime) -> Person:
    """The person a reference names (NotFound for an unknown id)."""
    if ref.person_id is not None:
        person = s.get(Person, ref.person_id)
        if person is None:
            raise NotFound(f"Không tìm thấy người #{ref.person_id}.")
        return person
    if ref.phone is None:
        raise InvalidRequest("Cần mã người, hoặc số điện thoại và họ tên.")
    return identify_person(s, ref.phone, ref.full_name, now)


def add_sample(s: Session, new: NewSample, *, actor: str | None, now: datetime,
               import_id: int | None = None) -> Sample:
    """Store a checked sample in the caller's transaction (NotAllowedNow for a used code)."""
    check_new_sample(new, now)
    try:
        code = normalise_code(new.code)
    except InvalidValue as exc:
        raise InvalidRequest(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None
    if s.scalar(select(Sample.id).where(Sample.code == code)) is not None:
        raise NotAllowedNow(f"Mã mẫu '{code}' đã được đăng ký.")
    person = resolve_person(s, new.person, now) if new.person is not None else None
    sample = Sample(code=code, kind=new.kind, taken_at=to_db(new.taken_at),
                    site=_short(new.site, MAX_SITE), team=_short(new.team, MAX_TEAM),
                    person_id=person.id if person else None, created_at=to_db(now),
                    created_by=(actor or None) and actor[:100], import_id=import_id)
    s.add(sample)
    s.flush()
    for ref in new.members:
        add_member(s, sample, resolve_person(s, ref, now))
    return sample


def add_member(s: Session, pool: Sample, person: Person) -> bool:
    """Put a person in a pooled sample; False if they are in it already."""
    known = s.scalar(select(PoolMember.id).where(PoolMember.pool_id == pool.id,
                                                 PoolMember.person_id == person.id))
    if known is not None:
        return False
    s.add(PoolMember(pool_id=pool.id, person_id=person.id))
    s.flush()
    return True


def _short(text: str | None, size: int) -> str | None:
    text = " ".join((text or "").split())
    return text[:size] or None


def register_sample(db: Database, new: NewSample, *, actor: str | None,
                    now: datetime) -> SampleView:
    """Register one sample (entry form, API) in its own transaction."""
    with db.session() as s:
        sample = add_sample(s, new, actor=actor, now=now)
        return _view(s, sample.id)


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberView:
    person_id: int
    full_name: str
    phone_masked: str
    retest_requested_at: datetime | None
    later_results: tuple[tuple[str, str], ...]  # (code, result label) of their later samples


@dataclass(frozen=True)
class SampleView:
    """A sample as staff see it (phones masked)."""

    id: int
    code: str
    kind: str
    taken_at: datetime  # aware UTC
    site: str | None
    team: str | None
    person_id: int | None
    full_name: str
    phone_masked: str
    result: str | None
    ct_value: float | None
    result_at: datetime | None
    created_by: str | None
    members: tuple[MemberView, ...] = field(default_factory=tuple)

    @property
    def kind_label(self) -> str:
        return SAMPLE_KIND_LABELS.get(self.kind, self.kind)

    @property
    def result_label(self) -> str:
        return RESULT_LABELS.get(self.result or "", NO_RESULT)

    def to_dict(self) -> dict:
        """The API's form (the code is in the body, never the URL)."""
        return {
            "id": self.id, "sample_code": self.code, "type": self.kind,
            "taken_at": self.taken_at.isoformat(), "site": self.site, "team": self.team,
            "person_id": self.person_id, "result": self.result, "ct_value": self.ct_value,
            "result_at": self.result_at.isoformat() if self.result_at else None,
            "members": [{"person_id": m.person_id,
                         "retest_requested": m.retest_requested_at is not None}
                        for m in self.members],
        }


def get_sample(db: Database, sample_id: int) -> SampleView:
    """One sample (NotFound when there is none)."""
    with db.session() as s:
        return _view(s, sample_id)


def pool_of_member(db: Database, member_id: int) -> int:
    """The pooled sample a member row belongs to (NotFound when there is none)."""
    with db.session() as s:
        pool_id = s.scalar(select(PoolMember.pool_id).where(PoolMember.id == member_id))
    if pool_id is None:
        raise NotFound(f"Không tìm thấy người #{member_id} trong mẫu gộp.")
    return pool_id


def _view(s: Session, sample_id: int) -> SampleView:
    sample = s.scalars(select(Sample).where(Sample.id == sample_id).options(
        selectinload(Sample.person),
        selectinload(Sample.members).selectinload(PoolMember.person))).first()
    if sample is None:
        raise NotFound(f"Không tìm thấy mẫu #{sample_id}.")
    members = tuple(_member_view(s, sample, m) for m in sample.members)
    return _summary(sample, members)


def _summary(sample: Sample, members: tuple[MemberView, ...] = ()) -> SampleView:
    person = sample.person
    return SampleView(
        id=sample.id, code=sample.code, kind=sample.kind, taken_at=from_db(sample.taken_at),
        site=sample.site, team=sample.team, person_id=sample.person_id,
        full_name=person.full_name if person else "",
        phone_masked=mask_phone(person.phone) if person else "",
        result=sample.result, ct_value=sample.ct_value,
        result_at=from_db(sample.result_at) if sample.result_at else None,
        created_by=sample.created_by, members=members)


def _member_view(s: Session, pool: Sample, member: PoolMember) -> MemberView:
    """A member and the results of their own samples taken since the pool: a negative one
    is shown beside them, and clears nothing by itself."""
    later = s.execute(select(Sample.code, Sample.result).where(
        Sample.person_id == member.person_id, Sample.taken_at >= pool.taken_at,
        Sample.id != pool.id).order_by(Sample.taken_at)).all()
    return MemberView(
        member.person_id, member.person.full_name, mask_phone(member.person.phone),
        from_db(member.retest_requested_at) if member.retest_requested_at else None,
        tuple((code, RESULT_LABELS.get(result or "", NO_RESULT)) for code, result in later))


@dataclass(frozen=True)
class SampleFilters:
    result: str | None = None  # a RESULTS code, or "none" for samples still waiting
    day: date | None = None  # local day the sample was taken
    site: str | None = None  # part of the site's name


def list_samples(db: Database, filters: SampleFilters, timezone_name: str, *,
                 cursor: str | None = None, limit: int = 50) -> Page[SampleView]:
    """Samples newest first, keyset-paged by (taken_at, id)."""
    statement = select(Sample).options(selectinload(Sample.person))
    if filters.result == "none":
        statement = statement.where(Sample.result.is_(None))
    elif filters.result in RESULTS:
        statement = statement.where(Sample.result == filters.result)
    if filters.day is not None:
        start = datetime.combine(filters.day, datetime.min.time(), ZoneInfo(timezone_name))
        statement = statement.where(Sample.taken_at >= to_db(start),
                                    Sample.taken_at < to_db(start + timedelta(days=1)))
    if filters.site:
        statement = statement.where(Sample.site.ilike(f"%{_like(filters.site)}%",
                                                      escape="\\"))
    if cursor:
        taken_at, sample_id = decode_cursor(cursor, 2)
        statement = statement.where(after((Sample.taken_at, Sample.id),
                                          (to_db(taken_at), int(sample_id))))
    statement = statement.order_by(Sample.taken_at.desc(), Sample.id.desc()).limit(limit + 1)
    with db.session() as s:
        rows = [_summary(sample) for sample in s.scalars(statement)]
    return page_of(rows, limit, lambda r: (r.taken_at.astimezone(timezone.utc), r.id))


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
