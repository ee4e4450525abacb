"""Finding people: by name (accent- and case-insensitive word prefixes), by phone in any
spelling the importer accepts (primary or alternate), or by national ID; in name order,
paged by keyset on (name_key, id)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, false, or_, select, text, tuple_

from callengine.casework.errors import InvalidRequest
from callengine.casework.labels import PERSON_STATUS_LABELS, display_name
from callengine.casework.paging import Page, check_limit, decode_cursor, page_of
from callengine.importer.categories import CATEGORIES
from callengine.importer.text import fold
from callengine.phones import InvalidPhone, mask_phone, normalize_phone
from callengine.store.db import Database
from callengine.store.models import Person

_ID_LIKE = re.compile(r"[A-Za-z]?\d{6,12}")  # CMND (9), CCCD (12), passport (letter + 7)
_LIKE_SPECIAL = re.compile(r"([\\%_])")
MAX_QUERY = 100


@dataclass(frozen=True)
class PersonFilters:
    category: str | None = None  # F1 / F2 / returnee / F0
    district: str | None = None
    commune: str | None = None
    status: str | None = None

    def check(self) -> PersonFilters:
        """Self, or InvalidRequest naming the bad filter."""
        if self.category is not None and self.category not in CATEGORIES:
            raise InvalidRequest(f"Phân loại '{self.category}' không hợp lệ "
                                 f"({', '.join(CATEGORIES)}).")
        if self.status is not None and self.status not in PERSON_STATUS_LABELS:
            raise InvalidRequest(f"Trạng thái '{self.status}' không hợp lệ "
                                 f"({', '.join(PERSON_STATUS_LABELS)}).")
        return self


@dataclass(frozen=True)
class PersonRow:
    id: int
    name: str
    phone_masked: str
    category: str | None
    status: str
    district: str | None
    commune: str | None
    village: str | None
    birth_year: int | None
    monitoring_end: date | None
    full_name: str = ""  # as the list gave it ('' when none; `name` then says 'Người #12')
    phone: str | None = None  # E.164 in full, only when the caller asked (the API)


def _word_prefix(word: str):
    word = _LIKE_SPECIAL.sub(r"\\\1", word)
    return or_(Person.name_key.like(f"{word}%", escape="\\"),
               Person.name_key.like(f"% {word}%", escape="\\"))


def _phone_match(query: str):
    try:
        e164 = normalize_phone(query).e164
    except InvalidPhone:
        return None
    return or_(Person.phone == e164, Person.alt_phones.like(f"%{e164}%"))


def query_matches(query: str):
    """The WHERE clause of a search: any of phone, national ID and name matching."""
    if len(query) > MAX_QUERY:
        raise InvalidRequest(f"Từ khóa tìm kiếm dài quá {MAX_QUERY} ký tự.")
    clauses = []
    phone = _phone_match(query)
    if phone is not None:
        clauses.append(phone)
    compact = re.sub(r"[\s.\-]", "", query)
    if _ID_LIKE.fullmatch(compact):
        clauses.append(Person.national_id == compact.upper())
    words = re.sub(r"[^\w ]", " ", fold(query)).split()
    if any(ch.isalpha() for ch in query) and words:
        clauses.append(and_(*[_word_prefix(w) for w in words]))
    return or_(*clauses) if clauses else false()


def _row(p: Person, full_phone: bool) -> PersonRow:
    return PersonRow(p.id, display_name(p.id, p.full_name), mask_phone(p.phone), p.category,
                     p.status, p.district, p.commune, p.village, p.birth_year,
                     p.monitoring_end, p.full_name or "", p.phone if full_phone else None)


def search_statement(query: str, filters: PersonFilters, after: str | None, limit: int):
    """The SELECT of one page of a search (limit + 1 rows, to know if another page follows)."""
    stmt = select(Person)
    if query.strip():
        match = query_matches(query.strip())
        if not any(ch.isalpha() for ch in query):
            # A phone or an ID matches a handful of rows: find them first, or SQLite walks
            # the name index in order and reads every row to test the alternates.
            match = Person.id.in_(select(Person.id).where(match))
        stmt = stmt.where(match)
    for column, value in ((Person.category, filters.category),
                          (Person.district, filters.district),
                          (Person.commune, filters.commune), (Person.status, filters.status)):
        if value is not None:
            stmt = stmt.where(column == value)
    if after:
        stmt = stmt.where(tuple_(Person.name_key, Person.id) > decode_cursor(after, str, int))
    return stmt.order_by(Person.name_key, Person.id).limit(limit + 1)


def search_people(db: Database, query: str = "", filters: PersonFilters = PersonFilters(), *,
                  after: str | None = None, limit: int = 50,
                  full_phones: bool = False) -> Page[PersonRow]:
    """A page of people matching the query (blank: everyone) and the filters; phones are
    masked, and also given in full with full_phones (for authorised API clients)."""
    stmt = search_statement(query, filters.check(), after, check_limit(limit))
    with db.session() as s:
        if s.get_bind().dialect.name == "postgresql":
            # psycopg prepares a statement it has run 5 times, and PostgreSQL may then plan it
            # once for any pattern: a generic plan walks the name index in name order and, for
            # a rare name, reads most of the table (60-140 ms instead of 1 ms at 200,000).
            s.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        people = list(s.scalars(stmt))
        keys = {p.id: p.name_key for p in people}
        rows = [_row(p, full_phones) for p in people]
    items, cursor = page_of(rows, limit, lambda r: (keys[r.id], r.id))
    return Page(items, cursor)


# Districts, then each district's communes, by skipping along ix_people_district_commune
# (one index probe per value): a few hundred probes instead of reading every person's row
# for a DISTINCT (31 ms for 200,000 people on PostgreSQL). Each district also yields a
# (district, NULL) row, where its list of communes ends.
_PLACES = text("""
WITH RECURSIVE
  d(district) AS (
    SELECT min(district) FROM people
    UNION ALL
    SELECT (SELECT min(p.district) FROM people p WHERE p.district > d.district)
    FROM d WHERE d.district IS NOT NULL),
  c(district, commune) AS (
    SELECT district, (SELECT min(p.commune) FROM people p WHERE p.district = d.district)
    FROM d WHERE d.district IS NOT NULL
    UNION ALL
    SELECT c.district, (SELECT min(p.commune) FROM people p
                        WHERE p.district = c.district AND p.commune > c.commune)
    FROM c WHERE c.commune IS NOT NULL)
SELECT district, commune FROM c""")


def districts(db: Database) -> dict[str, tuple[str, ...]]:
    """Districts and their communes as stored, for the filters' choices."""
    with db.session() as s:
        pairs = s.execute(_PLACES).all()
    result: dict[str, list[str]] = {}
    for district, commune in sorted(pairs, key=lambda p: (p[0], p[1] or "")):
        result.setdefault(district, [])
        if commune:
            result[district].append(commune)
    return {d: tuple(c) for d, c in result.items()}
