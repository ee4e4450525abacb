"""A supervisor confirms a case's contacts: they are enrolled exactly like an imported list.

The chosen people become import records (callengine.importer.rows.PersonRecord) and go through
the importer's own writer (service.write_in_session): the same identity matching, class
promotion (F1 over F2, an F0 never demoted), monitoring periods and an import batch naming who
confirmed. Contacts from check-ins count their monitoring from the last overlap; people added
by hand from the day of confirmation. The daily plan calls them from the next morning.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, update
from sqlalchemy.orm import Session

from callengine.casework.errors import InvalidRequest, NotFound
from callengine.clock import from_db, to_db
from callengine.health.exposure import (
    Contact,
    Exposure,
    ReviewConflict,
    check_open,
    exposure_of_review,
    get_review,
)
from callengine.importer.categories import F0, F1, F2
from callengine.importer.rows import MAX_LENGTHS, PersonRecord
from callengine.importer.service import FileSummary, Located, Validation, write_in_session
from callengine.importer.text import fold
from callengine.phones import InvalidPhone, normalize_phone
from callengine.store.db import Database
from callengine.store.exposure import REVIEW_CONFIRMED, REVIEW_OPEN, ExposureReview
from callengine.store.models import Person

_TEXT_FIELDS = ("full_name", "phone", "national_id", "commune", "district", "address")


@dataclass(frozen=True)
class ContactChoice:
    """One person the supervisor confirms: a candidate's check-in, a known person, or someone
    typed in (name and phone); typed fields override the candidate's."""

    checkin_id: int | None = None
    person_id: int | None = None
    full_name: str | None = None
    phone: str | None = None
    national_id: str | None = None
    commune: str | None = None
    district: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class Confirmation:
    review_id: int
    batch_id: int
    f1: int  # records enrolled as F1
    f2: int
    created: int  # people new to the register
    updated: int
    unchanged: int
    skipped_cases: tuple[str, ...]  # chosen people who are F0 themselves: not enrolled


def parse_choices(items: object, label: str) -> list[ContactChoice]:
    """Choices from JSON (`{"checkin_id": n}`, `{"person_id": n}`, `{"full_name", "phone"}`)."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise InvalidRequest(f"'{label}' phải là một danh sách.")
    return [_choice(item, f"{label}[{n}]") for n, item in enumerate(items)]


def _choice(item: object, where: str) -> ContactChoice:
    if not isinstance(item, dict):
        raise InvalidRequest(f"{where}: phải là một đối tượng JSON.")
    unknown = sorted(set(item) - {"checkin_id", "person_id", *_TEXT_FIELDS})
    if unknown:
        raise InvalidRequest(f"{where}: trường không hợp lệ: {', '.join(unknown)}.")
    values: dict = {}
    for key in ("checkin_id", "person_id"):
        if item.get(key) is not None:
            if not isinstance(item[key], int) or isinstance(item[key], bool):
                raise InvalidRequest(f"{where}.{key}: phải là một số nguyên.")
            values[key] = item[key]
    for key in _TEXT_FIELDS:
        if item.get(key) is not None:
            if not isinstance(item[key], str):
                raise InvalidRequest(f"{where}.{key}: phải là chuỗi ký tự.")
            values[key] = item[key].strip() or None
    return ContactChoice(**values)


def confirm_exposure(db: Database, review_id: int, *, f1: list[ContactChoice],
                     f2: list[ContactChoice], actor: str, now: datetime, settings,
                     version: int | None = None) -> Confirmation:
    """Enrol the chosen F1 and F2 in one transaction; refused if already confirmed, or if the
    review changed since `version` was read (another supervisor)."""
    if not f1 and not f2:
        raise InvalidRequest("Chưa chọn người nào để xác nhận.")
    with db.session() as s:
        review = get_review(s, review_id)
        check_open(review, version)
        _claim(s, review, actor, now)
        exposure = exposure_of_review(s, review, settings)
        today = _local_day(now, settings.timezone)
        builder = _RecordBuilder(s, exposure, today, settings.timezone, review)
        for category, choices in ((F1, f1), (F2, f2)):
            for n, choice in enumerate(choices):
                builder.add(choice, category, f"{category.lower()}[{n}]")
        validation = builder.validation(review)
        counts = write_in_session(s, validation, now=now, period_days=settings.monitoring_days(),
                                  actor=actor)
        review.batch_id = counts.batch_ids[0] if counts.batch_ids else None
        return Confirmation(review.id, review.batch_id or 0, builder.count(F1),
                            builder.count(F2), counts.created, counts.updated,
                            counts.unchanged, tuple(builder.skipped))


def _claim(s: Session, review: ExposureReview, actor: str, now: datetime) -> None:
    """Compare-and-set: of two supervisors confirming at once, the second is refused."""
    table = cast(Table, ExposureReview.__table__)
    claimed = s.execute(update(table).where(  # type: ignore[attr-defined]  # DML gives a CursorResult
        table.c.id == review.id, table.c.status == REVIEW_OPEN,
        table.c.version == review.version,
    ).values(status=REVIEW_CONFIRMED, confirmed_by=actor[:100], confirmed_at=to_db(now),
             version=review.version + 1)).rowcount
    if claimed != 1:
        raise ReviewConflict("Người khác vừa xác nhận hoặc thay đổi đợt rà soát này; hãy tải "
                             "lại trang.")
    s.refresh(review)


def _local_day(moment: datetime, tz: str) -> date:
    aware = moment if moment.tzinfo is not None else from_db(moment)
    return aware.astimezone(ZoneInfo(tz)).date()


class _RecordBuilder:
    """Turns choices into the import records the importer's writer takes."""

    def __init__(self, s: Session, exposure: Exposure, today: date, tz: str,
                 review: ExposureReview) -> None:
        self.s, self.exposure, self.today, self.tz = s, exposure, today, tz
        self.note = f"Tiếp xúc với ca F0 #{review.person_id} (rà soát #{review.id})"
        self.records: list[PersonRecord] = []
        self.skipped: list[str] = []

    def add(self, choice: ContactChoice, category: str, where: str) -> None:
        base, contact = self._base(choice, where)
        if base.get("category") == F0:
            self.skipped.append(base["full_name"] or where)
            return
        values = {**base, **{k: v for k in _TEXT_FIELDS if (v := getattr(choice, k))}}
        full_name = (values.get("full_name") or "")[:MAX_LENGTHS["full_name"]]
        if not full_name:
            raise InvalidRequest(f"{where}: thiếu họ tên.")
        if not values.get("phone"):
            raise InvalidRequest(f"{where} ({full_name}): thiếu số điện thoại.")
        try:
            phone = normalize_phone(values["phone"])
        except InvalidPhone as error:
            raise InvalidRequest(f"{where} ({full_name}): {error}") from None
        event_date = self._day(contact.candidate.last_contact) if contact else self.today
        self.records.append(PersonRecord(
            row=len(self.records) + 1, full_name=full_name, name_key=fold(full_name),
            phone=phone, alt_phones=(), national_id=values.get("national_id"),
            category=category, event_date=min(event_date, self.today),
            commune=_cut(values.get("commune"), "commune"),
            district=_cut(values.get("district"), "district"),
            address=_cut(values.get("address"), "address"), notes=(self.note,)))

    def _base(self, choice: ContactChoice, where: str) -> tuple[dict, Contact | None]:
        """The stored values a choice starts from, and its candidate (if it is one)."""
        if choice.checkin_id is not None:
            contact = self.exposure.contact_for_checkin(choice.checkin_id)
            if contact is None:
                raise InvalidRequest(f"{where}: lượt check-in số {choice.checkin_id} không có "
                                     "trong danh sách tiếp xúc của đợt rà soát này.")
            if contact.known is not None:
                return self._person(contact.known.id, where), contact
            c = contact.candidate
            return {"full_name": c.full_name, "phone": c.phone,
                    "national_id": c.national_id}, contact
        if choice.person_id is not None:
            if choice.person_id == self.exposure.person_id:
                raise InvalidRequest(f"{where}: đây là chính ca F0 của đợt rà soát.")
            return (self._person(choice.person_id, where),
                    self.exposure.contact_for_person(choice.person_id))
        return {}, None

    def _person(self, person_id: int, where: str) -> dict:
        person = self.s.get(Person, person_id)
        if person is None:
            raise NotFound(f"{where}: không có người số {person_id}.")
        return {"full_name": person.full_name, "phone": person.phone,
                "national_id": person.national_id, "category": person.category}

    def _day(self, moment: datetime) -> date:
        return _local_day(moment, self.tz)

    def count(self, category: str) -> int:
        return sum(1 for r in self.records if r.category == category)

    def validation(self, review: ExposureReview) -> Validation:
        if not self.records:
            raise InvalidRequest("Không có ai để ghi: những người được chọn đều đã là F0.")
        digest = hashlib.sha256(json.dumps(
            [asdict(r) | {"phone": r.phone.e164} for r in self.records],
            default=str, sort_keys=True).encode()).hexdigest()
        summary = FileSummary(f"Rà soát tiếp xúc #{review.id} (ca F0 #{review.person_id})",
                              digest, sheets=1, rows=len(self.records))
        validation = Validation(list_date=self.today, category=None, files=[summary])
        validation.records = [Located(0, "Xác nhận", r) for r in self.records]
        return validation


def _cut(value: str | None, name: str) -> str | None:
    return value[:MAX_LENGTHS[name]] if value else None
