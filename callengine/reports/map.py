"""The epidemic map's figures: one number per commune of a division, counted by code.

People are counted by the official code stored beside their written commune (callengine
/places), so a commune written three ways counts once; people whose names matched no unit
are counted apart (`unplaced`). The figures are a small registry: each has a key, a
Vietnamese label, a kind (a count or a percentage) and a function of (db, division, day, tz)
that returns {code: value}. The vaccination coverage joins it where its service lives
(`register_figure`), so a figure without data is absent rather than made up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable

from sqlalchemy import and_, func, or_, select

from callengine.geo import NEW, OLD, load_units
from callengine.importer.text import fold
from callengine.reports.localday import day_range
from callengine.store.db import Database
from callengine.store.models import PERSON_F0, PERSON_MONITORING, Person
from callengine.store.supervision import FLAG_OPEN, Flag
from callengine.vaccination.coverage import shares_by

COUNT, PERCENT = "count", "percent"
UNPLACED = None  # the key of people whose commune has no code


@dataclass(frozen=True)
class MapFigure:
    key: str  # as the page and the API name it: 'f0'
    label: str  # Vietnamese
    kind: str  # COUNT or PERCENT (0-100)
    values: Callable[[Database, str, date, str], dict[str | None, float]]


FIGURES: dict[str, MapFigure] = {}


def register_figure(figure: MapFigure) -> None:
    """Add a figure to the map's menu (in registration order)."""
    FIGURES[figure.key] = figure


def code_column(division: str):
    """The person column that holds a division's commune code."""
    return Person.commune_code if division == OLD else Person.new_commune_code


def _people_counts(db: Database, division: str, *conditions) -> dict[str | None, float]:
    column = code_column(division)
    with db.session() as s:
        rows = s.execute(select(column, func.count()).where(*conditions).group_by(column))
        return {code: int(n) for code, n in rows}


def f0_counts(db: Database, division: str, day: date, tz: str) -> dict[str | None, float]:
    """People who are F0 (patients), per commune."""
    return _people_counts(db, division, Person.status == PERSON_F0)


def monitoring_counts(db: Database, division: str, day: date, tz: str
                      ) -> dict[str | None, float]:
    """F1, F2 and returnees whose monitoring covers the day, per commune."""
    return _people_counts(
        db, division, Person.status == PERSON_MONITORING,
        or_(Person.monitoring_start.is_(None), Person.monitoring_start <= day),
        or_(Person.monitoring_end.is_(None), Person.monitoring_end >= day))


def flagged_counts(db: Database, division: str, day: date, tz: str) -> dict[str | None, float]:
    """People with an open flag raised on the day, per commune."""
    start, end = day_range(day, tz)
    column = code_column(division)
    with db.session() as s:
        rows = s.execute(
            select(column, func.count(func.distinct(Flag.person_id)))
            .join(Person, Person.id == Flag.person_id)
            .where(and_(Flag.status == FLAG_OPEN, Flag.created_at >= start,
                        Flag.created_at < end))
            .group_by(column))
        return {code: int(n) for code, n in rows}


register_figure(MapFigure("f0", "F0 (ca bệnh)", COUNT, f0_counts))
register_figure(MapFigure("monitoring", "Đang theo dõi (F1, F2, người về)", COUNT,
                          monitoring_counts))
register_figure(MapFigure("flagged", "Có cờ mở hôm nay", COUNT, flagged_counts))


def coverage_shares(full_course: bool):
    """The vaccination coverage figure: % of a commune's people vaccinated by the day."""
    def values(db: Database, division: str, day: date, tz: str) -> dict[str | None, float]:
        return shares_by(db, day, code_column(division), full_course=full_course)
    return values


register_figure(MapFigure("coverage", "Tiêm chủng: tỷ lệ đã tiêm ít nhất 1 mũi (%)", PERCENT,
                          coverage_shares(False)))
register_figure(MapFigure("coverage_full", "Tiêm chủng: tỷ lệ tiêm đủ liều (%)", PERCENT,
                          coverage_shares(True)))


@dataclass(frozen=True)
class UnitFigure:
    code: str
    name: str  # official, with its type
    district: str | None  # the old district's name (old division only)
    value: float


@dataclass(frozen=True)
class MapData:
    """One figure over one division on one day: every commune (zero included)."""

    figure: MapFigure
    division: str
    day: date
    units: tuple[UnitFigure, ...]  # by district, then name
    unplaced: float | None  # counts: people whose commune has no code in this division
    classes: tuple  # LegendClass, lowest first

    def by_code(self) -> dict[str, UnitFigure]:
        return {u.code: u for u in self.units}

    def to_dict(self) -> dict:
        return {"figure": self.figure.key, "label": self.figure.label,
                "kind": self.figure.kind, "division": self.division,
                "day": self.day.isoformat(), "unplaced": self.unplaced,
                "classes": [{"low": c.low, "high": c.high} for c in self.classes],
                "units": [{"code": u.code, "name": u.name, "district": u.district,
                           "value": u.value} for u in self.units]}


class UnknownFigure(ValueError):
    """The figure or division is not one the map has."""


def map_data(db: Database, figure: str, division: str, day: date, tz: str) -> MapData:
    """The figure's value for every commune of the division."""
    if figure not in FIGURES or division not in (OLD, NEW):
        raise UnknownFigure(figure if figure not in FIGURES else division)
    chosen = FIGURES[figure]
    values = chosen.values(db, division, day, tz)
    units = load_units()
    rows = []
    for unit in units.communes(division).values():
        district = units.districts[unit.district].name if unit.district else None
        rows.append(UnitFigure(unit.code, unit.name, district, values.get(unit.code, 0)))
    rows.sort(key=lambda u: (fold(u.district or ""), fold(u.name)))
    placed = set(units.communes(division))
    unplaced = (sum(v for code, v in values.items() if code not in placed)
                if chosen.kind == COUNT else None)
    return MapData(chosen, division, day, tuple(rows), unplaced, legend(
        [u.value for u in rows], chosen.kind))


@dataclass(frozen=True)
class LegendClass:
    """Values from low to high (both included); index 0 is the class of zero."""

    index: int
    low: float
    high: float

    def holds(self, value: float) -> bool:
        return self.low <= value <= self.high


PERCENT_STEPS = (0, 20, 40, 60, 80, 100)
MAX_CLASSES = 5  # besides zero


def legend(values: list[float], kind: str) -> tuple[LegendClass, ...]:
    """Classes for the values: fixed fifths for percentages; for counts, zero and up to five
    classes holding about as many communes each (none of them empty)."""
    if kind == PERCENT:
        return tuple(LegendClass(i + 1, low, high) for i, (low, high) in
                     enumerate(zip(PERCENT_STEPS, PERCENT_STEPS[1:])))
    nonzero = sorted(v for v in values if v > 0)
    highs = sorted({nonzero[min(len(nonzero) - 1, len(nonzero) * step // MAX_CLASSES)]
                    for step in range(1, MAX_CLASSES) if nonzero} | set(nonzero[-1:]))
    classes = [LegendClass(0, 0, 0)]
    for high in highs:
        classes.append(LegendClass(len(classes), classes[-1].high + 1, high))
    return tuple(classes)


def class_of(classes: tuple[LegendClass, ...], value: float) -> LegendClass:
    """The class a value falls in (the last one for anything above)."""
    return next((c for c in classes if c.holds(value)), classes[-1])
