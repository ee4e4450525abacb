"""Lab results: entering one, and what a positive one sets off.

`set_result` is the one writer of a sample's result, for the entry form and the import alike.
A result once set is never replaced by a different one silently: a second, different result
is refused (the lab must correct it with a supervisor). `on_positive` holds every effect of a
positive individual result, in the caller's transaction: the person becomes F0 at once, the
plan's pending calls from today on are withdrawn (planning.cancel_unwanted, the plan's own
writer; the plan never calls an F0), and an urgent FLAG_POSITIVE flag is raised. A pooled
positive makes no one F0: each member is asked to re-test and gets a FLAG_RETEST flag.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from callengine.casework.errors import InvalidRequest, NotAllowedNow, NotFound
from callengine.casework.events import add_person_event
from callengine.clock import from_db, to_db
from callengine.flags import raise_record_flag
from callengine.health.exposure import open_exposure_review
from callengine.health.labels import RESULT_LABELS, SAMPLE_KIND_LABELS
from callengine.importer.categories import F0
from callengine.planning import cancel_unwanted
from callengine.store.db import Database
from callengine.store.models import PERSON_F0, Person
from callengine.store.samples import (
    KIND_POOLED,
    RESULT_POSITIVE,
    RESULTS,
    PoolMember,
    Sample,
)
from callengine.store.supervision import FLAG_POSITIVE, FLAG_RETEST

MAX_CT = 50.0

# What set_result did.
RESULT_SET = "set"
RESULT_UNCHANGED = "unchanged"  # the same result again (a re-imported workbook)


@dataclass(frozen=True)
class NewResult:
    result: str  # RESULTS
    ct_value: float | None = None
    result_at: datetime | None = None  # aware; None: now


@dataclass(frozen=True)
class ResultOutcome:
    sample_id: int
    done: str  # RESULT_SET or RESULT_UNCHANGED
    result: str
    became_f0: bool = False
    retests: int = 0  # members of a pooled positive asked to re-test
    calls_cancelled: int = 0


def check_result(new: NewResult, now: datetime) -> None:
    if new.result not in RESULTS:
        raise InvalidRequest(f"Kết quả '{new.result}' không hợp lệ (dùng "
                             f"{', '.join(RESULTS)}).")
    if new.ct_value is not None and not 0 <= new.ct_value <= MAX_CT:
        raise InvalidRequest(f"Giá trị Ct phải từ 0 đến {MAX_CT:g}.")
    if new.result_at is not None and new.result_at > now:
        raise InvalidRequest("Thời gian trả kết quả ở tương lai.")


def conflict(sample: Sample, new: NewResult) -> str | None:
    """Why a result cannot be recorded on this sample (Vietnamese), or None."""
    if sample.result is None or sample.result == new.result:
        return None
    when = f" ngày {sample.result_at.strftime('%d/%m/%Y')}" if sample.result_at else ""
    return (f"mẫu '{sample.code}' đã có kết quả {RESULT_LABELS[sample.result]}{when}, khác "
            f"với {RESULT_LABELS[new.result]}; không ghi đè (cần giám sát viên kiểm tra)")


def set_result(s: Session, sample: Sample, new: NewResult, *, actor: str | None,
               now: datetime, settings, import_id: int | None = None) -> ResultOutcome:
    """Record a result in the caller's transaction, with a positive's effects."""
    check_result(new, now)
    reason = conflict(sample, new)
    if reason is not None:
        raise NotAllowedNow(reason[0].upper() + reason[1:] + ".")
    if sample.result == new.result:
        return ResultOutcome(sample.id, RESULT_UNCHANGED, new.result)
    sample.result, sample.ct_value = new.result, new.ct_value
    sample.result_at = to_db(new.result_at or now)
    sample.result_by = (actor or None) and actor[:100]
    sample.result_entered_at, sample.result_import_id = to_db(now), import_id
    s.flush()
    if new.result != RESULT_POSITIVE:
        return ResultOutcome(sample.id, RESULT_SET, new.result)
    if sample.kind == KIND_POOLED:
        retests = on_pooled_positive(s, sample, now, settings)
        return ResultOutcome(sample.id, RESULT_SET, new.result, retests=retests)
    person = s.get_one(Person, sample.person_id, with_for_update=True)
    cancelled = on_positive(s, person, sample, now, settings)
    return ResultOutcome(sample.id, RESULT_SET, new.result, became_f0=True,
                         calls_cancelled=cancelled)


def on_positive(s: Session, person: Person, sample: Sample, now: datetime, settings) -> int:
    """Every effect of a person's positive result, in the caller's transaction; returns the
    pending calls withdrawn. Idempotent: an F0 stays F0, the flag is raised once."""
    day = _local_day(now, settings)
    before = person.status
    person.category, person.status, person.updated_at = F0, PERSON_F0, to_db(now)
    s.flush()
    cancelled = sum(cancel_unwanted(s, day, now, [person.id]).values())
    if before != PERSON_F0:
        add_person_event(s, person.id, now, sample.result_by or "", "became_f0",
                         note=f"Mẫu {sample.code} dương tính", old_value=before,
                         new_value=PERSON_F0)
    raise_record_flag(s, person_id=person.id, kind=FLAG_POSITIVE, urgent=True,
                      detail=_detail(sample), reference=sample_reference(sample), day=day,
                      now=now)
    # Their contacts await a supervisor: from the sampling (less the days before it) to the
    # result that isolated them.
    open_exposure_review(s, person_id=person.id, reference_at=from_db(sample.taken_at),
                         isolated_at=from_db(sample.result_at) if sample.result_at else now,
                         source=sample_reference(sample), now=now, settings=settings)
    return cancelled


def on_pooled_positive(s: Session, pool: Sample, now: datetime, settings) -> int:
    """Ask every member of a positive pool to re-test individually and flag each (they are
    not F0: the pool does not tell who is positive). Returns the members asked."""
    day = _local_day(now, settings)
    members = list(s.scalars(select(PoolMember).where(PoolMember.pool_id == pool.id)
                             .order_by(PoolMember.id)))
    for member in members:
        member.retest_requested_at = member.retest_requested_at or to_db(now)
        raise_record_flag(s, person_id=member.person_id, kind=FLAG_RETEST, urgent=False,
                          detail=f"Mẫu gộp {pool.code} dương tính: cần xét nghiệm lại cá nhân",
                          reference=member_reference(member), day=day, now=now)
    s.flush()
    return len(members)


def sample_reference(sample: Sample) -> str:
    """A positive flag's reference: the sample by id (codes are personal; the flag page links
    "sample:<id>" to the sample's page)."""
    return f"sample:{sample.id}"


def member_reference(member: PoolMember) -> str:
    """A re-test flag's reference: one per member of the pool ("pool-member:<id>")."""
    return f"pool-member:{member.id}"


def _detail(sample: Sample) -> str:
    ct = f", Ct {sample.ct_value:g}" if sample.ct_value is not None else ""
    return f"{SAMPLE_KIND_LABELS.get(sample.kind, sample.kind)} {sample.code} dương tính{ct}"


def _local_day(now: datetime, settings):
    return now.astimezone(ZoneInfo(settings.timezone)).date()


def enter_result(db: Database, sample_id: int, new: NewResult, *, actor: str | None,
                 now: datetime, settings) -> ResultOutcome:
    """A result entered by staff (the sample page, the API), in its own transaction."""
    with db.session() as s:
        sample = s.get(Sample, sample_id, with_for_update=True)
        if sample is None:
            raise NotFound(f"Không tìm thấy mẫu #{sample_id}.")
        return set_result(s, sample, new, actor=actor, now=now, settings=settings)

