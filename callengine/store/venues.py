"""Tables of venue check-in: venues with their QR token, their retired tokens, and check-ins.

Times are naive UTC like everywhere else in the store.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callengine.store.models import Base, Person

VENUE_KINDS = ("shop", "market", "office", "factory", "school", "restaurant", "health", "other")


class Venue(Base):
    """A place with a QR poster; its token is the secret part of the check-in URL."""

    __tablename__ = "venues"
    __table_args__ = (
        Index("ix_venues_district_commune", "district", "commune"),
        Index("ix_venues_name_key_id", "name_key", "id"),  # search, in name order
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), default="")  # folded, for search
    address: Mapped[str] = mapped_column(String(300), default="")
    district: Mapped[str | None] = mapped_column(String(100))
    commune: Mapped[str | None] = mapped_column(String(100))
    # The official codes of the written district and commune (callengine/places).
    district_code: Mapped[str | None] = mapped_column(String(10))
    commune_code: Mapped[str | None] = mapped_column(String(10), index=True)
    new_commune_code: Mapped[str | None] = mapped_column(String(10), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="other")  # one of VENUE_KINDS
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    stay_minutes: Mapped[int | None] = mapped_column(Integer)  # None: venue_stay_minutes
    token: Mapped[str] = mapped_column(String(64), unique=True)  # token_urlsafe(24): 192 bits
    token_rotated_at: Mapped[datetime | None] = mapped_column(DateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str | None] = mapped_column(String(100))  # a username


class RetiredVenueToken(Base):
    """A token a venue had before a rotation: an old poster gets a clear message, not a 404."""

    __tablename__ = "venue_retired_tokens"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"),
                                          index=True)
    retired_at: Mapped[datetime] = mapped_column(DateTime)


class CheckIn(Base):
    """One visit (repeats of one phone at one venue within 30 minutes merged into it)."""

    __tablename__ = "checkins"
    __table_args__ = (
        Index("ix_checkins_venue_at", "venue_id", "checked_in_at"),
        Index("ix_checkins_phone_at", "phone", "checked_in_at"),
        Index("ix_checkins_person", "person_id"),
        Index("ix_checkins_at", "checked_in_at"),  # retention
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    full_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20))  # E.164
    national_id: Mapped[str | None] = mapped_column(String(20))
    checked_in_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)  # the newest merged repeat
    visits: Mapped[int] = mapped_column(Integer, default=1)
    fever: Mapped[bool] = mapped_column(Boolean, default=False)
    cough: Mapped[bool] = mapped_column(Boolean, default=False)
    breath: Mapped[bool] = mapped_column(Boolean, default=False)
    taste_smell: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_f0: Mapped[bool] = mapped_column(Boolean, default=False)
    travel: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    venue: Mapped[Venue] = relationship()
    person: Mapped[Person | None] = relationship()
