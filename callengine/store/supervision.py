"""Tables for supervision and coordination: flags for supervisors, leases between processes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callengine.store.models import Base, CallAttempt, CallTask, Person

# Flag kinds.
FLAG_SYMPTOM = "symptom"  # a symptom answered yes (urgent when the question is urgent)
FLAG_CALLBACK = "callback"  # the resident pressed the callback key
FLAG_UNREACHABLE = "unreachable"  # not reached on two consecutive days
FLAG_INVALID_NUMBER = "invalid_number"  # staff must fix the number
FLAG_SPEECH_REVIEW = "speech_review"  # a spoken answer was not understood: listen to it
# Flags raised by health records rather than by a call (no task; `reference` names the record).
FLAG_DECLARATION = "declaration"  # a venue check-in declared a symptom (urgent for breath)
FLAG_POSITIVE = "positive"  # a positive test result: the person is F0 (always urgent)
FLAG_RETEST = "retest"  # a member of a positive pooled sample must be tested on their own
FLAG_OPEN, FLAG_CLOSED = "open", "closed"


class Flag(Base):
    """One thing a supervisor must look at, with the attempt (and so answers and audio)."""

    __tablename__ = "flags"
    __table_args__ = (
        UniqueConstraint("task_id", "kind"),
        UniqueConstraint("kind", "reference", name="uq_flags_kind_reference"),
        Index("ix_flags_status_urgent", "status", "urgent"),
        Index("ix_flags_queue", "status", "urgent", "created_at", "id"),
        Index("ix_flags_assigned_to", "assigned_to", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("call_tasks.id"))  # None: no call
    day: Mapped[date] = mapped_column(Date)  # the call's day, or the local day of the record
    reference: Mapped[str | None] = mapped_column(String(80))  # e.g. "checkin:12", "sample:A1"
    attempt_id: Mapped[str | None] = mapped_column(ForeignKey("call_attempts.id"))
    kind: Mapped[str] = mapped_column(String(20))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    detail: Mapped[str | None] = mapped_column(String(300))  # e.g. "breath, fever"
    status: Mapped[str] = mapped_column(String(10), default=FLAG_OPEN)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    assigned_to: Mapped[str | None] = mapped_column(String(100))  # a username
    # Bumped by every supervisor's change (compare-and-set: of two at once, one wins); the
    # engine's own updates of an open flag's evidence leave it alone.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    action: Mapped[str | None] = mapped_column(String(40))  # the last action's code
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)  # of the last action

    person: Mapped[Person] = relationship()
    task: Mapped[CallTask | None] = relationship()
    attempt: Mapped[CallAttempt | None] = relationship()


class FlagEvent(Base):
    """One step in a flag's history: who did what, with which note and effect."""

    __tablename__ = "flag_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))  # an action code, or 'assigned'
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))  # the flag's status after the step
    effect: Mapped[str | None] = mapped_column(String(200))  # what the engine was told to do


class PersonEvent(Base):
    """One change staff made to a person: closed, reopened, phone, call now.
    Values are kept in full (shown only on the person's page, never in lists or logs)."""

    __tablename__ = "person_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(String(40))  # a closure reason code
    note: Mapped[str | None] = mapped_column(Text)
    old_value: Mapped[str | None] = mapped_column(String(200))
    new_value: Mapped[str | None] = mapped_column(String(200))


class Lease(Base):
    """A named role held by one process until it expires (e.g. the daily scheduler)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(DateTime)


# How a plan run was started (PlanRun.trigger).
PLAN_SCHEDULED = "scheduled"  # the scheduler leader at the plan time
PLAN_CATCH_UP = "catch-up"  # a new scheduler leader past the plan time, nothing run yet
PLAN_MANUAL = "manual"  # `callengine plan` by an officer (may run again)
PLAN_RUNNING, PLAN_DONE, PLAN_FAILED = "running", "done", "failed"


class PlanRun(Base):
    """One run of the daily plan: who ran it, when, and what it did.

    `daily_day` is the day for the scheduled and catch-up runs and NULL otherwise: its
    uniqueness lets one daily run per day begin, whichever processes try at once.
    """

    __tablename__ = "plan_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    daily_day: Mapped[date | None] = mapped_column(Date, unique=True)
    trigger: Mapped[str] = mapped_column(String(20))
    holder: Mapped[str] = mapped_column(String(100))  # server id and process
    status: Mapped[str] = mapped_column(String(20), default=PLAN_RUNNING)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    created: Mapped[int | None] = mapped_column(Integer)
    ended: Mapped[int | None] = mapped_column(Integer)
    cancelled: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(String(200))
