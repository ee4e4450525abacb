"""The process that holds the lease runs APScheduler and catches up a missed daily plan."""

import asyncio
import subprocess
import sys
import time
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
        assert not try_lease(db, "another-server:1", ttl=60)
        stop.set()
        await leading

    asyncio.run(scenario())
    assert planned() == 1
    assert "apscheduler_jobs" in inspect(db.engine).get_table_names()
    with db.engine.connect() as conn:
        jobs = conn.execute(text("SELECT id, next_run_time FROM apscheduler_jobs")).all()
    assert [job[0] for job in jobs] == ["daily-plan"] and jobs[0][1] > clock.now().timestamp()
    db.dispose()


def bid(url: str, holder: str, shift: float, ttl: float) -> bool:
    """One bid for the lease from a separate process whose clock is `shift` seconds off."""
    out = subprocess.run([sys.executable, "-m", "tests.unit.lease_probe", url, holder,
                          str(shift), str(ttl)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip() == "1"


def test_the_lease_is_held_by_one_process_at_a_time_whatever_their_clocks(database_url):
    Database(database_url).dispose()  # migrated
    ahead, behind = 3600.0, -3600.0  # two hosts two hours apart
    assert bid(database_url, "server-a:1", ahead, ttl=120)
    # Judged on its own clock, an hour behind, b would see a's lease as hours from expiring,
    # and on a clock ahead as long expired; on the database's clock it is simply held.
    assert not bid(database_url, "server-b:7", behind, ttl=120)
    assert not bid(database_url, "server-c:2", ahead + 7200, ttl=120)
    assert bid(database_url, "server-a:1", ahead, ttl=1)  # renewal, shorter
    time.sleep(1.5)
    assert bid(database_url, "server-b:7", behind, ttl=60)  # a stopped renewing: b takes over
    assert not bid(database_url, "server-a:1", ahead, ttl=60)


def test_the_lease_expires_by_the_database_clock(db):
    assert try_lease(db, "server-a:1", ttl=1)
    assert not try_lease(db, "server-b:7", ttl=1)
    assert try_lease(db, "server-a:1", ttl=1)  # renewal
    time.sleep(1.3)
    assert try_lease(db, "server-b:7", ttl=60)  # a-1 died
    assert not try_lease(db, "server-a:1", ttl=60)
