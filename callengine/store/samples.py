"""Tables for test samples and their results: samples, the members of pooled samples, and one
row per imported sample or result workbook."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callengine.store.models import Base, Person

# Sample kinds.
KIND_RT_PCR = "rt_pcr"  # RT-PCR, one person's swab
KIND_RAPID_ANTIGEN = "rapid_antigen"  # rapid antigen test, one person
KIND_POOLED = "pooled"  # several people's swabs in one tube (gộp mẫu): its members
SAMPLE_KINDS = (KIND_RT_PCR, KIND_RAPID_ANTIGEN, KIND_POOLED)

# Results.
RESULT_POSITIVE = "positive"
RESULT_NEGATIVE = "negative"
RESULT_INDETERMINATE = "indeterminate"  # the lab could not tell: sample again
RESULTS = (RESULT_POSITIVE, RESULT_NEGATIVE, RESULT_INDETERMINATE)

# What a record import held.
IMPORT_SAMPLES = "samples"
IMPORT_RESULTS = "lab_results"


class RecordImport(Base):
    """One imported workbook of samples or lab results: who, when, and its counts."""

    __tablename__ = "sample_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # IMPORT_SAMPLES or IMPORT_RESULTS
    file_name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str | None] = mapped_column(String(100))


class Sample(Base):
    """A sample: whose (a pooled one has members instead), its code, kind, where and when it
    was taken, and its result once the lab gives it."""

    __tablename__ = "samples"
    __table_args__ = (
        Index("ix_samples_taken_at", "taken_at"),
        Index("ix_samples_result", "result", "result_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # as the lab writes it, upper
    kind: Mapped[str] = mapped_column(String(20))
    taken_at: Mapped[datetime] = mapped_column(DateTime)  # naive UTC, as every datetime
    site: Mapped[str | None] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str | None] = mapped_column(String(100))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("sample_imports.id"))
    result: Mapped[str | None] = mapped_column(String(20))
    ct_value: Mapped[float | None] = mapped_column(Float)
    result_at: Mapped[datetime | None] = mapped_column(DateTime)  # when the lab reported it
    result_import_id: Mapped[int | None] = mapped_column(ForeignKey("sample_imports.id"))
    result_by: Mapped[str | None] = mapped_column(String(100))  # who entered or imported it
    result_entered_at: Mapped[datetime | None] = mapped_column(DateTime)

    person: Mapped[Person | None] = relationship()
    members: Mapped[list[PoolMember]] = relationship(
        back_populates="pool", foreign_keys="PoolMember.pool_id", order_by="PoolMember.id")


class PoolMember(Base):
    """One person whose swab is in a pooled sample; asked to re-test when the pool is
    positive (retest_requested_at), with their individual sample once there is one."""

    __tablename__ = "sample_pool_members"
    __table_args__ = (UniqueConstraint("pool_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("samples.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    sample_id: Mapped[int | None] = mapped_column(ForeignKey("samples.id"))  # individual
    retest_requested_at: Mapped[datetime | None] = mapped_column(DateTime)

    pool: Mapped[Sample] = relationship(back_populates="members", foreign_keys=[pool_id])
    person: Mapped[Person] = relationship()
    sample: Mapped[Sample | None] = relationship(foreign_keys=[sample_id])
