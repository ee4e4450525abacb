"""Tables of the business risk self-assessment: each venue's assessment link token (a row per
token; the current one has no retired_at) and the assessments it took."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from callengine.store.models import Base


class VenueRiskToken(Base):
    """The secret part of a venue's /v/<token>/risk link; retired ones get a clear refusal."""

    __tablename__ = "venue_risk_tokens"
    __table_args__ = (Index("ix_venue_risk_tokens_venue", "venue_id", "retired_at"),)

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime)


class RiskAssessment(Base):
    """One self-assessment of a venue: the answers, their points, index and band."""

    __tablename__ = "risk_assessments"
    __table_args__ = (
        Index("ix_risk_assessments_venue_at", "venue_id", "submitted_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"))
    criteria_id: Mapped[str] = mapped_column(String(40))
    criteria_version: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict] = mapped_column(JSON)  # criterion id -> option id
    points: Mapped[int] = mapped_column(Integer)
    index_percent: Mapped[float] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(20))
    submitted_at: Mapped[datetime] = mapped_column(DateTime)
    submitted_by: Mapped[str] = mapped_column(String(200))  # contact name/phone or username
    created_at: Mapped[datetime] = mapped_column(DateTime)
