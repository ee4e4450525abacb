"""A person's certificate: their latest dose (the highest dose number), signed now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from callengine.casework.errors import NotAllowedNow, NotFound
from callengine.certificates import hc1, payload
from callengine.certificates.signer import DocumentSigner
from callengine.settings import Settings
from callengine.store.db import Database
from callengine.store.models import Person
from callengine.store.vaccinations import VaccinationDose
from callengine.vaccines import load_catalogue


@dataclass(frozen=True)
class Certificate:
    hc1: str
    hcert: dict[str, Any]
    dose_id: int


def _latest_dose(session, person_id: int) -> VaccinationDose | None:
    return session.scalars(select(VaccinationDose)
                           .where(VaccinationDose.person_id == person_id)
                           .order_by(VaccinationDose.dose_number.desc()).limit(1)).first()


def certificate_payload(db: Database, person_id: int, settings: Settings
                        ) -> tuple[dict[str, Any], int]:
    """The hcert of the person's latest dose and that dose's id (NotFound; NotAllowedNow
    without a name or a dose)."""
    with db.session() as session:
        person = session.get(Person, person_id)
        if person is None:
            raise NotFound(f"Không tìm thấy người #{person_id}.")
        if not (person.full_name or "").strip():
            raise NotAllowedNow("Người này chưa có họ tên: chưa cấp được chứng nhận.")
        dose = _latest_dose(session, person_id)
        if dose is None:
            raise NotAllowedNow("Người này chưa có mũi tiêm nào: chưa cấp được chứng nhận.")
        product = load_catalogue().by_code(dose.product)
        if product is None:
            raise NotAllowedNow(f"Vắc xin {dose.product} không còn trong danh mục.")
        holder = payload.Holder(person.full_name, person.birth_year)
        body = payload.hcert(holder, payload.Dose(product, dose.dose_number, dose.given_on,
                                                  payload.uvci(dose.certificate_id)),
                             settings.certificate_issuer)
        return body, dose.id


def sign_certificate(body: dict[str, Any], dose_id: int, signer: DocumentSigner,
                     now: datetime, settings: Settings) -> Certificate:
    """The HC1 text of a payload, issued now and valid for the settings' days."""
    claims = payload.cwt_claims(body, now, settings.certificate_validity_days)
    return Certificate(hc1.encode(signer.sign(claims)), body, dose_id)


def person_certificate(db: Database, person_id: int, signer: DocumentSigner, now: datetime,
                       settings: Settings) -> Certificate:
    """The certificate of the person's latest dose, signed now."""
    return sign_certificate(*certificate_payload(db, person_id, settings), signer, now,
                            settings)
