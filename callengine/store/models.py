"""SQLAlchemy 2 models. Datetimes are stored as naive UTC; dates are local (Asia/Ho_Chi_Minh)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Task statuses.
TASK_PENDING = "pending"  # waiting for its next attempt (next_attempt_at)
TASK_DIALING = "dialing"  # one attempt in flight; never claimable
TASK_DONE = "done"  # survey completed, or a final outcome (invalid number)
TASK_EXHAUSTED = "exhausted"  # no attempt left today (cap, policy, or window closed)
TASK_CANCELLED = "cancelled"  # withdrawn (monitoring ended, supervisor closed)

# Why a task exists.
ORIGIN_PLAN = "plan"  # the daily plan: the person's monitoring covers the day
ORIGIN_MANUAL = "manual"  # staff asked for it (`callengine call`, "call now"): a one-off call
# that the plan never cancels, whether or not the person is under monitoring

# Person statuses.
PERSON_MONITORING = "monitoring"  # called every day until monitoring_end
PERSON_ENDED = "ended"  # monitoring over (set by the daily plan); a new exposure reopens it
PERSON_F0 = "F0"  # a patient: stored, never called by the plan
PERSON_CLOSED = "closed"  # a supervisor ended the monitoring early (with a reason)
PERSON_UNMONITORED = "unmonitored"  # known only from a manual call; an import may monitor them

# Attempt states.
ATTEMPT_CLAIMED = "claimed"  # task claimed, Originate not sent yet (the lease may return it)
ATTEMPT_ORIGINATING = "originating"  # Originate about to be or being sent (never leased back)
ATTEMPT_RINGING = "ringing"  # Asterisk accepted the Originate
ATTEMPT_ANSWERED = "answered"  # the survey dialplan is running
ATTEMPT_ENDED = "ended"  # outcome known
LIVE_ATTEMPT_STATES = (ATTEMPT_CLAIMED, ATTEMPT_ORIGINATING, ATTEMPT_RINGING, ATTEMPT_ANSWERED)
DIALLED_LIVE_STATES = (ATTEMPT_ORIGINATING, ATTEMPT_RINGING, ATTEMPT_ANSWERED)

OUTCOMES = (
    "completed", "partial", "no_answer", "busy", "rejected", "invalid_number", "congestion",
    "failed",
)


class Base(DeclarativeBase):
    pass


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (
        Index("ix_people_name_key_id", "name_key", "id"),  # name search, in name order
        Index("ix_people_district_commune", "district", "commune"),
        Index("ix_people_status_name_key", "status", "name_key", "id"),  # e.g. closed people
        # The areas beside the id, for per-area counts (PostgreSQL; on SQLite id is the rowid).
        Index("ix_people_id_area", "id", postgresql_include=["district", "commune"])
        .ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    name_key: Mapped[str] = mapped_column(String(200), default="", index=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    alt_phones: Mapped[str] = mapped_column(String(200), default="")
    carrier: Mapped[str] = mapped_column(String(20), default="unknown")
    national_id: Mapped[str | None] = mapped_column(String(20), unique=True)
    category: Mapped[str | None] = mapped_column(String(10))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(10))
    village: Mapped[str | None] = mapped_column(String(100))
    commune: Mapped[str | None] = mapped_column(String(100))
    district: Mapped[str | None] = mapped_column(String(100))
    # Official codes of the units district and commune name (callengine/geo; migration 0016):
    # district and commune before the 2025 reorganisation, the commune after it.
    district_code: Mapped[str | None] = mapped_column(String(10), index=True)
    commune_code: Mapped[str | None] = mapped_column(String(10), index=True)
    new_commune_code: Mapped[str | None] = mapped_column(String(10), index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    origin: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=PERSON_MONITORING)
    # Earliest start and latest end of the person's monitoring periods (kept by the import;
    # the end never shortens). Gaps between periods are only visible in monitoring_periods.
    monitoring_start: Mapped[date | None] = mapped_column(Date)
    monitoring_end: Mapped[date | None] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    periods: Mapped[list[MonitoringPeriod]] = relationship(back_populates="person")


class MonitoringPeriod(Base):
    __tablename__ = "monitoring_periods"
    __table_args__ = (UniqueConstraint("person_id", "category", "start_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    category: Mapped[str] = mapped_column(String(10))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(300))
    list_date: Mapped[date | None] = mapped_column(Date)  # date of the list that named it
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_batches.id", name="fk_monitoring_periods_batch_id"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime)

    person: Mapped[Person] = relationship(back_populates="periods")


class ImportBatch(Base):
    """One file imported by `callengine import` (audit: what came in, when, with what result)."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    list_date: Mapped[date] = mapped_column(Date)
    category: Mapped[str | None] = mapped_column(String(10))  # --category, if given
    sheets: Mapped[int] = mapped_column(Integer, default=0)  # sheets with data
    rows: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)  # people first seen in this file
    updated: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str | None] = mapped_column(String(100))  # who imported (None: the CLI)
    preview_id: Mapped[str | None] = mapped_column(  # the web upload it was committed from
        ForeignKey("import_previews.id", name="fk_import_batches_preview_id"), index=True
    )


# Import preview statuses.
PREVIEW_STAGED = "staged"  # validated and stored; can be committed until expires_at
PREVIEW_COMMITTED = "committed"  # imported (its import_batches name it)
PREVIEW_EXPIRED = "expired"  # not committed in time
PREVIEW_REFUSED = "refused"  # a commit found it stale (the people it matched changed)
PREVIEW_DISCARDED = "discarded"  # withdrawn by staff


class ImportPreview(Base):
    """An uploaded list validated but not yet imported: what committing it would do."""

    __tablename__ = "import_previews"
    __table_args__ = (Index("ix_import_previews_status_expires", "status", "expires_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # unguessable token
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(10), default=PREVIEW_STAGED)
    list_date: Mapped[date] = mapped_column(Date)
    category: Mapped[str | None] = mapped_column(String(10))
    report: Mapped[str] = mapped_column(Text)  # JSON: the importer's report and the files
    fingerprint: Mapped[str] = mapped_column(String(64))  # importer/fingerprint.py
    closed_by: Mapped[str | None] = mapped_column(String(100))  # who committed or discarded
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reason: Mapped[str | None] = mapped_column(String(300))  # why it was refused


class CallTask(Base):
    """One person's call for one day; attempts hang off it."""

    __tablename__ = "call_tasks"
    __table_args__ = (
        UniqueConstraint("person_id", "day"),
        Index("ix_call_tasks_due", "status", "next_attempt_at"),
        # a day's due tasks in claiming order, read in index order (migration 0020): without
        # the id and the day, a province's tasks due at one plan time were sorted at each claim
        Index("ix_call_tasks_claim_order", "status", "day", "next_attempt_at", "id"),
        # the dashboard's figures of a day, from the index alone (migration 0010)
        Index("ix_call_tasks_day_figures", "day", "person_id", "status", "attempts",
              "last_outcome", "callback_requested"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    day: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(20), default=TASK_PENDING)
    origin: Mapped[str] = mapped_column(String(10), default=ORIGIN_PLAN,
                                        server_default=ORIGIN_PLAN)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_outcome: Mapped[str | None] = mapped_column(String(20))
    callback_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # The greeting by name played before the intro: a sound path as Asterisk sees it, without
    # extension (set at plan time by callengine.greetings; None: no greeting).
    greeting: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    person: Mapped[Person] = relationship()
    attempt_rows: Mapped[list[CallAttempt]] = relationship(
        back_populates="task", order_by="CallAttempt.created_at"
    )


class CallAttempt(Base):
    """One Originate. Its id is the channel's uniqueid (AMI ChannelId)."""

    __tablename__ = "call_attempts"
    __table_args__ = (
        # The database itself refuses a second live call to one person.
        Index(
            "uq_call_attempts_live_person", "person_id", unique=True,
            sqlite_where=text("state != 'ended'"), postgresql_where=text("state != 'ended'"),
        ),
        Index("ix_call_attempts_server_state", "server_id", "state"),
        # the 14-day chart and the calls log by (created_at, id); a person's attempts (0010)
        Index("ix_call_attempts_created_at_id", "created_at", "id", "outcome"),
        Index("ix_call_attempts_person_created", "person_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("call_tasks.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    phone: Mapped[str] = mapped_column(String(20))
    trunk: Mapped[str] = mapped_column(String(40))
    server_id: Mapped[str] = mapped_column(String(64))
    action_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20), default=ATTEMPT_ORIGINATING)
    outcome: Mapped[str | None] = mapped_column(String(20))
    cause: Mapped[int | None] = mapped_column(Integer)  # Q.850
    sip_code: Mapped[int | None] = mapped_column(Integer)  # Hangup TechCause
    detail: Mapped[str | None] = mapped_column(String(200))  # reason, DialStatus, 'lost', ...
    stage: Mapped[str | None] = mapped_column(String(40))  # last survey stage reached
    created_at: Mapped[datetime] = mapped_column(DateTime)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The claim's lease on the database clock (migration 0020): set by the claim, cleared
    # when the Originate is about to be sent. An ended attempt that still has it was never
    # dialled, and does not count as a try.
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)

    task: Mapped[CallTask] = relationship(back_populates="attempt_rows")
    answers: Mapped[list[Answer]] = relationship(back_populates="attempt")


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[str] = mapped_column(ForeignKey("call_attempts.id"))
    question_id: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(20))  # yes / no / unknown / callback
    key: Mapped[str | None] = mapped_column(String(4))
    source: Mapped[str] = mapped_column(String(10), default="dtmf")  # dtmf / speech
    confidence: Mapped[float | None] = mapped_column(Float)
    transcript: Mapped[str | None] = mapped_column(Text)
    audio_path: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    attempt: Mapped[CallAttempt] = relationship(back_populates="answers")


class Server(Base):
    """One engine's heartbeat (migration 0020): others end the live calls of a silent one."""

    __tablename__ = "servers"

    server_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_seen: Mapped[datetime] = mapped_column(DateTime)  # the database's clock
    started_at: Mapped[datetime] = mapped_column(DateTime)  # the database's clock
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(40))
