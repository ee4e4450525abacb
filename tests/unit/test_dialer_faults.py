"""The dialer never crash-loops: refused claims, a locked or unreachable database and one
attempt's failure leave the loop running. Real SQLite and PostgreSQL; faults are injected
in the database itself (another server's rows, a held write lock, a trigger that raises)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

from sqlalchemy import event, select, text

from callengine.ami.parser import Message
from callengine.cdr import CdrReader
from callengine.clock import to_db
from callengine.dialer.records import AttemptRecords
from callengine.dialer.retry import RetryPolicy
from callengine.dialer.routing import TrunkRouter
from callengine.dialer.service import CLAIM_HOLD, Dialer
from callengine.dialer.window import Window
from callengine.questionnaire import load_questionnaire
from callengine.settings import DEFAULT_QUESTIONNAIRE, Settings, Trunk
from callengine.store.db import Database
from callengine.store.models import CallAttempt, CallTask, Person
from callengine.tasks import schedule_call

DAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)  # 10:00 local
SETTINGS = Settings(trunks=(Trunk("default", "carrier", (), 10, 1000),))
PHONE_A, PHONE_B = "0912345671", "0912345672"


class FakeClock:
    def __init__(self) -> None:
        self._now, self.mono = NOW, 100.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self.mono


class RecordingAmi:
    """Stands in for the AMI connection: records what would have been dialled."""

    def __init__(self) -> None:
        self.channels: list[str] = []

    async def send_action(self, name, headers, action_id=None):
        self.channels.append(dict(headers)["Channel"])


def make_dialer(db: Database, tmp_path, server: str = "server-a"):
    window = Window(SETTINGS.call_window, SETTINGS.timezone, SETTINGS.window_close_guard)
    records = AttemptRecords(db, load_questionnaire(DEFAULT_QUESTIONNAIRE),
                             RetryPolicy.from_settings(SETTINGS), window, server)
    ami = RecordingAmi()
    dialer = Dialer(settings=SETTINGS, records=records, supervisor=SimpleNamespace(client=ami),
                    window=window, router=TrunkRouter(SETTINGS.trunks, "default", 3, 60),
                    cdr=CdrReader(tmp_path / "cdr.csv"), clock=FakeClock(),
                    survey_variables={})
    return dialer, ami


def live_attempt_elsewhere(db: Database, phone: str, started: datetime, server: str) -> str:
    """A call of another (or renamed) server still live in the database: yesterday's task."""
    with db.session() as s:
        person = s.scalars(select(Person).where(Person.phone == "+84" + phone[1:])).one()
        task = CallTask(person_id=person.id, day=DAY - timedelta(days=1), status="dialing",
                        origin="plan", attempts=1, created_at=to_db(started),
                        updated_at=to_db(started))
        s.add(task)
        s.flush()
        s.add(CallAttempt(id="left-by-old-host", task_id=task.id, person_id=person.id,
                          phone=person.phone, trunk="default", server_id=server,
                          state="ringing", created_at=to_db(started)))
    return "left-by-old-host"


def steps(dialer: Dialer, count: int) -> list[float | None]:
    """Dial steps a second apart (the trunk paces starts); what each said to wait."""
    async def run() -> list[float | None]:
        waits = []
        for _ in range(count):
            waits.append(await dialer._guarded_step())
            dialer.clock.mono += 1
        return waits
    return asyncio.run(run())


def dialled(ami: RecordingAmi) -> list[str]:
    return [channel.rsplit("/", 1)[-1].split("@")[0] for channel in ami.channels]


def task_status(db: Database, phone: str) -> str:
    with db.session() as s:
        return s.scalar(select(CallTask.status).join(Person).where(
            Person.phone == "+84" + phone[1:], CallTask.day == DAY))


def test_a_live_attempt_of_another_server_is_taken_and_the_dialer_goes_on(db, tmp_path,
                                                                         caplog):
    schedule_call(db, PHONE_A, DAY, NOW)
    schedule_call(db, PHONE_B, DAY, NOW)
    live_attempt_elsewhere(db, PHONE_A, NOW - timedelta(minutes=10), "old-hostname")
    dialer, ami = make_dialer(db, tmp_path)

    steps(dialer, 3)

    assert dialled(ami) == [PHONE_B]  # B was dialled
    assert task_status(db, PHONE_A) == "pending"  # A waits, nothing half-written
    refusals = [r.getMessage() for r in caplog.records if "taken by someone else" in
                r.getMessage()]
    assert len(refusals) == 1  # said once, not at every step
    assert "another server's call" in refusals[0]
    assert PHONE_A not in caplog.text and PHONE_A[1:] not in caplog.text  # masked


def test_a_refused_task_is_tried_again_after_a_while(db, tmp_path):
    schedule_call(db, PHONE_A, DAY, NOW)
    attempt = live_attempt_elsewhere(db, PHONE_A, NOW - timedelta(minutes=10), "old-hostname")
    dialer, ami = make_dialer(db, tmp_path)
    asyncio.run(dialer._guarded_step())
    with db.session() as s:
        s.get(CallAttempt, attempt).state = "ended"  # the other server finished its call

    dialer.clock.mono += CLAIM_HOLD + 1
    asyncio.run(dialer._guarded_step())

    assert len(ami.channels) == 1 and task_status(db, PHONE_A) == "dialing"


def test_a_stale_live_attempt_of_any_server_is_ended_and_the_person_called(db, tmp_path):
    schedule_call(db, PHONE_A, DAY, NOW)
    attempt = live_attempt_elsewhere(db, PHONE_A, NOW - timedelta(hours=2), "old-hostname")
    dialer, ami = make_dialer(db, tmp_path)

    assert dialer.end_stale_attempts() == 1
    asyncio.run(dialer._guarded_step())

    with db.session() as s:
        row = s.get(CallAttempt, attempt)
        assert (row.state, row.outcome) == ("ended", "failed")
        assert row.detail.startswith("stale: still live after 3600s (server old-hostname)")
    assert len(ami.channels) == 1 and task_status(db, PHONE_A) == "dialing"
    assert dialer.end_stale_attempts() == 0


def test_a_sqlite_write_lock_held_by_an_import_does_not_stop_the_dialer(tmp_path, caplog):
    path = tmp_path / "locked.db"
    db = Database(f"sqlite:///{path}")
    event.listen(db.engine, "connect",
                 lambda conn, _: conn.execute("PRAGMA busy_timeout=100"))
    db.engine.dispose()  # new connections: a short busy timeout, as if the import ran long
    schedule_call(db, PHONE_A, DAY, NOW)
    dialer, ami = make_dialer(db, tmp_path)
    importer = sqlite3.connect(path, isolation_level=None)
    importer.execute("BEGIN IMMEDIATE")  # holds the write lock

    first = asyncio.run(dialer._guarded_step())
    importer.execute("ROLLBACK")
    importer.close()
    dialer.clock.mono += CLAIM_HOLD + 1
    asyncio.run(dialer._guarded_step())

    assert first is not None  # the loop went on
    assert "database was locked by another writer" in caplog.text
    assert len(ami.channels) == 1 and task_status(db, PHONE_A) == "dialing"
    db.dispose()


def test_an_unreachable_database_is_retried_with_backoff_and_said_once(db, tmp_path, caplog):
    caplog.set_level(logging.INFO, "callengine.dialer")
    schedule_call(db, PHONE_A, DAY, NOW)
    dialer, ami = make_dialer(db, tmp_path)
    gone = Database("postgresql://postgres@127.0.0.1:1/nowhere", auto_migrate=False)
    dialer.records.db = gone  # the database server went away

    waits = steps(dialer, 4)
    dialer.records.db = db  # and came back
    steps(dialer, 1)

    assert waits == [0.5, 1.0, 2.0, 4.0]
    assert sum("database unavailable" in r.getMessage() for r in caplog.records) == 1
    assert "dialling resumed after 4 failed tries" in caplog.text
    assert len(ami.channels) == 1
    gone.dispose()


def test_a_phone_that_cannot_be_dialled_fails_its_attempt_and_the_next_is_dialled(
        db, tmp_path, caplog):
    schedule_call(db, PHONE_B, DAY, NOW)
    with db.session() as s:
        s.scalars(select(Person)).one().phone = "+8400"  # corrupted by hand in the database
    schedule_call(db, PHONE_A, DAY, NOW)  # due with it, dialled after it
    dialer, ami = make_dialer(db, tmp_path)

    steps(dialer, 2)

    with db.session() as s:
        bad = s.scalars(select(CallAttempt).where(CallAttempt.phone == "+8400")).one()
        assert (bad.state, bad.outcome) == ("ended", "failed")
        assert bad.detail == "internal error while originating: InvalidPhone"
    assert f"attempt {bad.id}: originating failed" in caplog.text
    assert dialled(ami) == [PHONE_A]
    assert bad.id not in dialer.in_flight and dialer.pacers["default"].active == 1


RAISE_ON_BUSY = {
    "sqlite": ["""CREATE TRIGGER injected_fault BEFORE UPDATE ON call_attempts
                  WHEN NEW.outcome = 'busy' AND NEW.id = :attempt
                  BEGIN SELECT RAISE(ABORT, 'injected fault'); END"""],
    "postgresql": ["""CREATE FUNCTION injected_fault() RETURNS trigger AS $$
                      BEGIN
                        IF NEW.outcome = 'busy' AND NEW.id = '{attempt}' THEN
                          RAISE EXCEPTION 'injected fault';
                        END IF;
                        RETURN NEW;
                      END $$ LANGUAGE plpgsql""",
                   """CREATE TRIGGER injected_fault BEFORE UPDATE ON call_attempts
                      FOR EACH ROW EXECUTE FUNCTION injected_fault()"""],
}


def inject_fault_when_busy(db: Database, attempt_id: str) -> None:
    dialect = db.engine.dialect.name
    with db.engine.begin() as conn:
        for statement in RAISE_ON_BUSY[dialect]:
            if dialect == "sqlite":  # no parameters in DDL: the id is a uuid we made
                statement = statement.replace(":attempt", f"'{attempt_id}'")
            conn.execute(text(statement.replace("{attempt}", attempt_id)))


def hangup(attempt_id: str, cause: int) -> Message:
    return Message((("Event", "Hangup"), ("Uniqueid", attempt_id), ("Cause", str(cause))))


def test_an_error_while_recording_one_outcome_fails_that_attempt_only(db, tmp_path, caplog):
    schedule_call(db, PHONE_A, DAY, NOW)
    schedule_call(db, PHONE_B, DAY, NOW)
    dialer, ami = make_dialer(db, tmp_path)
    steps(dialer, 2)
    with db.session() as s:
        by_phone = dict(s.execute(select(CallAttempt.phone, CallAttempt.id)).all())
    faulty, healthy = by_phone["+84" + PHONE_A[1:]], by_phone["+84" + PHONE_B[1:]]
    inject_fault_when_busy(db, faulty)

    async def events():
        helpers = [asyncio.create_task(dialer._consume_events()),
                   asyncio.create_task(dialer._write_facts())]
        dialer.on_event(hangup(faulty, 17))
        dialer.on_event(hangup(healthy, 17))
        for _ in range(200):
            if not dialer.in_flight:
                break
            await asyncio.sleep(0.01)
        for task in helpers:
            task.cancel()

    with caplog.at_level(logging.INFO):
        asyncio.run(events())

    with db.session() as s:
        failed, busy = s.get(CallAttempt, faulty), s.get(CallAttempt, healthy)
        assert (failed.state, failed.outcome) == ("ended", "failed")
        assert failed.detail.startswith("internal error while recording Finished: ")
        assert (busy.state, busy.outcome) == ("ended", "busy")
    assert f"attempt {faulty}: recording Finished failed" in caplog.text
    assert dialer.in_flight == {} and dialer.pacers["default"].active == 0
