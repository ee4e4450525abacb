"""A running dialer follows the campaign: the watcher applies each change live, off the loop."""

from __future__ import annotations

import asyncio
import threading
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import OperationalError

from callengine import campaign
from callengine.cdr import CdrReader
from callengine.dialer import campaign as watching
from callengine.dialer.campaign import CampaignWatcher
from callengine.dialer.pacing import build_pacers
from callengine.dialer.records import AttemptRecords
from callengine.dialer.retry import RetryPolicy
from callengine.dialer.routing import TrunkRouter
from callengine.dialer.service import IDLE_POLL, Dialer
from callengine.dialer.window import Window
from callengine.questionnaire import load_questionnaire
from callengine.settings import DEFAULT_QUESTIONNAIRE, Settings, Trunk
from callengine.store.db import make_engine
from callengine.tasks import schedule_call
from tests.migrations import migrate

DAY = date(2026, 11, 30)
TEN_LOCAL = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)
SETTINGS = Settings(trunks=(Trunk("viettel", "viettel", ("viettel",), 3, 2),
                            Trunk("default", "other", (), 10, 2)))


class FakeClock:
    """Time that moves only when the test says so."""

    def __init__(self, now: datetime, mono: float = 100.0) -> None:
        self._now, self.mono = now, mono

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self.mono


@pytest.fixture
def sqlite_db(tmp_path):
    from callengine.store.db import Database

    database = Database(f"sqlite:///{tmp_path / 'campaign.db'}")
    yield database
    database.dispose()


@pytest.fixture
def parts(sqlite_db):
    window = Window(SETTINGS.call_window, SETTINGS.timezone, SETTINGS.window_close_guard)
    records = AttemptRecords(sqlite_db, load_questionnaire(DEFAULT_QUESTIONNAIRE),
                             RetryPolicy.from_settings(SETTINGS), window, "server-a")
    pacers = build_pacers(SETTINGS.trunks)
    watcher = CampaignWatcher(sqlite_db, SETTINGS, pacers=pacers, window=window,
                              records=records, interval=0.05)
    watcher.load()
    return SimpleNamespace(db=sqlite_db, window=window, records=records, pacers=pacers,
                           watcher=watcher)


def test_a_change_reaches_the_pacers_the_window_and_the_retry_policy(parts):
    clock = FakeClock(TEN_LOCAL)
    viettel = parts.pacers["viettel"]
    viettel.started(clock.mono)
    viettel.started(clock.mono + 0.5)  # two live calls
    campaign.update(parts.db, SETTINGS, {
        "trunk.viettel.max_channels": 1, "trunk.viettel.cps": 0.25, "call_window": "08:00-09:30",
        "retry_busy": 60, "max_attempts_per_day": 2}, "lan", clock.now())
    assert viettel.max_channels == 3 and parts.window.may_start(clock.now())  # not yet polled
    assert asyncio.run(parts.watcher.poll()) is True
    assert viettel.max_channels == 1 and viettel.active == 2  # live calls are not cut
    viettel.finished()
    assert viettel.wait_time(clock.mono + 10) == float("inf")  # still at the lowered limit
    viettel.finished()
    assert viettel.wait_time(clock.mono + 1) == pytest.approx(3.5)  # 4 s after the last start
    assert parts.pacers["default"].max_channels == 10
    assert not parts.window.may_start(clock.now())  # 10:00 is past the new window
    assert parts.window.may_start(clock.now() - timedelta(hours=1, minutes=30))  # 08:30
    busy_at = parts.records.policy.next_attempt(["busy"], clock.now())
    assert busy_at == clock.now() + timedelta(seconds=60)
    assert parts.records.policy.next_attempt(["busy", "busy"], clock.now()) is None
    assert asyncio.run(parts.watcher.poll()) is False  # nothing new


def test_putting_a_value_back_restores_the_settings(parts):
    campaign.update(parts.db, SETTINGS, {"trunk.viettel.max_channels": 1}, "lan", TEN_LOCAL)
    asyncio.run(parts.watcher.poll())
    campaign.update(parts.db, SETTINGS, {"trunk.viettel.max_channels": None}, "lan", TEN_LOCAL)
    asyncio.run(parts.watcher.poll())
    assert parts.pacers["viettel"].max_channels == 3


def test_the_database_is_read_in_a_worker_thread_not_on_the_event_loop(parts, monkeypatch):
    threads = []
    real = watching.service.changed_since

    def spy(*args):
        threads.append(threading.get_ident())
        return real(*args)

    monkeypatch.setattr(watching.service, "changed_since", spy)

    async def poll_on_the_loop():
        await parts.watcher.poll()
        return threading.get_ident()

    loop_thread = asyncio.run(poll_on_the_loop())
    assert threads and loop_thread not in threads


def test_a_database_outage_keeps_the_last_campaign(parts, monkeypatch, caplog):
    campaign.pause(parts.db, SETTINGS, "hoa", TEN_LOCAL)
    asyncio.run(parts.watcher.poll())

    def unreachable(*args):
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(watching.service, "changed_since", unreachable)
    assert asyncio.run(parts.watcher.poll()) is False
    assert asyncio.run(parts.watcher.poll()) is False
    assert parts.watcher.paused
    assert sum("cannot be read" in r.message for r in caplog.records) == 1  # said once


def test_run_picks_up_a_pause_within_its_interval(parts, caplog):
    caplog.set_level("INFO", "callengine.campaign")

    async def scenario():
        stop = asyncio.Event()
        runner = asyncio.create_task(parts.watcher.run(stop))
        await asyncio.sleep(0.1)
        await asyncio.to_thread(campaign.pause, parts.db, SETTINGS, "hoa", TEN_LOCAL)
        for _ in range(40):
            if parts.watcher.paused:
                break
            await asyncio.sleep(0.025)
        stop.set()
        await runner

    asyncio.run(scenario())
    assert parts.watcher.paused
    assert any("campaign paused by hoa" in r.message for r in caplog.records)


# --- the dialer while paused -------------------------------------------------------------------

class RecordingAmi:
    def __init__(self):
        self.originates = 0

    async def send_action(self, name, headers, action_id=None):
        self.originates += 1


def dialer_for(parts, tmp_path, clock) -> tuple[Dialer, RecordingAmi]:
    ami = RecordingAmi()
    dialer = Dialer(settings=SETTINGS, records=parts.records,
                    supervisor=SimpleNamespace(client=ami), window=parts.window,
                    router=TrunkRouter(SETTINGS.trunks, SETTINGS.default_trunk, 3, 60),
                    cdr=CdrReader(tmp_path / "cdr.csv"), clock=clock, survey_variables={},
                    pacers=parts.pacers, campaign=parts.watcher)
    return dialer, ami


def test_a_paused_dialer_starts_nothing_and_a_resume_wakes_it(parts, tmp_path):
    clock = FakeClock(TEN_LOCAL)
    dialer, ami = dialer_for(parts, tmp_path, clock)
    schedule_call(parts.db, "0987000001", DAY, TEN_LOCAL)
    campaign.pause(parts.db, SETTINGS, "hoa", TEN_LOCAL)

    async def scenario():
        await parts.watcher.poll()
        paused_wait = await dialer._dial_step()
        dialer._wake.clear()
        campaign.resume(parts.db, SETTINGS, "lan", TEN_LOCAL)
        await parts.watcher.poll()
        woken = dialer._wake.is_set()
        await dialer._dial_step()
        return paused_wait, woken

    paused_wait, woken = asyncio.run(scenario())
    assert paused_wait == IDLE_POLL  # until-idle waits: a call is still open
    assert woken and ami.originates == 1


def test_until_idle_ends_while_paused_when_nothing_is_open(parts, tmp_path):
    dialer, ami = dialer_for(parts, tmp_path, FakeClock(TEN_LOCAL))
    campaign.pause(parts.db, SETTINGS, "hoa", TEN_LOCAL)
    asyncio.run(parts.watcher.poll())
    assert asyncio.run(dialer._dial_step()) is None and ami.originates == 0


def test_a_window_closed_by_the_campaign_starts_nothing(parts, tmp_path):
    dialer, ami = dialer_for(parts, tmp_path, FakeClock(TEN_LOCAL))
    schedule_call(parts.db, "0987000001", DAY, TEN_LOCAL)
    campaign.update(parts.db, SETTINGS, {"call_window": "11:00-20:00"}, "lan", TEN_LOCAL)
    asyncio.run(parts.watcher.poll())
    assert asyncio.run(dialer._dial_step()) == 3600  # waits for 11:00
    assert ami.originates == 0


# --- the migration ---------------------------------------------------------------------------

def test_the_migration_creates_the_one_campaign_row_and_removes_it(database_url):
    engine = make_engine(database_url)
    migrate(engine, command.upgrade, "head")
    with engine.begin() as connection:
        row = connection.execute(text("SELECT id, revision, paused FROM campaign_settings"))
        assert [tuple(r) for r in row] == [(1, 0, False)]
    migrate(engine, command.downgrade, "0007")
    assert "campaign_settings" not in inspect(engine).get_table_names()
    migrate(engine, command.upgrade, "head")
    engine.dispose()
