"""The supervisor's review of a case's contacts: one per case and source (e.g. a sample)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callengine.store.models import Base, ImportBatch, Person
from callengine.store.venues import CheckIn

REVIEW_OPEN = "open"  # candidates await a supervisor
REVIEW_CONFIRMED = "confirmed"  # the chosen contacts were enrolled (batch_id)


class ExposureReview(Base):
    """Whom a case may have exposed: the window searched and what a supervisor confirmed.

    Times are naive UTC. reference_at: sampling or symptom onset, whichever is earlier;
    isolated_at: when the case was isolated (became F0). The window starts
    exposure_days_before days before reference_at and ends at isolated_at; a supervisor may
    change it before confirming."""

    __tablename__ = "exposure_reviews"
    __table_args__ = (
        UniqueConstraint("person_id", "source", name="uq_exposure_reviews_person_source"),
        Index("ix_exposure_reviews_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    reference_at: Mapped[datetime] = mapped_column(DateTime)
    isolated_at: Mapped[datetime] = mapped_column(DateTime)
    window_start: Mapped[datetime] = mapped_column(DateTime)
    window_end: Mapped[datetime] = mapped_column(DateTime)
    source: Mapped[str] = mapped_column(String(80))  # what opened it, e.g. "sample:ABC123"
    status: Mapped[str] = mapped_column(String(10), default=REVIEW_OPEN)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    confirmed_by: Mapped[str | None] = mapped_column(String(100))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    batch_id: Mapped[int | None] = mapped_column(  # the enrolment of the confirmed contacts
        ForeignKey("import_batches.id", name="fk_exposure_reviews_batch_id"))
    # Bumped by every supervisor's change (compare-and-set: of two at once, one wins).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    person: Mapped[Person] = relationship()
    batch: Mapped[ImportBatch | None] = relationship()


# The exposure query's look-up of a case's own check-ins by person (migration 0017): only the
# check-ins that name a person, so that the planners rate it by those.
KNOWN_PERSON = text("person_id IS NOT NULL")
Index("ix_checkins_known_person_at", CheckIn.person_id, CheckIn.checked_in_at,
      sqlite_where=KNOWN_PERSON, postgresql_where=KNOWN_PERSON)
