"""Thanh Hóa's official administrative units, before and after the 2025 reorganisation.

The list (codes of the General Statistics Office) is vendored in data/thanh_hoa_units.json,
extracted by scripts/extract-admin-units from the `vietnamadminunits` package (MIT licence).
OLD: 26 districts and their communes as they stood until 30 June 2025; NEW: the communes in
force from 1 July 2025 (districts abolished). Codes of the two divisions overlap (a new
commune often takes the code of one of the old ones it merged), so a code always travels with
its division. Loaded once per process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from callengine.geo.names import unit_keys

DATA = Path(__file__).resolve().parent / "data" / "thanh_hoa_units.json"
OLD, NEW = "old", "new"  # the two divisions
DIVISIONS = (OLD, NEW)


@dataclass(frozen=True)
class Unit:
    """A district, or a commune (xã, phường, thị trấn) of one division."""

    code: str
    name: str  # official, with its type: 'Xã Hoằng Quỳ'
    type: str  # 'Xã', 'Phường', 'Thị trấn', 'Huyện', 'Thị xã', 'Thành phố'
    division: str  # OLD or NEW
    district: str | None = None  # old communes: their district's code
    successor: str | None = None  # old communes: the new commune that took them in
    districts: frozenset[str] = frozenset()  # new communes: the old districts they span
    lat: float | None = None
    lon: float | None = None
    aliases: tuple[str, ...] = ()  # keys of former names ('xahoanglong', 'hoanglong')

    def keys(self) -> tuple[str, ...]:
        """Every key the unit answers to: its full and short name, and former names."""
        return (*unit_keys(self.name, self.type), *self.aliases)


@dataclass
class NameIndex:
    """Units by every key of their names."""

    by_key: dict[str, list[Unit]] = field(default_factory=dict)

    def add(self, unit: Unit) -> None:
        for key in dict.fromkeys(unit.keys()):
            self.by_key.setdefault(key, []).append(unit)

    def find(self, key: str | None) -> list[Unit]:
        return list(self.by_key.get(key, ())) if key else []


@dataclass(frozen=True)
class AdminUnits:
    """The province's districts and both divisions' communes, with name indexes."""

    province: str
    source: str
    districts: dict[str, Unit]
    old: dict[str, Unit]
    new: dict[str, Unit]
    district_names: NameIndex
    old_names: NameIndex
    new_names: NameIndex

    def communes(self, division: str) -> dict[str, Unit]:
        """The communes of a division by code."""
        return self.old if division == OLD else self.new

    def unit(self, division: str, code: str | None) -> Unit | None:
        return self.communes(division).get(code) if code else None


def _index(units) -> NameIndex:
    index = NameIndex()
    for unit in units:
        index.add(unit)
    return index


def build(data: dict) -> AdminUnits:
    """The units of a decoded data file."""
    districts = {d["code"]: Unit(d["code"], d["name"], d["type"], OLD, aliases=tuple(d["aliases"]))
                 for d in data["districts"]}
    old = {c["code"]: Unit(c["code"], c["name"], c["type"], OLD, district=c["district"],
                           successor=c["new"], lat=c["lat"], lon=c["lon"],
                           aliases=tuple(c["aliases"])) for c in data["old"]}
    spans: dict[str, set[str]] = {}
    for c in data["old"]:  # an old commune: the new one that took it in, its district
        spans.setdefault(c["new"], set()).add(c["district"])
    new = {c["code"]: Unit(c["code"], c["name"], c["type"], NEW,
                           districts=frozenset(spans.get(c["code"], ())), lat=c["lat"],
                           lon=c["lon"], aliases=tuple(c["aliases"])) for c in data["new"]}
    return AdminUnits(data["province"]["name"], data["source"], districts, old, new,
                      _index(districts.values()), _index(old.values()), _index(new.values()))


@lru_cache(maxsize=1)
def load_units() -> AdminUnits:
    """The vendored list, read once per process."""
    return build(json.loads(DATA.read_text("utf-8")))
