"""Vaccination doses: one row per dose given to a person (entered, imported or posted)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callengine.store.models import Base, ImportBatch, Person


class VaccinationDose(Base):
    """One dose: the product by its EU DCC code (mp), manufacturer (ma), lot, dose number,
    date and site; `certificate_id` is the opaque part of its certificate's UVCI."""

    __tablename__ = "vaccination_doses"
    __table_args__ = (
        UniqueConstraint("person_id", "dose_number", name="uq_vaccination_doses_person_dose"),
        Index("ix_vaccination_doses_person_date", "person_id", "given_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    product: Mapped[str] = mapped_column(String(60))  # mp: EU/1/21/1529, BBIBP-CorV...
    manufacturer: Mapped[str] = mapped_column(String(60))  # ma
    lot: Mapped[str] = mapped_column(String(60), default="")
    dose_number: Mapped[int] = mapped_column(Integer)
    given_on: Mapped[date] = mapped_column(Date)  # local date
    site: Mapped[str] = mapped_column(String(200), default="")  # where it was given
    certificate_id: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str | None] = mapped_column(String(100))  # None: the command line
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_batches.id", name="fk_vaccination_doses_batch_id"), index=True)

    person: Mapped[Person] = relationship()
    batch: Mapped[ImportBatch | None] = relationship()
