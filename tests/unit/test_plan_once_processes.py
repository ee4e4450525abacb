"""Two real `callengine run` processes on one PostgreSQL run the daily plan exactly once:
at the plan time, and as a catch-up when they start after it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from callengine import plan_runs
from callengine.clock import to_db
from callengine.store.db import Database
from callengine.store.models import CallTask, MonitoringPeriod, Person
from callengine.store.supervision import PLAN_CATCH_UP, PLAN_DONE, PLAN_SCHEDULED

pytestmark = pytest.mark.postgres
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
LEADING = "this process runs the daily plan"


def closed_port() -> int:
    """A loopback port nobody listens on: the engines' Asterisk is away, the plan is not."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def enrol(db: Database, count: int, day) -> None:
    now = datetime.now(TZ)
    with db.session() as s:
        for n in range(count):
            person = Person(phone=f"+8491200{n:04d}", carrier="viettel", status="monitoring",
                            created_at=to_db(now), updated_at=to_db(now))
            s.add(person)
            s.flush()
            s.add(MonitoringPeriod(person_id=person.id, category="F1", start_date=day,
                                   end_date=day + timedelta(days=14), created_at=to_db(now)))


def start_engines(url: str, plan_time: str, folder: Path) -> list[tuple[subprocess.Popen, Path]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLENGINE_")
           or k == "CALLENGINE_TEST_RUN"}
    engines = []
    for n in (1, 2):
        log = folder / f"engine-{n}.log"
        settings = {
            "CALLENGINE_DATABASE_URL": url, "CALLENGINE_PLAN_TIME": plan_time,
            "CALLENGINE_SERVER_ID": f"srv-{n}", "CALLENGINE_DATA_DIR": str(folder / f"d{n}"),
            "CALLENGINE_AMI_PORT": str(closed_port()), "CALLENGINE_AMI_SECRET": "x",
            "CALLENGINE_SPEECH": "0", "CALLENGINE_LOG_LEVEL": "INFO",
        }
        with log.open("w") as out:
            engines.append((subprocess.Popen(
                [sys.executable, "-m", "callengine.cli", "run"], env={**env, **settings},
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True), log))
    return engines


def stop(engines) -> list[str]:
    for process, _ in engines:
        process.terminate()
    for process, _ in engines:
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return [log.read_text() for _, log in engines]


def wait_for(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.5)


def tasks(db: Database, day) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(CallTask).where(CallTask.day == day))


def test_two_engines_run_the_plan_once_at_the_plan_time(postgres_url, tmp_path):
    db = Database(postgres_url)
    now = datetime.now(TZ)
    day = now.date()
    if now.time() > datetime.strptime("23:58:30", "%H:%M:%S").time():
        time.sleep(95)  # the plan time must fall on the same local day
        now, day = datetime.now(TZ), datetime.now(TZ).date()
    enrol(db, 30, day)
    plan_at = now + timedelta(seconds=25)
    engines = start_engines(postgres_url, plan_at.strftime("%H:%M:%S"), tmp_path)
    try:
        wait_for(lambda: any(r.status == PLAN_DONE for r in plan_runs.runs_of(db, day)), 90)
        time.sleep(3)  # a second run, were there one, would begin now
    finally:
        logs = stop(engines)
    runs = plan_runs.runs_of(db, day)
    assert [(r.trigger, r.status, r.created) for r in runs] == [(PLAN_SCHEDULED, PLAN_DONE, 30)]
    assert sum(LEADING in log for log in logs) == 1, logs
    assert runs[0].holder.split(":")[0] in ("srv-1", "srv-2")
    assert to_db(plan_at) - timedelta(seconds=1) <= runs[0].started_at
    assert tasks(db, day) == 30
    db.dispose()


def test_two_engines_started_after_the_plan_time_catch_up_once(postgres_url, tmp_path):
    db = Database(postgres_url)
    day = datetime.now(TZ).date()
    enrol(db, 30, day)
    engines = start_engines(postgres_url, "00:00", tmp_path)
    try:
        wait_for(lambda: any(r.status == PLAN_DONE for r in plan_runs.runs_of(db, day)), 60)
        time.sleep(3)
    finally:
        logs = stop(engines)
    runs = plan_runs.runs_of(db, day)
    assert [(r.trigger, r.status, r.created) for r in runs] == [(PLAN_CATCH_UP, PLAN_DONE, 30)]
    assert sum(LEADING in log for log in logs) == 1, logs
    assert tasks(db, day) == 30
    db.dispose()
