"""The campaign row: live overrides of the settings that every running engine obeys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from callengine.store.models import Base

CAMPAIGN_ROW_ID = 1  # the one row; the migration creates it at revision 0

# Columns that override the setting of the same name; NULL means "as in the settings".
DURATION_COLUMNS = (
    "retry_busy", "retry_no_answer", "retry_congestion", "retry_congestion_max",
    "retry_partial", "retry_rejected", "retry_failed",
)


class CampaignRow(Base):
    """One row; revision grows with every change so engines can poll it cheaply."""

    __tablename__ = "campaign_settings"
    __table_args__ = (CheckConstraint("id = 1", name="ck_campaign_settings_one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_by: Mapped[str | None] = mapped_column(String(100))
    paused_at: Mapped[datetime | None] = mapped_column(DateTime)
    call_window: Mapped[str | None] = mapped_column(String(20))  # HH:MM[:SS]-HH:MM[:SS]
    max_attempts_per_day: Mapped[int | None] = mapped_column(Integer)
    retry_busy: Mapped[float | None] = mapped_column(Float)
    retry_no_answer: Mapped[float | None] = mapped_column(Float)
    retry_congestion: Mapped[float | None] = mapped_column(Float)
    retry_congestion_max: Mapped[float | None] = mapped_column(Float)
    retry_partial: Mapped[float | None] = mapped_column(Float)
    retry_rejected: Mapped[float | None] = mapped_column(Float)
    retry_failed: Mapped[float | None] = mapped_column(Float)
    # {"viettel": {"max_channels": 20, "cps": 5.0}}: only the limits that are overridden
    trunk_limits: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_by: Mapped[str | None] = mapped_column(String(100))
