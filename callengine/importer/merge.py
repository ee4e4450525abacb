"""Merging accepted rows into people: identity, filling, phones, notes and monitoring periods.

Pure and in memory: the service loads the stored people the rows may refer to, feeds every
record to a Merger, and writes what changed. The rules:

- a person is found by national ID; else by any of the row's numbers plus the folded name
  (a side without a name matches any name); two different ID numbers are two people;
- a second appearance fills empty fields, adds numbers and notes, and never erases;
- each appearance is one monitoring period (class, date) ending date + the class's days;
  the same appearance again changes nothing;
- the class is the most severe seen (F0 > F1 > F2 = returnee; a tie takes the newer list's),
  monitoring ends at the latest period end and never shortens; F0 are stored, not called.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable, Mapping

from callengine.importer.categories import F0, SEVERITY
from callengine.importer.rows import MAX_ALT_PHONES_CHARS, PersonRecord, join_notes, split_notes
from callengine.importer.text import fold
from callengine.places import place_codes
from callengine.store.models import (
    PERSON_ENDED,
    PERSON_F0,
    PERSON_MONITORING,
    PERSON_UNMONITORED,
)

# Statuses a list can end (the plan), reopen (a new exposure) or start from.
REOPENABLE = (PERSON_ENDED, PERSON_UNMONITORED)

PERSON_COLUMNS = (
    "full_name", "name_key", "phone", "alt_phones", "carrier", "national_id", "category",
    "birth_year", "sex", "village", "commune", "district", "address", "origin", "notes",
    "status", "monitoring_start", "monitoring_end",
    "district_code", "commune_code", "new_commune_code",
)
_FILLABLE = ("national_id", "birth_year", "sex", "village", "commune", "district", "address",
             "origin")


@dataclass(slots=True)
class Period:
    """One appearance: class and date, stored (id set) or new."""

    id: int | None
    category: str
    start: date
    end: date
    list_date: date | None
    order: tuple[int, int]  # (0, id) for stored periods, (1, n) for new ones: later wins ties
    file_index: int | None = None
    source: str | None = None
    stored_end: date | None = None


@dataclass(slots=True, eq=False)
class PersonState:
    """A person being merged: current values, values as stored, and periods."""

    id: int | None
    values: dict
    stored: dict | None  # values as loaded (None for a new person)
    periods: dict[tuple[str, date], Period]
    file_index: int  # file that first named the person in this import

    @property
    def phones(self) -> list[str]:
        return [self.values["phone"], *self.values["alt_phones"].split()]


class Merger:
    """Merges records into people, in memory, with the identity rules of the import."""

    def __init__(self, list_date: date, period_days: Mapping[str, int]) -> None:
        self.list_date = list_date
        self.period_days = period_days
        self.by_id: dict[str, PersonState] = {}
        self.by_phone: dict[str, list[PersonState]] = {}
        self.touched: dict[int, PersonState] = {}  # id(person) -> person, in first-touch order
        self._sequence = 0

    def load(self, person_rows: Iterable[Mapping], period_rows: Iterable[Mapping]) -> None:
        """Register stored people and their periods."""
        people: dict[int, PersonState] = {}
        for row in person_rows:
            values = {c: row[c] for c in PERSON_COLUMNS}
            values["alt_phones"] = values["alt_phones"] or ""
            stored = dict(values)
            values["name_key"] = fold(values["full_name"] or "")  # whoever stored it
            person = PersonState(row["id"], values, stored, {}, -1)
            people[row["id"]] = person
            self._index(person)
        for row in period_rows:
            person = people[row["person_id"]]
            person.periods[(row["category"], row["start_date"])] = Period(
                row["id"], row["category"], row["start_date"], row["end_date"],
                row["list_date"], (0, row["id"]), stored_end=row["end_date"])

    def _index(self, person: PersonState) -> None:
        if person.values["national_id"]:
            self.by_id.setdefault(person.values["national_id"], person)
        for phone in person.phones:
            bucket = self.by_phone.setdefault(phone, [])
            if not any(p is person for p in bucket):
                bucket.append(person)

    def add(self, record: PersonRecord, file_index: int, source: str) -> None:
        """Merge one record: find (or create) its person, then record the appearance."""
        person = self._find(record)
        if person is None:
            person = self._new(record, file_index)
        else:
            self._fill(person, record)
        if id(person) not in self.touched:
            self.touched[id(person)] = person
            if person.file_index < 0:
                person.file_index = file_index
        self._index(person)
        self._appearance(person, record, file_index, source)

    def find(self, record: PersonRecord) -> PersonState | None:
        """The loaded person a record is, by the rules below (health records use it too)."""
        return self._find(record)

    def _find(self, record: PersonRecord) -> PersonState | None:
        """By national ID; else by phone and folded name (a nameless side matches any name)."""
        if record.national_id and record.national_id in self.by_id:
            return self.by_id[record.national_id]
        fallback = None
        for number in (record.phone, *record.alt_phones):
            for person in self.by_phone.get(number.e164, ()):
                stored_id = person.values["national_id"]
                if record.national_id and stored_id and stored_id != record.national_id:
                    continue  # two different ID numbers: two people sharing a phone
                if person.values["name_key"] == record.name_key:
                    return person
                if fallback is None and (not person.values["name_key"] or not record.name_key):
                    fallback = person
        return fallback

    def _new(self, record: PersonRecord, file_index: int) -> PersonState:
        values = {
            "full_name": record.full_name, "name_key": record.name_key,
            "phone": record.phone.e164, "alt_phones": "", "carrier": record.phone.carrier,
            "national_id": record.national_id, "category": None,
            "birth_year": record.birth_year, "sex": record.sex, "village": record.village,
            "commune": record.commune, "district": record.district, "address": record.address,
            "origin": record.origin, "notes": None, "status": PERSON_MONITORING,
            "monitoring_start": None, "monitoring_end": None,
            "district_code": None, "commune_code": None, "new_commune_code": None,
        }
        person = PersonState(None, values, None, {}, file_index)
        self._merge_phones(person, record)
        self._merge_notes(person, record)
        return person

    def _fill(self, person: PersonState, record: PersonRecord) -> None:
        """A second appearance fills empty fields, adds phones and notes; it never erases."""
        values = person.values
        if not values["full_name"] and record.full_name:
            values["full_name"], values["name_key"] = record.full_name, record.name_key
        for name in _FILLABLE:
            new = getattr(record, name)
            if new is not None and values[name] in (None, ""):
                if name == "national_id" and new in self.by_id:
                    continue  # the ID belongs to someone else
                values[name] = new
        self._merge_phones(person, record)
        self._merge_notes(person, record)

    def _merge_phones(self, person: PersonState, record: PersonRecord) -> None:
        values = person.values
        alternates = values["alt_phones"].split()
        for number in (record.phone, *record.alt_phones):
            e164 = number.e164
            if e164 == values["phone"] or e164 in alternates:
                continue
            if len(" ".join([*alternates, e164])) > MAX_ALT_PHONES_CHARS:
                values["notes"] = with_note(values["notes"], f"Số khác: {number.national()}")
                continue
            alternates.append(e164)
        values["alt_phones"] = " ".join(alternates)
        if values["carrier"] in (None, "", "unknown") and record.phone.e164 == values["phone"]:
            values["carrier"] = record.phone.carrier

    def _merge_notes(self, person: PersonState, record: PersonRecord) -> None:
        for note in record.notes:
            person.values["notes"] = with_note(person.values["notes"], note)

    def _appearance(self, person: PersonState, record: PersonRecord, file_index: int,
                    source: str) -> None:
        """One monitoring period per (class, date); the same appearance again changes nothing."""
        key = (record.category, record.event_date)
        end = record.event_date + timedelta(days=self.period_days[record.category])
        period = person.periods.get(key)
        if period is not None:
            period.end = max(period.end, end)
            return
        self._sequence += 1
        person.periods[key] = Period(None, record.category, record.event_date, end,
                                      self.list_date, (1, self._sequence), file_index, source)

    def finish(self) -> None:
        """Class, status and monitoring dates of every touched person, from all periods."""
        for person in self.touched.values():
            derive(person, self.list_date)
            fill_place_codes(person.values)


def with_note(notes: str | None, note: str) -> str | None:
    """Notes plus one fragment, unless it is already there (so re-imports change nothing)."""
    fragments = split_notes(notes)
    if note in fragments:
        return notes
    return join_notes([*fragments, note])


def derive(person: PersonState, list_date: date) -> None:
    """Class, monitoring dates and status from all of the person's periods."""
    values = person.values
    periods = list(person.periods.values())
    stored = person.stored or {}
    ranked = [(SEVERITY[p.category], p.list_date or date.min, p.start, p.order, p.category)
              for p in periods]
    if stored.get("category") in SEVERITY and not any(p.id for p in periods):
        ranked.append((SEVERITY[stored["category"]], date.min, date.min, (-1, 0),
                       stored["category"]))
    values["category"] = max(ranked)[-1]
    old_end = stored.get("monitoring_end")
    values["monitoring_start"] = min(
        [p.start for p in periods] + ([stored["monitoring_start"]]
                                      if stored.get("monitoring_start") else []))
    values["monitoring_end"] = max([p.end for p in periods] + ([old_end] if old_end else []))
    if values["category"] == F0:
        values["status"] = PERSON_F0
    elif person.id is not None and stored.get("status") in REOPENABLE and \
            values["monitoring_end"] > (old_end or date.min) and \
            values["monitoring_end"] >= list_date:
        values["status"] = PERSON_MONITORING  # exposed (again): monitored from now on


def fill_place_codes(values: dict) -> None:
    """The official codes of the district and commune as they now read (callengine/places);
    None where the names match nothing or several units."""
    values.update(place_codes(values["district"], values["commune"]))


def classify(
    people: Iterable[PersonState],
) -> tuple[list[PersonState], list[PersonState], list[PersonState]]:
    """New people, stored people whose row or periods changed, and the unchanged."""
    created, changed, unchanged = [], [], []
    for person in people:
        if person.id is None:
            created.append(person)
        elif person.values != person.stored or any(
                p.id is None or p.end != p.stored_end for p in person.periods.values()):
            changed.append(person)
        else:
            unchanged.append(person)
    return created, changed, unchanged
