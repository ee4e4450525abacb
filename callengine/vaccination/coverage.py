"""Vaccination coverage per (district, commune) and age band, on a given day.

People are everyone the database knows in the area; "at least one dose" and "full course"
count the doses given up to the day. A full course is a dose whose number reaches its
product's course (two of AZ, one of Janssen, three of Abdala...). Age bands come from the
birth year (the lists give no more): under 18, 18-49, 50-64, 65 and over, unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import case, func, literal, select

from callengine.reports.series import SeriesCache
from callengine.store.db import Database
from callengine.store.models import Person
from callengine.store.vaccinations import VaccinationDose
from callengine.vaccines import load_catalogue

AGE_BANDS = ("<18", "18-49", "50-64", "65+", "unknown")
AGE_BAND_LABELS = {"<18": "Dưới 18", "18-49": "18–49", "50-64": "50–64", "65+": "Từ 65",
                   "unknown": "Không rõ tuổi"}


@dataclass
class Counts:
    people: int = 0
    one_dose: int = 0  # at least one dose
    full_course: int = 0

    def add(self, other: Counts) -> None:
        self.people += other.people
        self.one_dose += other.one_dose
        self.full_course += other.full_course

    def share(self, part: int) -> float | None:
        return part / self.people if self.people else None

    def to_dict(self) -> dict[str, int | float | None]:
        return {"people": self.people, "one_dose": self.one_dose,
                "full_course": self.full_course,
                "one_dose_share": self.share(self.one_dose),
                "full_course_share": self.share(self.full_course)}


@dataclass
class CommuneCoverage:
    district: str | None
    commune: str | None
    total: Counts = field(default_factory=Counts)
    bands: dict[str, Counts] = field(default_factory=lambda: {b: Counts() for b in AGE_BANDS})

    def to_dict(self) -> dict:
        return {"district": self.district, "commune": self.commune, **self.total.to_dict(),
                "age_bands": {band: counts.to_dict() for band, counts in self.bands.items()}}


def _course_length():
    """The doses of a full course of each dose's product (SQL CASE over the products)."""
    products = load_catalogue().products
    return case(*((VaccinationDose.product == p.code, p.doses) for p in products),
                else_=literal(99))


def _age_band(day: date):
    age = day.year - Person.birth_year
    return case((Person.birth_year.is_(None), "unknown"), (age < 18, "<18"),
                (age < 50, "18-49"), (age < 65, "50-64"), else_="65+")


def coverage_by_commune(db: Database, day: date, cache: SeriesCache | None = None
                        ) -> list[CommuneCoverage]:
    """Per (district, commune), in name order: people, with at least one dose, with a full
    course, in all and per age band. With a cache, a count is reused for its ttl (the
    dashboard: the query reads every person)."""
    key = ("coverage", str(db.engine.url), day)
    cached = cache.get(key) if cache is not None else None
    if cached is None:
        cached = {"rows": _count(db, day)}
        if cache is not None:
            cache.put(key, cached)
    return cached["rows"]


def _vaccinated(day: date):
    """Per vaccinated person: 1 when a dose up to the day completed a course, else 0."""
    return (select(VaccinationDose.person_id.label("person_id"),
                   func.max(case((VaccinationDose.dose_number >= _course_length(), 1),
                                 else_=0)).label("full"))
            .where(VaccinationDose.given_on <= day)
            .group_by(VaccinationDose.person_id).subquery())


def shares_by(db: Database, day: date, area_column, *, full_course: bool
              ) -> dict[str | None, float]:
    """Per value of `area_column` (a commune code column: the epidemic map), the percentage
    (0-100) of its people with at least one dose, or with a full course."""
    per_person = _vaccinated(day)
    counted = per_person.c.full if full_course else case(
        (per_person.c.person_id.is_not(None), 1), else_=0)
    query = (select(area_column, func.count(Person.id), func.coalesce(func.sum(counted), 0))
             .outerjoin(per_person, per_person.c.person_id == Person.id)
             .group_by(area_column))
    with db.session() as session:
        return {area: 100 * int(done) / people
                for area, people, done in session.execute(query) if people}


def _count(db: Database, day: date) -> list[CommuneCoverage]:
    per_person = _vaccinated(day)
    band = _age_band(day).label("band")
    query = (select(Person.district, Person.commune, band, func.count(Person.id),
                    func.count(per_person.c.person_id),
                    func.coalesce(func.sum(per_person.c.full), 0))
             .outerjoin(per_person, per_person.c.person_id == Person.id)
             .group_by(Person.district, Person.commune, band))
    areas: dict[tuple, CommuneCoverage] = {}
    with db.session() as session:
        for district, commune, age_band, people, one, full in session.execute(query):
            area = areas.setdefault((district, commune), CommuneCoverage(district, commune))
            counts = Counts(people, one, int(full))
            area.bands[age_band].add(counts)
            area.total.add(counts)
    return sorted(areas.values(), key=lambda a: (a.district or "", a.commune or ""))


def province_total(rows: list[CommuneCoverage]) -> Counts:
    total = Counts()
    for row in rows:
        total.add(row.total)
    return total


def by_district(rows: list[CommuneCoverage]) -> list[CommuneCoverage]:
    """The communes' coverage added up per district, in name order."""
    districts: dict[str | None, CommuneCoverage] = {}
    for row in rows:
        total = districts.setdefault(row.district, CommuneCoverage(row.district, None))
        total.total.add(row.total)
        for band in AGE_BANDS:
            total.bands[band].add(row.bands[band])
    return sorted(districts.values(), key=lambda d: d.district or "")
