"""The process that holds the lease runs APScheduler and catches up a missed daily plan."""

import asyncio
from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import func, inspect, select, text

from callengine.app import lead_daily_plan
from callengine.clock import SystemClock, to_db
from callengine.dialer.window import Window
from callengine.scheduler import try_lease
from callengine.settings import load_settings
from callengine.store.db import Database
from callengine.store.models import CallTask, MonitoringPeriod, Person


def test_the_leader_runs_a_missed_plan_at_once_and_keeps_its_job_in_the_database(
        tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    monkeypatch.setenv("CALLENGINE_DATABASE_URL", url)
    monkeypatch.delenv("CALLENGINE_CONFIG", raising=False)
    settings = load_settings(plan_time="00:00")  # always past: a missed plan to catch up
    clock = SystemClock()
    today = Window(settings.call_window, settings.timezone, 0).local_day(clock.now())
    db = Database(url)
    with db.session() as s:
        person = Person(phone="+84912000001", carrier="viettel", status="monitoring",
                        created_at=to_db(clock.now()), updated_at=to_db(clock.now()))
        s.add(person)
        s.flush()
        s.add(MonitoringPeriod(person_id=person.id, category="F1", start_date=today,
                               end_date=today + timedelta(days=14),
                               created_at=to_db(clock.now())))

    def planned() -> int:
        with db.session() as s:
            return s.scalar(select(func.count()).select_from(CallTask)
                            .where(CallTask.day == today))

    async def scenario():
        stop = asyncio.Event()
        leading = asyncio.create_task(lead_daily_plan(SimpleNamespace(db=db), settings, clock,
                                                      stop))
        for _ in range(100):
            await asyncio.sleep(0.1)
            if planned():
                break
        assert not try_lease(db, "another-server:1", clock.now(), ttl=60)
        stop.set()
        await leading

    asyncio.run(scenario())
    assert planned() == 1
    assert "apscheduler_jobs" in inspect(db.engine).get_table_names()
    with db.engine.connect() as conn:
        jobs = conn.execute(text("SELECT id, next_run_time FROM apscheduler_jobs")).all()
    assert [job[0] for job in jobs] == ["daily-plan"] and jobs[0][1] > clock.now().timestamp()
    db.dispose()
