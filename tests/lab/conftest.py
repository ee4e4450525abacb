"""The real two-Asterisk lab for end-to-end tests, and an in-process engine runner."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select

from callengine.app import build_engine, run_engine
from callengine.clock import SystemClock
from callengine.lab.lab import Lab
from callengine.procinfo import port_holder
from callengine.settings import load_settings
from callengine.store.db import Database
from callengine.store.models import CallAttempt, CallTask, Person
from callengine.tasks import schedule_call

# Compressed day: retries in seconds, short ring and answer timeouts.
FAST = {
    "CALLENGINE_CALL_WINDOW": "00:00:00-23:59:59",
    "CALLENGINE_WINDOW_CLOSE_GUARD": "0",
    "CALLENGINE_RING_TIMEOUT": "5",
    "CALLENGINE_ANSWER_TIMEOUT": "3",
    "CALLENGINE_RETRY_BUSY": "2",
    "CALLENGINE_RETRY_NO_ANSWER": "2",
    "CALLENGINE_RETRY_CONGESTION": "1",
    "CALLENGINE_RETRY_CONGESTION_MAX": "4",
    "CALLENGINE_RETRY_PARTIAL": "2",
    "CALLENGINE_RETRY_REJECTED": "2",
    "CALLENGINE_RETRY_FAILED": "1",
    "CALLENGINE_ATTEMPT_GRACE": "5",
    "CALLENGINE_LOG_LEVEL": "INFO",
}


def refuse_stale_engine(lab: Lab, port: int | None = None) -> None:
    """Fail at once, and say why, when an engine left by an earlier run holds the lab's ports
    (the engine's FastAGI port; of server 1 unless `port` is given)."""
    host, port = "127.0.0.1", port or lab.ports.engine_agi
    with socket.socket() as probe:
        # As the engine binds: connections of an earlier engine in TIME_WAIT do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
            return
        except OSError:
            pass
    holder = port_holder(host, port) or "an unknown process"
    pytest.fail(f"the engine's FastAGI port {host}:{port} is held by {holder}: a stale engine "
                f"from an earlier run? Stop it (kill its pid) and run the tests again.",
                pytrace=False)


@pytest.fixture(scope="session")
def lab():
    lab = Lab()
    refuse_stale_engine(lab)
    lab.up()
    yield lab
    lab.down()


class ShiftedClock(SystemClock):
    """Real time moved so that the local time starts at a chosen moment."""

    def __init__(self, local_start: datetime):
        self.shift = local_start - datetime.now(timezone.utc)

    def now(self):
        return super().now() + self.shift


REPO = Path(__file__).resolve().parents[2]
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local_today_at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    """Today (the real local date, never a fixed one) at a chosen local time."""
    today = datetime.now(LOCAL_TZ).date()
    return datetime.combine(today, time(hour, minute, second), LOCAL_TZ)


class LabRun:
    """One test's use of the lab: a scenario, a database, and the engine's settings.

    Engines run on a clock that starts at 09:00 local time today, whatever the real hour, so
    no test depends on when it runs (a retry after local midnight would belong to the next
    day). Engines in their own process get the same clock (tests/lab/shifted_engine.py).
    """

    def __init__(self, lab: Lab, tmp_path: Path, database_url: str | None = None):
        self.clock = ShiftedClock(local_today_at(9))
        self.lab = lab
        self.tmp_path = tmp_path
        self.env = {"CALLENGINE_CONFIG": str(lab.engine_config), **FAST,
                    "CALLENGINE_DATABASE_URL": database_url
                    or f"sqlite:///{tmp_path / 'callengine.db'}"}
        self._db: Database | None = None

    def scenario(self, data: dict) -> Path:
        path = self.tmp_path / "scenario.yaml"
        path.write_text(yaml.safe_dump(data))
        self.lab.up(path, reprompts=self.settings().reprompts)
        return path

    def settings(self, **env):
        return load_settings({**self.env, **env})

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(self.env["CALLENGINE_DATABASE_URL"])
        return self._db

    def call(self, *phones: str) -> None:
        clock = self.clock
        settings = self.settings()
        from callengine.dialer.window import Window

        day = Window(settings.call_window, settings.timezone, 0).local_day(clock.now())
        for phone in phones:
            schedule_call(self.db, phone, day, clock.now())

    def run_until_idle(self, timeout: float, clock=None, **env) -> None:
        engine = build_engine(self.settings(**env), db=self.db, clock=clock or self.clock)
        asyncio.run(asyncio.wait_for(run_engine(engine, until_idle=True), timeout))

    def attempts(self, phone: str) -> list[CallAttempt]:
        with self.db.session() as s:
            return list(s.scalars(
                select(CallAttempt).where(CallAttempt.phone == phone)
                .order_by(CallAttempt.created_at)))

    def task(self, phone: str) -> CallTask:
        with self.db.session() as s:
            return s.scalars(select(CallTask).join(Person).where(Person.phone == phone)).one()

    def answers(self, phone: str) -> dict[str, tuple[str, str]]:
        result = {}
        for attempt in self.attempts(phone):
            with self.db.session() as s:
                row = s.get(CallAttempt, attempt.id)
                for answer in row.answers:
                    result[answer.question_id] = (answer.value, answer.source)
        return result

    def close(self):
        if self._db is not None:
            self._db.dispose()


@pytest.fixture
def lab_run(lab, tmp_path):
    run = LabRun(lab, tmp_path)
    yield run
    run.close()


class EngineProcesses:
    """`callengine run` processes of one test, always stopped (with their workers) after it."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.started: list[tuple[subprocess.Popen, Path]] = []

    def start(self, env: dict[str, str], *args: str, shift: timedelta = timedelta(0)):
        """`callengine run ARGS` on the real clock moved by shift (tests/lab/shifted_engine)."""
        log = self.folder / f"engine-{len(self.started) + 1}.log"
        with log.open("w") as handle:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.lab.shifted_engine",
                 str(shift.total_seconds()), "run", *args],
                env={**os.environ, **env}, cwd=REPO, stdout=handle, stderr=subprocess.STDOUT,
                text=True, start_new_session=True)
        self.started.append((process, log))
        return process

    def log_of(self, process: subprocess.Popen) -> str:
        return next(log for p, log in self.started if p is process).read_text()

    @staticmethod
    def group_members(process: subprocess.Popen) -> list[int]:
        """Live processes of the engine's process group (its recognition workers included)."""
        members = []
        for entry in Path("/proc").iterdir():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == process.pid and fields[0] not in ("Z", "X"):
                members.append(int(entry.name))
        return members

    def stop_all(self) -> None:
        for process, _ in self.started:
            try:
                os.killpg(process.pid, signal.SIGKILL)  # the engine and its workers
            except ProcessLookupError:
                pass
            process.wait(10)


@pytest.fixture
def engine_processes(tmp_path):
    engines = EngineProcesses(tmp_path)
    yield engines
    engines.stop_all()


def overlaps(intervals: list[tuple[datetime, datetime]]) -> bool:
    ordered = sorted(intervals)
    return any(b[0] < a[1] for a, b in zip(ordered, ordered[1:]))


def utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc)


os.environ.setdefault("PYTHONASYNCIODEBUG", "0")
