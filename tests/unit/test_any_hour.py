"""The time-dependent rules at three local hours of today: before the window opens,
mid-afternoon, and just before midnight. Nothing here is pinned to a calendar day: "today" is
the real local date, so these tests run the same on any day at any hour (06:30 local is still
the previous day in UTC, which is what catches a rule that looks at the wrong date).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from callengine.app import catch_up_plan
from callengine.clock import from_db, to_db
from callengine.dialer.records import AttemptRecords, Ending
from callengine.dialer.retry import RetryPolicy
from callengine.dialer.window import Window
from callengine.greetings import greeting_text
from callengine.planning import plan_day
from callengine.questionnaire import load_questionnaire
from callengine.settings import DEFAULT_QUESTIONNAIRE, Settings, parse_window
from callengine.store.models import CallTask, MonitoringPeriod, Person
from callengine.tasks import schedule_call

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WINDOW = Window(parse_window("w", "08:00-20:00"), "Asia/Ho_Chi_Minh", 300)


@dataclass(frozen=True)
class Moment:
    name: str
    now: datetime  # aware UTC
    day: date  # the local date

    @property
    def local(self) -> datetime:
        return self.now.astimezone(TZ)


class FixedClock:
    def __init__(self, now: datetime):
        self._now = now

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return 0.0


@pytest.fixture(params=[("before the window opens", time(6, 30)),
                        ("mid-afternoon", time(15, 30)),
                        ("just before midnight", time(23, 55))],
                ids=["06:30", "15:30", "23:55"])
def moment(request) -> Moment:
    name, local_time = request.param
    today = datetime.now(TZ).date()
    local = datetime.combine(today, local_time, TZ)
    return Moment(name, local.astimezone(timezone.utc), today)


def test_the_window_and_the_local_day(moment):
    assert WINDOW.local_day(moment.now) == moment.day
    opening = datetime.combine(moment.day, time(8, 0), TZ)
    expected = {"06:30": (False, opening), "15:30": (True, moment.now), "23:55": (False, None)}
    may_start, next_start = expected[moment.local.strftime("%H:%M")]
    assert WINDOW.may_start(moment.now) is may_start
    assert WINDOW.next_start(moment.now) == next_start


def add_person(s, phone: str, moment: Moment, *, status="monitoring", ended=False) -> Person:
    row = Person(phone=phone, carrier="viettel", status=status, created_at=to_db(moment.now),
                 updated_at=to_db(moment.now))
    s.add(row)
    s.flush()
    if status == "monitoring":
        end = moment.day - timedelta(days=1) if ended else moment.day + timedelta(days=10)
        s.add(MonitoringPeriod(person_id=row.id, category="F1", start_date=end - timedelta(14),
                               end_date=end, created_at=to_db(moment.now)))
    return row


def statuses(db, day: date) -> dict[str, tuple[str, str]]:
    with db.session() as s:
        return {phone: (status, origin) for phone, status, origin in s.execute(
            select(Person.phone, CallTask.status, CallTask.origin).join(CallTask)
            .where(CallTask.day == day))}


def test_the_plan_keeps_manual_calls_and_says_what_it_cancelled_and_why(db, moment):
    with db.session() as s:
        add_person(s, "+84912000001", moment)
        over = add_person(s, "+84912000002", moment, ended=True)
        s.add(CallTask(person_id=over.id, day=moment.day, status="pending", origin="plan",
                       next_attempt_at=to_db(moment.now), created_at=to_db(moment.now),
                       updated_at=to_db(moment.now)))
    schedule_call(db, "0912000003", moment.day, moment.now)  # by hand: no monitoring at all

    result = plan_day(db, moment.day, moment.now, WINDOW)

    assert statuses(db, moment.day) == {"+84912000001": ("pending", "plan"),
                                        "+84912000002": ("cancelled", "plan"),
                                        "+84912000003": ("pending", "manual")}
    assert (result.created, result.ended, result.cancelled) == (1, 1, {"ended": 1})
    assert result.summary().endswith("1 cancelled (1 monitoring ended)")
    with db.session() as s:
        first = s.scalar(select(CallTask.next_attempt_at).where(CallTask.origin == "plan",
                                                                CallTask.status == "pending"))
    assert from_db(first) == max(moment.now, WINDOW.opens(moment.day))


def test_a_new_scheduler_holder_catches_up_only_after_the_plan_time(db, moment, tmp_path):
    settings = Settings(database_url="unused", asterisk_root=tmp_path, plan_time="07:30")
    with db.session() as s:
        add_person(s, "+84912000001", moment)
    schedule_call(db, "0912000003", moment.day, moment.now)

    result = catch_up_plan(db, settings, FixedClock(moment.now))

    planned = statuses(db, moment.day)
    if moment.local.strftime("%H:%M") < "07:30":
        assert result is None and "+84912000001" not in planned
    else:
        assert result.created == 1 and planned["+84912000001"] == ("pending", "plan")
    assert planned["+84912000003"] == ("pending", "manual")  # never cancelled by the plan


def test_a_busy_line_is_retried_unless_the_retry_falls_after_the_window(db, moment):
    records = AttemptRecords(db, load_questionnaire(DEFAULT_QUESTIONNAIRE),
                             RetryPolicy.from_settings(Settings()), WINDOW, "server-a")
    schedule_call(db, "0912345678", moment.day, moment.now)
    [task] = records.due_tasks(moment.day, moment.now, 10)
    assert records.claim(task, "a1", "viettel", moment.now)
    records.finish("a1", Ending("busy", cause=17, sip_code=486), moment.now)
    retry = moment.now + timedelta(seconds=Settings().retry_busy)
    if retry < WINDOW.last_start(moment.day):
        assert records.next_due_at(moment.day) == retry
        assert statuses(db, moment.day)["+84912345678"][0] == "pending"
    else:
        assert moment.name == "just before midnight"
        assert records.next_due_at(moment.day) is None
        assert statuses(db, moment.day)["+84912345678"][0] == "exhausted"


def test_greetings_count_age_on_the_local_day(moment):
    elder, younger = moment.day.year - 60, moment.day.year - 59
    assert greeting_text("Lê Thị Lan", "Nữ", elder, moment.day) == "Xin chào bà Lan."
    assert greeting_text("Lê Thị Lan", "Nữ", younger, moment.day) == "Xin chào chị Lan."
