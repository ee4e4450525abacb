"""Check-ins at venues: validation, merging repeats, linking people, flags, limits, retention.

- name, phone (the importer's phone rules) and an optional national ID are checked;
- a repeat of one phone at one venue within 30 minutes of its last visit is the same visit
  (last_seen_at and visits move on; a symptom declared in a repeat is kept);
- a check-in is linked to the person the import's identity rules would find: by national
  ID, else by primary phone and folded name (a nameless side matches any name);
- a declared symptom (fever, cough, breath, taste/smell) raises a declaration flag (urgent
  for breath), for a person created `unmonitored` if none is known; contact with an F0 and
  travel are recorded and shown, not flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from callengine.audit import Actor, record_in
from callengine.clock import from_db, to_db
from callengine.flags import raise_record_flag
from callengine.health.errors import InvalidForm, NotFound
from callengine.importer.rows import compact_national_id
from callengine.importer.text import fold, has_letter
from callengine.phones import InvalidPhone, PhoneNumber, mask_phone, normalize_phone
from callengine.store.db import Database
from callengine.store.models import PERSON_UNMONITORED, Person
from callengine.store.supervision import FLAG_DECLARATION
from callengine.store.venues import CheckIn, Venue

MERGE_WINDOW = timedelta(minutes=30)
CHECKIN_SENT = "checkin.submit"  # the audit rows the per-client limit counts
CHECKIN_REFUSED = "checkin.refused"
MAX_NAME = 200
SYMPTOMS = ("fever", "cough", "breath", "taste_smell")  # flagged
EXPOSURES = ("contact_f0", "travel")  # recorded and shown
DECLARATION = SYMPTOMS + EXPOSURES
URGENT_SYMPTOMS = ("breath",)
DECLARATION_LABELS = {
    "fever": "Sốt",
    "cough": "Ho",
    "breath": "Khó thở",
    "taste_smell": "Mất vị giác hoặc khứu giác",
    "contact_f0": "Tiếp xúc gần với F0",
    "travel": "Đi về từ vùng có dịch trong 14 ngày",
}


@dataclass(frozen=True)
class Visitor:
    """What a visitor declared, checked."""

    full_name: str
    phone: PhoneNumber
    national_id: str | None
    declared: frozenset[str]

    @property
    def symptoms(self) -> tuple[str, ...]:
        return tuple(item for item in SYMPTOMS if item in self.declared)


@dataclass(frozen=True)
class CheckInResult:
    checkin_id: int
    merged: bool  # a repeat within the merge window: the earlier visit was updated
    flag_id: int | None  # the declaration flag, when a symptom was declared


@dataclass(frozen=True)
class CheckInRow:
    """A check-in as staff see it in a venue's list: name and phone masked."""

    id: int
    checked_in_at: datetime  # aware UTC
    last_seen_at: datetime
    visits: int
    name_masked: str
    phone_masked: str
    declared: tuple[str, ...]
    person_id: int | None


def _checked(value: Any) -> bool:
    return value not in (None, False, "", "0", "false", "off", "no")


def read_visitor(raw: Mapping[str, Any]) -> Visitor:
    """The visitor from a form or JSON body, or InvalidForm naming every bad field."""
    errors: dict[str, str] = {}
    name = " ".join(str(raw.get("full_name") or "").split())
    if not name:
        errors["full_name"] = "Hãy nhập họ và tên."
    elif len(name) > MAX_NAME or not has_letter(name):
        errors["full_name"] = f"Họ và tên phải có chữ và dài không quá {MAX_NAME} ký tự."
    phone = None
    raw_phone = str(raw.get("phone") or "").strip()
    if not raw_phone:
        errors["phone"] = "Hãy nhập số điện thoại."
    else:
        try:
            phone = normalize_phone(raw_phone[:40])
        except InvalidPhone as error:
            errors["phone"] = str(error)
    national_id = None
    raw_id = str(raw.get("national_id") or "").strip()
    if raw_id:
        national_id = compact_national_id(raw_id[:40])
        if national_id is None:
            errors["national_id"] = ("Số CCCD/CMND phải có 9 hoặc 12 chữ số "
                                     "(hộ chiếu: một chữ cái và 7–8 chữ số).")
    if errors:
        raise InvalidForm(errors)
    assert phone is not None  # read when there are no errors
    declared = frozenset(item for item in DECLARATION if _checked(raw.get(item)))
    return Visitor(name, phone, national_id, declared)


# --- people ----------------------------------------------------------------------------------


def find_person(s: Session, visitor: Visitor) -> Person | None:
    """The person the import's identity rules would find for this visitor, if any."""
    if visitor.national_id:
        person = s.scalars(select(Person).where(
            Person.national_id == visitor.national_id)).first()
        if person is not None:
            return person
    candidates = s.scalars(select(Person).where(Person.phone == visitor.phone.e164)
                           .order_by(Person.id)).all()  # as the import loads them
    name_key, fallback = fold(visitor.full_name), None
    for person in candidates:
        if visitor.national_id and person.national_id not in (None, visitor.national_id):
            continue  # two different ID numbers: two people sharing a phone
        if person.name_key == name_key:
            return person
        if fallback is None and not person.name_key:
            fallback = person
    return fallback


def _new_person(s: Session, visitor: Visitor, now: datetime) -> Person:
    """A person first known from a check-in: not monitored (a list or a supervisor may)."""
    person = Person(full_name=visitor.full_name, name_key=fold(visitor.full_name),
                    phone=visitor.phone.e164, carrier=visitor.phone.carrier,
                    national_id=visitor.national_id, status=PERSON_UNMONITORED,
                    created_at=to_db(now), updated_at=to_db(now))
    s.add(person)
    s.flush()
    return person


# --- checking in -----------------------------------------------------------------------------


def _recent_visit(s: Session, venue_id: int, e164: str, now: datetime) -> CheckIn | None:
    return s.scalars(select(CheckIn).where(
        CheckIn.venue_id == venue_id, CheckIn.phone == e164,
        CheckIn.checked_in_at >= to_db(now - MERGE_WINDOW - timedelta(days=1)),
        CheckIn.last_seen_at >= to_db(now - MERGE_WINDOW))
        .order_by(CheckIn.last_seen_at.desc()).limit(1).with_for_update()).first()


def _merge(visit: CheckIn, visitor: Visitor, now: datetime) -> None:
    visit.last_seen_at = max(visit.last_seen_at, to_db(now))
    visit.visits += 1
    visit.national_id = visit.national_id or visitor.national_id
    for item in visitor.declared:
        setattr(visit, item, True)


def _new_visit(venue_id: int, visitor: Visitor, now: datetime) -> CheckIn:
    return CheckIn(venue_id=venue_id, full_name=visitor.full_name, phone=visitor.phone.e164,
                   national_id=visitor.national_id, checked_in_at=to_db(now),
                   last_seen_at=to_db(now), visits=1, created_at=to_db(now),
                   **{item: item in visitor.declared for item in DECLARATION})


def declared_items(visit: CheckIn) -> tuple[str, ...]:
    return tuple(item for item in DECLARATION if getattr(visit, item))


def _flag_detail(visit: CheckIn, venue: Venue) -> str:
    labels = (DECLARATION_LABELS[i] for i in declared_items(visit))
    items = ", ".join(label[0].lower() + label[1:] for label in labels)  # "F0" stays
    return f"Tự khai báo tại {venue.name}: {items}"[:300]


def _raise_flag(s: Session, visit: CheckIn, venue: Venue, now: datetime, tz: str) -> int:
    assert visit.person_id is not None  # a visitor with symptoms always has a person
    urgent = any(getattr(visit, item) for item in URGENT_SYMPTOMS)
    detail = _flag_detail(visit, venue)
    flag = raise_record_flag(
        s, person_id=visit.person_id, kind=FLAG_DECLARATION, urgent=urgent, detail=detail,
        reference=f"checkin:{visit.id}", day=now.astimezone(ZoneInfo(tz)).date(), now=now)
    flag.urgent = flag.urgent or urgent  # a merged repeat may declare more: keep it all
    flag.detail = detail
    return flag.id


def check_in(db: Database, venue_id: int, visitor: Visitor, *, now: datetime, tz: str,
             actor: Actor | None = None) -> CheckInResult:
    """Record a visit (or merge a repeat), link the person, flag a declared symptom and, for
    an `actor`, write the audit row: all in one transaction. `tz` is the engine's time zone
    (the flag's day)."""
    with db.session() as s:
        venue = s.get_one(Venue, venue_id)  # the caller read it
        visit = _recent_visit(s, venue_id, visitor.phone.e164, now)
        merged = visit is not None
        if visit is not None:
            _merge(visit, visitor, now)
        else:
            visit = _new_visit(venue_id, visitor, now)
            s.add(visit)
        if visit.person_id is None:
            person = find_person(s, visitor)
            if person is None and visitor.symptoms:
                person = _new_person(s, visitor, now)
            visit.person_id = person.id if person is not None else None
        s.flush()
        flag_id = _raise_flag(s, visit, venue, now, tz) if visitor.symptoms else None
        if actor is not None:
            record_in(s, CHECKIN_SENT, actor=actor, at=now, object_type="venue",
                      object_id=venue_id, detail={"checkin": visit.id, "merged": merged,
                                                  "flag": flag_id})
        return CheckInResult(visit.id, merged, flag_id)


# --- limits and lists ------------------------------------------------------------------------


def venue_retry_after(db: Database, venue_id: int, now: datetime,
                      rate: tuple[int, float]) -> int | None:
    """Seconds to wait if the venue took `rate` (count, seconds) new check-ins already."""
    limit, span = rate
    with db.session() as s:
        used = s.scalar(select(func.count()).select_from(CheckIn).where(
            CheckIn.venue_id == venue_id,
            CheckIn.checked_in_at >= to_db(now - timedelta(seconds=span))))
    return int(span) if (used or 0) >= limit else None


def mask_name(full_name: str) -> str:
    """'Nguyễn Văn An' -> 'Nguyễn V*** A***': the family name and initials only."""
    words = full_name.split()
    return " ".join([words[0], *(w[0] + "***" for w in words[1:])]) if words else ""


def recent_checkins(db: Database, venue_id: int, *, limit: int = 50) -> list[CheckInRow]:
    """The venue's newest check-ins, names and phones masked."""
    with db.session() as s:
        visits = s.scalars(select(CheckIn).where(CheckIn.venue_id == venue_id)
                           .order_by(CheckIn.checked_in_at.desc(), CheckIn.id.desc())
                           .limit(limit)).all()
        return [CheckInRow(v.id, from_db(v.checked_in_at), from_db(v.last_seen_at), v.visits,
                           mask_name(v.full_name), mask_phone(v.phone), declared_items(v),
                           v.person_id) for v in visits]


@dataclass(frozen=True)
class CheckInDetail:
    """One check-in in full, for the supervisor who follows up its flag."""

    id: int
    venue_id: int
    venue_name: str
    full_name: str
    phone: str  # E.164
    national_id: str | None
    checked_in_at: datetime  # aware UTC
    last_seen_at: datetime
    visits: int
    declared: tuple[str, ...]
    person_id: int | None


def get_checkin(db: Database, checkin_id: int) -> CheckInDetail:
    """A check-in in full; NotFound once retention deleted it."""
    with db.session() as s:
        visit = s.get(CheckIn, checkin_id)
        if visit is None:
            raise NotFound(f"Không có lượt khai báo số {checkin_id} (có thể đã quá hạn lưu).")
        return CheckInDetail(visit.id, visit.venue_id, visit.venue.name, visit.full_name,
                             visit.phone, visit.national_id, from_db(visit.checked_in_at),
                             from_db(visit.last_seen_at), visit.visits, declared_items(visit),
                             visit.person_id)


def purge_checkins(db: Database, *, now: datetime, retention_days: int) -> int:
    """Delete check-ins older than the retention; how many went."""
    cutoff = to_db(now - timedelta(days=retention_days))
    with db.session() as s:
        return s.execute(delete(CheckIn).where(CheckIn.checked_in_at < cutoff)  # type: ignore[attr-defined]  # DML gives a CursorResult
                         .execution_options(synchronize_session=False)).rowcount
