"""Doses in the database: record one (the form, the API), list a person's."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from callengine.casework.errors import NotFound
from callengine.clock import to_db
from callengine.settings import Settings
from callengine.store.db import Database
from callengine.store.models import Person
from callengine.store.vaccinations import VaccinationDose
from callengine.vaccination.rules import DoseEntry, DoseRefused, PriorDose, check_dose
from callengine.vaccines import Catalogue, Product, load_catalogue, min_intervals


@dataclass(frozen=True)
class DoseView:
    id: int
    person_id: int
    dose_number: int
    given_on: date
    product: str  # mp code
    product_name: str
    manufacturer: str  # ma code
    lot: str
    site: str
    created_at: datetime
    created_by: str | None


def local_today(now: datetime, settings: Settings) -> date:
    return now.astimezone(ZoneInfo(settings.timezone)).date()


def intervals(settings: Settings, catalogue: Catalogue | None = None) -> dict[str, int]:
    """Least days between doses per product code, as the settings make them."""
    return min_intervals(catalogue or load_catalogue(), settings.vaccine_min_intervals)


def new_certificate_id() -> str:
    """The opaque part of a dose's UVCI: 80 random bits, upper-case hex."""
    return secrets.token_hex(10).upper()


def prior_doses(session: Session, person_id: int) -> list[PriorDose]:
    rows = session.execute(select(VaccinationDose.dose_number, VaccinationDose.given_on,
                                  VaccinationDose.product)
                           .where(VaccinationDose.person_id == person_id))
    return [PriorDose(*row) for row in rows]


def add_dose(session: Session, person_id: int, product: Product, entry: DoseEntry, *,
             actor: str | None, now: datetime, batch_id: int | None = None
             ) -> VaccinationDose:
    """Write a dose that passed the rules (in the caller's transaction)."""
    dose = VaccinationDose(person_id=person_id, product=product.code,
                           manufacturer=product.manufacturer, lot=entry.lot.strip(),
                           dose_number=entry.dose_number, given_on=entry.given_on,
                           site=entry.site.strip(), certificate_id=new_certificate_id(),
                           created_at=to_db(now), created_by=actor or None, batch_id=batch_id)
    session.add(dose)
    return dose


def _view(dose: VaccinationDose, catalogue: Catalogue) -> DoseView:
    product = catalogue.by_code(dose.product)
    return DoseView(dose.id, dose.person_id, dose.dose_number, dose.given_on, dose.product,
                    product.name if product else dose.product, dose.manufacturer, dose.lot,
                    dose.site, dose.created_at, dose.created_by)


def _person(session: Session, person_id: int) -> Person:
    person = session.execute(select(Person).where(Person.id == person_id)
                             .with_for_update()).scalar_one_or_none()
    if person is None:
        raise NotFound(f"Không tìm thấy người #{person_id}.")
    return person


def record_dose(db: Database, person_id: int, entry: DoseEntry, *, actor: str | None,
                now: datetime, settings: Settings) -> DoseView:
    """Check a dose against the person's others and the rules, then store it."""
    catalogue = load_catalogue()
    try:
        with db.session() as session:
            _person(session, person_id)  # locked: two entries for one person wait in turn
            product = check_dose(entry, prior_doses(session, person_id),
                                 local_today(now, settings), catalogue,
                                 intervals(settings, catalogue))
            dose = add_dose(session, person_id, product, entry, actor=actor, now=now)
            session.flush()
            return _view(dose, catalogue)
    except IntegrityError:
        raise DoseRefused("dose_number", f"Người này vừa được nhập mũi {entry.dose_number}."
                          ) from None


def person_doses(db: Database, person_id: int) -> list[DoseView]:
    """A person's doses in order (NotFound for no such person)."""
    catalogue = load_catalogue()
    with db.session() as session:
        if session.get(Person, person_id) is None:
            raise NotFound(f"Không tìm thấy người #{person_id}.")
        doses = session.scalars(select(VaccinationDose)
                                .where(VaccinationDose.person_id == person_id)
                                .order_by(VaccinationDose.dose_number))
        return [_view(dose, catalogue) for dose in doses]
