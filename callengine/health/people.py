"""Finding the person a health record names by phone and name, with the list import's
identity rules (importer/merge.py): the same number plus the same folded name, or a side
without a name; a new person is created unmonitored (a record alone starts no calls)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from callengine.clock import to_db
from callengine.importer.categories import DEFAULT_PERIOD_DAYS, F2
from callengine.importer.merge import Merger
from callengine.importer.rows import MAX_LENGTHS, PersonRecord
from callengine.importer.service import _load_existing
from callengine.importer.text import clean, fold
from callengine.phones import PhoneNumber
from callengine.store.models import PERSON_UNMONITORED, Person


def identify_person(s: Session, phone: PhoneNumber, full_name: str, now: datetime) -> Person:
    """The stored person this phone and name are, or a new unmonitored one (flushed)."""
    name = clean(full_name)[:MAX_LENGTHS["full_name"]]
    record = PersonRecord(row=0, full_name=name, name_key=fold(name), phone=phone,
                          alt_phones=(), national_id=None, category=F2,
                          event_date=date.min)
    merger = Merger(date.min, DEFAULT_PERIOD_DAYS)
    _load_existing(s, merger, [record])
    found = merger.find(record)
    if found is not None:
        return s.get_one(Person, found.id)
    person = Person(full_name=name, name_key=fold(name), phone=phone.e164,
                    carrier=phone.carrier, status=PERSON_UNMONITORED, created_at=to_db(now),
                    updated_at=to_db(now))
    s.add(person)
    s.flush()
    return person
