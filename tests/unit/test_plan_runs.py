"""Plan runs: the daily plan runs once per day whoever tries; manual runs are recorded too."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from callengine import plan_runs
from callengine.app import catch_up_plan
from callengine.clock import to_db
from callengine.planning import run_plan
from callengine.settings import load_settings
from callengine.store.models import CallTask, MonitoringPeriod, Person
from callengine.store.supervision import (
    PLAN_CATCH_UP,
    PLAN_DONE,
    PLAN_FAILED,
    PLAN_MANUAL,
    PLAN_SCHEDULED,
)

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)  # 08:00 in Thanh Hoa
DAY = date(2026, 12, 1)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def settings(monkeypatch, tmp_path):
    monkeypatch.delenv("CALLENGINE_CONFIG", raising=False)
    return load_settings(plan_time="07:30", data_dir=str(tmp_path), server_id="srv-1")


def enrol(db, phone: str) -> None:
    with db.session() as s:
        person = Person(phone=phone, carrier="viettel", status="monitoring",
                        created_at=to_db(NOW), updated_at=to_db(NOW))
        s.add(person)
        s.flush()
        s.add(MonitoringPeriod(person_id=person.id, category="F1", start_date=DAY,
                               end_date=DAY + timedelta(days=14), created_at=to_db(NOW)))


def tasks(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(CallTask).where(CallTask.day == DAY))


def test_the_daily_run_happens_once_and_a_catch_up_after_it_does_nothing(db, settings):
    enrol(db, "+84912000001")
    first = run_plan(db, DAY, settings, Clock(NOW), trigger=PLAN_SCHEDULED, holder="srv-1:10")
    assert first is not None and first[0].created == 1
    enrol(db, "+84912000002")  # enrolled after the plan: the next plan (or a manual one) calls
    assert run_plan(db, DAY, settings, Clock(NOW), trigger=PLAN_SCHEDULED,
                    holder="srv-2:20") is None
    assert catch_up_plan(db, settings, Clock(NOW)) is None
    assert tasks(db) == 1
    runs = plan_runs.runs_of(db, DAY)
    assert [(r.trigger, r.holder, r.status, r.created) for r in runs] == [
        (PLAN_SCHEDULED, "srv-1:10", PLAN_DONE, 1)]


def test_a_manual_run_always_runs_and_is_recorded(db, settings):
    enrol(db, "+84912000001")
    run_plan(db, DAY, settings, Clock(NOW), trigger=PLAN_SCHEDULED, holder="srv-1:10")
    enrol(db, "+84912000002")
    ran = run_plan(db, DAY, settings, Clock(NOW), trigger=PLAN_MANUAL, holder="srv-1:11")
    assert ran is not None and ran[0].created == 1
    assert [r.trigger for r in plan_runs.runs_of(db, DAY)] == [PLAN_SCHEDULED, PLAN_MANUAL]


def test_a_catch_up_runs_when_the_day_has_no_run_and_not_before_the_plan_time(db, settings):
    enrol(db, "+84912000001")
    assert catch_up_plan(db, settings, Clock(NOW - timedelta(hours=1))) is None  # 07:00
    assert plan_runs.runs_of(db, DAY) == []
    result = catch_up_plan(db, settings, Clock(NOW))
    assert result is not None and result.created == 1
    assert [r.trigger for r in plan_runs.runs_of(db, DAY)] == [PLAN_CATCH_UP]


def test_a_failed_run_gives_the_day_back_and_says_why(db, settings, monkeypatch):
    enrol(db, "+84912000001")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("callengine.planning.plan_and_greet", broken)
    with pytest.raises(RuntimeError):
        run_plan(db, DAY, settings, Clock(NOW), trigger=PLAN_SCHEDULED, holder="srv-1:10")
    monkeypatch.undo()
    assert run_plan(db, DAY, settings, Clock(NOW), trigger=PLAN_CATCH_UP,
                    holder="srv-2:20") is not None
    runs = plan_runs.runs_of(db, DAY)
    assert [(r.status, r.detail) for r in runs] == [
        (PLAN_FAILED, "RuntimeError: disk full"), (PLAN_DONE, None)]
    assert tasks(db) == 1


def test_a_run_left_running_by_a_dead_process_is_taken_over_after_half_an_hour(db, settings):
    enrol(db, "+84912000001")
    assert plan_runs.begin(db, DAY, PLAN_SCHEDULED, "srv-1:10", NOW) is not None  # then died
    assert run_plan(db, DAY, settings, Clock(NOW + timedelta(minutes=29)),
                    trigger=PLAN_CATCH_UP, holder="srv-2:20") is None
    assert run_plan(db, DAY, settings, Clock(NOW + timedelta(minutes=31)),
                    trigger=PLAN_CATCH_UP, holder="srv-2:20") is not None
    runs = plan_runs.runs_of(db, DAY)
    assert [(r.holder, r.status) for r in runs] == [("srv-1:10", PLAN_FAILED),
                                                     ("srv-2:20", PLAN_DONE)]
    assert "abandoned" in runs[0].detail
