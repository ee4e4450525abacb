"""Matching a written (district, commune) pair to the official units.

Accent-, case- and prefix-insensitive ('X. Hoằng Quỳ', 'xã Hoằng Quỳ', 'Hoang Quy'); the
district narrows the commune when a name repeats in the province. The old division is tried
first (the lists of 2021 name it), then the new one; a name with a written type ('xã',
'phường', 'TT.') matches a unit of that type before one of another. A name that matches
nothing is unmatched, one that matches several units ambiguous: the row keeps its text as
written, without codes, and `callengine places check` reports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from callengine.geo.names import (
    COMMUNE_PREFIXES,
    DISTRICT_PREFIXES,
    WrittenName,
    exact_short,
    parse_name,
)
from callengine.geo.units import NEW, OLD, AdminUnits, NameIndex, Unit, load_units

MATCHED, AMBIGUOUS, UNMATCHED, EMPTY = "matched", "ambiguous", "unmatched", "empty"


@dataclass(frozen=True)
class PlaceMatch:
    """What a written pair names: the commune's status and the codes found for it."""

    status: str  # of the commune: MATCHED, AMBIGUOUS, UNMATCHED or EMPTY (none written)
    district_status: str  # of the district, likewise
    division: str | None = None  # the division the commune was found in
    district_code: str | None = None  # old division's district
    commune_code: str | None = None  # old division's commune (None when only NEW has it)
    new_commune_code: str | None = None  # new division's commune
    candidates: tuple[str, ...] = ()  # ambiguous: the communes it could be ('old:15886')

    def codes(self) -> dict[str, str | None]:
        """The person columns a match fills."""
        return {"district_code": self.district_code, "commune_code": self.commune_code,
                "new_commune_code": self.new_commune_code}


def _find(index: NameIndex, name: WrittenName) -> list[Unit]:
    """Units with the written type and name; else units of any type with the name."""
    return _by_accents(index.find(name.full) or index.find(name.short), name)


def _by_accents(found: list[Unit], name: WrittenName) -> list[Unit]:
    """Of names that differ only in accents (Hoằng Quỳ, Hoằng Quý), the one written with
    them; a name written without accents stays ambiguous."""
    if len(found) < 2 or name.exact == name.short:
        return found
    exact = [u for u in found if exact_short(u.name, u.type) == name.exact]
    return exact or found


def match_district(district: str | None, units: AdminUnits | None = None
                   ) -> tuple[str, Unit | None]:
    """(status, district) for a written district name."""
    units = units or load_units()
    name = parse_name(district, DISTRICT_PREFIXES)
    if name is None:
        return EMPTY, None
    found = _find(units.district_names, name)
    if len(found) == 1:
        return MATCHED, found[0]
    return (AMBIGUOUS if found else UNMATCHED), None


def _in_district(found: list[Unit], district: Unit | None) -> list[Unit]:
    if district is None:
        return found
    return [u for u in found if u.district == district.code or district.code in u.districts]


def _candidates(units: AdminUnits, name: WrittenName, district: Unit | None) -> list[Unit]:
    """The communes the name can be: exact type first, old division before new."""
    attempts = ((units.old_names, name.full), (units.new_names, name.full),
                (units.old_names, name.short), (units.new_names, name.short))
    for index, key in attempts:
        found = _by_accents(_in_district(index.find(key), district), name)
        if found:
            return found
    return []


def _matched(unit: Unit, district: Unit | None, district_status: str) -> PlaceMatch:
    if unit.division == OLD:
        return PlaceMatch(MATCHED, district_status, OLD, unit.district, unit.code,
                          unit.successor)
    return PlaceMatch(MATCHED, district_status, NEW, district.code if district else None,
                      None, unit.code)


@lru_cache(maxsize=65536)
def match_place(district: str | None, commune: str | None) -> PlaceMatch:
    """The official units a written district and commune name (cached per pair)."""
    units = load_units()
    district_status, district_unit = match_district(district, units)
    name = parse_name(commune, COMMUNE_PREFIXES)
    district_code = district_unit.code if district_unit else None
    if name is None:
        return PlaceMatch(EMPTY, district_status, district_code=district_code)
    found = _candidates(units, name, district_unit)
    if len(found) == 1:
        return _matched(found[0], district_unit, district_status)
    if not found:
        return PlaceMatch(UNMATCHED, district_status, district_code=district_code)
    return PlaceMatch(AMBIGUOUS, district_status, district_code=district_code,
                      candidates=tuple(f"{u.division}:{u.code}" for u in found))
