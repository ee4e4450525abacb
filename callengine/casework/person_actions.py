"""What staff change about a person, and what the engine then does:

* correct_phone: re-validated like imports; the old number stays as an alternate (so a
  re-imported list still finds the person) and in the history; when today's call failed for
  a bad number (last outcome invalid_number, the day over), the new number is called today
  (a manual task: the plan leaves it alone); the person's open wrong-number flags close.
* close_monitoring: status closed with a reason; every pending call is cancelled (manual
  ones too); the daily plan creates no more calls, as it plans only people under monitoring.
  Open flags stay open: a supervisor still sees what was raised.
* reopen_monitoring: back under monitoring if a period covers today (today's call is
  planned again, unless the window is over) or starts later; a period that is over cannot
  be reopened (a new list must name the person).
* call_now: one more attempt today, now, within the call window; never a second live call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from callengine.casework.effects import call_today, change_phone
from callengine.casework.errors import InvalidRequest, NotAllowedNow, NotFound
from callengine.casework.events import add_person_event
from callengine.casework.labels import (
    CLOSURE_REASONS,
    EFFECT_LABELS,
    PERSON_STATUS_LABELS,
    REASONS_NEEDING_NOTE,
    display_name,
    label,
)
from callengine.clock import to_db
from callengine.dialer.window import Window
from callengine.phones import normalize_phone
from callengine.store.db import Database
from callengine.store.models import (
    LIVE_ATTEMPT_STATES,
    ORIGIN_PLAN,
    PERSON_CLOSED,
    PERSON_F0,
    PERSON_MONITORING,
    TASK_CANCELLED,
    TASK_PENDING,
    CallAttempt,
    CallTask,
    MonitoringPeriod,
    Person,
)
from callengine.tasks import request_call


@dataclass(frozen=True)
class PersonChange:
    """What a change did: the person's state after it, and what the engine was told."""

    person_id: int
    status: str
    phone: str  # E.164 (the person's page shows it in full)
    effect: str | None  # labels.EFFECT_LABELS
    message: str  # Vietnamese, for the page or the terminal
    cancelled_calls: int = 0
    flags_closed: int = 0


def _person(s: Session, person_id: int) -> Person:
    person = s.get(Person, person_id, with_for_update=True)
    if person is None:
        raise NotFound(f"Không tìm thấy người #{person_id}.")
    return person


def _change(person: Person, effect: str | None, message: str, **counts) -> PersonChange:
    return PersonChange(person.id, person.status, person.phone, effect, message, **counts)


def correct_phone(db: Database, person_id: int, raw_phone: str, actor: str, now: datetime,
                  window: Window, note: str | None = None) -> PersonChange:
    """Replace the person's number (InvalidPhone says why a number is refused)."""
    number = normalize_phone(raw_phone)
    with db.session() as s:
        person = _person(s, person_id)
        done = change_phone(s, person, number, actor, now, window, note)
        return _change(person, done.effect, EFFECT_LABELS[done.effect] + ".",
                       flags_closed=done.flags_closed)


def close_monitoring(db: Database, person_id: int, reason: str, actor: str, now: datetime,
                     note: str | None = None) -> PersonChange:
    """End the person's monitoring early for one of CLOSURE_REASONS; pending calls go."""
    note = (note or "").strip() or None
    if reason not in CLOSURE_REASONS:
        raise InvalidRequest("Cần chọn lý do đóng theo dõi: "
                             + "; ".join(f"{c} ({t})" for c, t in CLOSURE_REASONS.items()) + ".")
    if reason in REASONS_NEEDING_NOTE and note is None:
        raise InvalidRequest(f"Lý do “{CLOSURE_REASONS[reason]}” cần ghi chú.")
    with db.session() as s:
        person = _person(s, person_id)
        if person.status == PERSON_CLOSED:
            raise NotAllowedNow(f"{display_name(person.id, person.full_name)} đã được đóng "
                                "theo dõi từ trước.")
        before, person.status, person.updated_at = person.status, PERSON_CLOSED, to_db(now)
        cancelled = s.execute(  # type: ignore[attr-defined]  # DML gives a CursorResult
            update(CallTask).where(CallTask.person_id == person.id,
                                   CallTask.status == TASK_PENDING)
            .values(status=TASK_CANCELLED, updated_at=to_db(now))
            .execution_options(synchronize_session=False)).rowcount
        add_person_event(s, person.id, now, actor, "closed", reason=reason, note=note,
                         old_value=before, new_value=PERSON_CLOSED)
        return _change(person, "monitoring_closed",
                       f"Đã đóng theo dõi ({CLOSURE_REASONS[reason]}); "
                       f"{cancelled} cuộc gọi đang chờ đã hủy.", cancelled_calls=cancelled)


def _periods_from(s: Session, person_id: int, day) -> list[MonitoringPeriod]:
    return list(s.scalars(select(MonitoringPeriod).where(
        MonitoringPeriod.person_id == person_id, MonitoringPeriod.end_date >= day)
        .order_by(MonitoringPeriod.start_date)))


def reopen_monitoring(db: Database, person_id: int, actor: str, now: datetime,
                      window: Window, note: str | None = None) -> PersonChange:
    """Put a closed person back under monitoring, and plan today's call if it is due."""
    today = window.local_day(now)
    with db.session() as s:
        person = _person(s, person_id)
        if person.status != PERSON_CLOSED:
            raise NotAllowedNow(f"Chỉ mở lại được người đã đóng theo dõi (hiện tại: "
                                f"{label(PERSON_STATUS_LABELS, person.status)}).")
        periods = _periods_from(s, person.id, today)
        if not periods:
            end = person.monitoring_end.strftime("%d/%m/%Y") if person.monitoring_end else "?"
            raise NotAllowedNow(f"Thời gian theo dõi đã kết thúc ({end}); không thể mở lại. "
                                "Hãy nhập danh sách mới nếu người này cần theo dõi tiếp.")
        person.status, person.updated_at = PERSON_MONITORING, to_db(now)
        add_person_event(s, person.id, now, actor, "reopened", note=note,
                         old_value=PERSON_CLOSED, new_value=PERSON_MONITORING)
        if periods[0].start_date > today:
            return _change(person, None, "Đã mở lại theo dõi; cuộc gọi bắt đầu từ ngày "
                                         f"{periods[0].start_date.strftime('%d/%m/%Y')}.")
        effect = _plan_today(s, person.id, now, window)
        return _change(person, effect, f"Đã mở lại theo dõi. {EFFECT_LABELS[effect]}.")


def _plan_today(s: Session, person_id: int, now: datetime, window: Window) -> str:
    """Today's own call of a reopened monitoring (the plan's, as if never closed)."""
    day, due = window.local_day(now), window.next_start(now)
    if due is None:
        return "call_too_late"
    status = s.scalar(select(CallTask.status).where(CallTask.person_id == person_id,
                                                    CallTask.day == day))
    if status not in (None, TASK_CANCELLED):
        return "call_already_planned" if status == TASK_PENDING else "call_already_done"
    request_call(s, person_id, day, now, due=due, origin=ORIGIN_PLAN)
    return "call_scheduled"


def _window_text(window: Window, now: datetime) -> str:
    """'08:00–19:55': when calls may start today (the window less its closing guard)."""
    day = window.local_day(now)
    return f"{window.opens(day):%H:%M}–{window.last_start(day):%H:%M}"


def call_now(db: Database, person_id: int, actor: str, now: datetime,
             window: Window) -> PersonChange:
    """One more attempt today, due now; NotAllowedNow outside the window or while a call
    to the person is live."""
    if not window.may_start(now):
        raise NotAllowedNow(f"Ngoài giờ gọi: cuộc gọi chỉ bắt đầu trong khoảng "
                            f"{_window_text(window, now)} (giờ Việt Nam).")
    with db.session() as s:
        person = _person(s, person_id)
        if person.status == PERSON_F0:
            raise NotAllowedNow(f"{display_name(person.id, person.full_name)} là F0 (ca bệnh): "
                                "hệ thống không gọi tự động cho ca bệnh.")
        live = s.scalar(select(CallAttempt.id).where(
            CallAttempt.person_id == person.id, CallAttempt.state.in_(LIVE_ATTEMPT_STATES)))
        if live is not None:
            raise NotAllowedNow("Đang có cuộc gọi tới người này; hãy chờ cuộc gọi kết thúc.")
        effect = call_today(s, person.id, now, window, again_if_done=True)
        add_person_event(s, person.id, now, actor, "call_now")
        words = ("Đã có cuộc gọi chờ, đã đưa lên gọi ngay" if effect == "call_already_planned"
                 else "Đã lên lịch gọi ngay")
        return _change(person, effect, f"{words} cho {display_name(person.id, person.full_name)}.")
