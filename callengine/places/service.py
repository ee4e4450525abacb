"""The place codes of people's rows: what a writer stores, check and backfill.

`place_codes(district, commune)` is the one function every writer of a district and commune
calls (the list import does, in importer/merge.py; venues and check-ins are to do the same),
so that the map counts a commune written three ways once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, and_, func, select, update
from sqlalchemy.orm import Session

from callengine.geo import AMBIGUOUS, MATCHED, UNMATCHED, load_units, match_place
from callengine.store.db import Database
from callengine.store.models import Person

CODE_COLUMNS = ("district_code", "commune_code", "new_commune_code")


def place_codes(district: str | None, commune: str | None) -> dict[str, str | None]:
    """The official codes to store beside a written district and commune (None: no match)."""
    return match_place(district, commune).codes()


@dataclass(frozen=True)
class PlaceProblem:
    """A written (district, commune) that names no unit, or several; with how many people."""

    district: str | None
    commune: str | None
    problem: str  # 'unmatched', 'ambiguous' (the commune) or 'district' (unknown district)
    people: int
    candidates: tuple[str, ...] = ()  # ambiguous: the units it could be, in words


@dataclass(frozen=True)
class PlaceCheck:
    """The people's places as stored: matched, problems, and rows whose codes are missing."""

    matched_people: int
    matched_names: int  # distinct written pairs that match
    problems: tuple[PlaceProblem, ...]
    to_backfill: int  # people whose stored codes differ from what their names match

    @property
    def problem_people(self) -> int:
        return sum(p.people for p in self.problems if p.problem != "district")


def _pairs(s: Session) -> list[tuple]:
    """(district, commune, stored codes..., people) per distinct written pair."""
    columns = [Person.district, Person.commune, *(getattr(Person, c) for c in CODE_COLUMNS)]
    return [tuple(r) for r in s.execute(select(*columns, func.count()).group_by(*columns))]


def _candidate_names(codes: tuple[str, ...]) -> tuple[str, ...]:
    units = load_units()
    names = []
    for tagged in codes:
        division, code = tagged.split(":")
        unit = units.unit(division, code)
        assert unit is not None  # the codes were read from these units
        district = units.districts.get(unit.district) if unit.district else None
        names.append(f"{unit.name} ({district.name})" if district else unit.name)
    return tuple(names)


def _problems(district, commune, people: int, match) -> list[PlaceProblem]:
    found = []
    if match.status in (UNMATCHED, AMBIGUOUS):
        found.append(PlaceProblem(district, commune, match.status, people,
                                  _candidate_names(match.candidates)))
    if match.district_status in (UNMATCHED, AMBIGUOUS):
        found.append(PlaceProblem(district, None, "district", people))
    return found


def check_places(db: Database) -> PlaceCheck:
    """Every written place of the people, matched against the official list."""
    matched_people = to_backfill = 0
    matched_names: set[tuple] = set()
    problems: dict[tuple, PlaceProblem] = {}
    with db.session() as s:
        pairs = _pairs(s)
    for district, commune, *stored, people in pairs:
        match = match_place(district, commune)
        if match.status == MATCHED:
            matched_people += people
            matched_names.add((district, commune))
        if tuple(stored) != tuple(match.codes().values()):
            to_backfill += people
        for problem in _problems(district, commune, people, match):
            key = (problem.district, problem.commune, problem.problem)
            if key in problems:  # one pair, several stored code sets
                problem = PlaceProblem(*key, problems[key].people + people, problem.candidates)
            problems[key] = problem
    ordered = sorted(problems.values(), key=lambda p: (-p.people, p.district or "",
                                                        p.commune or ""))
    return PlaceCheck(matched_people, len(matched_names), tuple(ordered), to_backfill)


def _same(column, value):
    return column.is_(None) if value is None else column == value


def backfill_place_codes(db: Database) -> int:
    """Store the codes each person's names match, where they differ; one transaction.
    Returns how many people changed."""
    changed = 0
    table = cast(Table, Person.__table__)
    with db.session() as s:
        for district, commune, *stored, _people in _pairs(s):
            codes = place_codes(district, commune)
            if tuple(stored) == tuple(codes.values()):
                continue
            where = and_(_same(table.c.district, district), _same(table.c.commune, commune),
                         *(_same(table.c[c], v) for c, v in zip(CODE_COLUMNS, stored)))
            changed += s.execute(update(table).where(where).values(**codes)).rowcount  # type: ignore[attr-defined]  # DML gives a CursorResult
    return changed
