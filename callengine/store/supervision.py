"""Tables for supervision and coordination: flags for supervisors, leases between processes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callengine.store.models import Base, CallAttempt, CallTask, Person

# Flag kinds.
FLAG_SYMPTOM = "symptom"  # a symptom answered yes (urgent when the question is urgent)
FLAG_CALLBACK = "callback"  # the resident pressed the callback key
FLAG_UNREACHABLE = "unreachable"  # not reached on two consecutive days
FLAG_INVALID_NUMBER = "invalid_number"  # staff must fix the number
FLAG_SPEECH_REVIEW = "speech_review"  # a spoken answer was not understood: listen to it
FLAG_OPEN, FLAG_CLOSED = "open", "closed"


class Flag(Base):
    """One thing a supervisor must look at, with the attempt (and so answers and audio)."""

    __tablename__ = "flags"
    __table_args__ = (
        UniqueConstraint("task_id", "kind"),
        Index("ix_flags_status_urgent", "status", "urgent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("call_tasks.id"))
    attempt_id: Mapped[str | None] = mapped_column(ForeignKey("call_attempts.id"))
    kind: Mapped[str] = mapped_column(String(20))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    detail: Mapped[str | None] = mapped_column(String(300))  # e.g. "breath, fever"
    status: Mapped[str] = mapped_column(String(10), default=FLAG_OPEN)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)

    person: Mapped[Person] = relationship()
    task: Mapped[CallTask] = relationship()
    attempt: Mapped[CallAttempt | None] = relationship()


class Lease(Base):
    """A named role held by one process until it expires (e.g. the daily scheduler)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(DateTime)
