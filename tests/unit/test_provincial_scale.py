"""Several engines on one database (issue #11): SKIP LOCKED claims, the claim lease, and the
calls of a dead server ended by the living. Real PostgreSQL (and SQLite where it applies)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from callengine.app import fault_hook
from callengine.dialer.records import NEVER_DIALLED, AttemptRecords, Ending
from callengine.errors import ConfigError
from callengine.settings import Settings, load_settings
from callengine.store.db import Database
from callengine.store.dbclock import utc_now
from callengine.store.models import Answer, CallAttempt, CallTask, Server
from callengine.store.servers import Heartbeat, ServerInfo
from callengine.tasks import schedule_call
from tests.unit.claim_racer import claim_next_until_none, race
from tests.unit.test_claim_race import DAY, NOW, seed
from tests.unit.test_dialer_faults import PHONE_A, PHONE_B, make_dialer

ENGINES = 4


def test_four_engines_claiming_with_skip_locked_claim_each_task_exactly_once(postgres_url,
                                                                             monkeypatch):
    db = Database(postgres_url)
    monkeypatch.setattr("tests.unit.test_claim_race.TASKS", 3000)
    expected = seed(db)
    servers = [f"server-{n}" for n in range(ENGINES)]
    won = race(claim_next_until_none, postgres_url, servers, DAY, NOW, timeout=300)
    claimed = [task for ids in won.values() for task in ids]
    assert len(claimed) == len(set(claimed)) == len(expected)  # none twice
    assert set(claimed) == expected  # none left
    assert all(won[server] for server in servers)  # every engine really claimed
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(CallTask)
                        .where(CallTask.status != "dialing")) == 0
        by_server = dict(s.execute(select(CallAttempt.server_id, func.count())
                                   .group_by(CallAttempt.server_id)).all())
    assert by_server == {server: len(ids) for server, ids in won.items()}
    db.dispose()


def claim(records: AttemptRecords, phone_index: int) -> str:
    [task] = [t for t in records.due_tasks(DAY, NOW, 10) if t.phone.endswith(str(phone_index))]
    attempt_id = f"attempt-{phone_index}"
    assert records.claim(task, attempt_id, "default", NOW)
    return attempt_id


@pytest.fixture
def two_claims(db, tmp_path):
    schedule_call(db, PHONE_A, DAY, NOW)
    schedule_call(db, PHONE_B, DAY, NOW)
    dialer, _ = make_dialer(db, tmp_path, server="dead-engine")
    dialer.records.claim_lease = 1.0
    never_sent = claim(dialer.records, 1)
    sent = claim(dialer.records, 2)
    assert dialer.records.dialling(sent)  # marked before its Originate went out
    return dialer, never_sent, sent


def test_the_lease_returns_only_a_claim_never_dialled_and_only_after_the_lease(db, two_claims,
                                                                              tmp_path):
    _, never_sent, sent = two_claims
    living, _ = make_dialer(db, tmp_path, server="living-engine")

    assert living.expire_claim_leases() == 0  # the lease still runs
    time.sleep(1.3)
    assert living.expire_claim_leases() == 1

    with db.session() as s:
        lost, dialled = s.get(CallAttempt, never_sent), s.get(CallAttempt, sent)
        assert (lost.state, lost.outcome) == ("ended", "failed")
        assert lost.detail.startswith(f"{NEVER_DIALLED} (server dead-engine); ended by living")
        assert dialled.state == "originating"  # may have reached Asterisk: never given away
        back = s.get(CallTask, lost.task_id)
        assert (back.status, back.attempts) == ("pending", 0)  # not a try
        assert back.next_attempt_at == lost.ended_at  # due at once
    [due] = living.records.due_tasks(DAY, NOW, 10)
    assert due.task_id == back.id
    assert living.expire_claim_leases() == 0


def test_a_claim_taken_back_by_the_lease_is_not_dialled_and_not_counted(db, two_claims,
                                                                        tmp_path):
    dead, never_sent, _ = two_claims
    living, _ = make_dialer(db, tmp_path, server="living-engine")
    time.sleep(1.3)
    living.expire_claim_leases()

    assert not dead.records.dialling(never_sent)  # the slow claimer must not dial it now
    [due] = living.records.due_tasks(DAY, NOW, 10)
    assert living.records.claim(due, "second", "default", NOW)
    assert living.records.dialling("second")
    assert living.records.finish("second", Ending("busy", cause=17), NOW)
    with db.session() as s:
        task = s.get(CallTask, due.task_id)
        assert task.attempts == 1  # the never-dialled claim is not a try
    # one real try so far: busy is retried after retry_busy, as after a first busy
    assert living.records.next_due_at(DAY) == NOW + timedelta(minutes=15)


def test_a_silent_server_s_live_calls_are_ended_and_their_answers_kept(db, tmp_path):
    schedule_call(db, PHONE_A, DAY, NOW)
    dead, _ = make_dialer(db, tmp_path, server="dead-engine")
    Heartbeat(db, ServerInfo("dead-engine", "host-a", 1234, "test")).beat()
    attempt = claim(dead.records, 1)
    dead.records.dialling(attempt)
    dead.records.answered(attempt, NOW)
    dead.records.save_answers(attempt, {"fever": "2"}, NOW)
    living, _ = make_dialer(db, tmp_path, server="living-engine")
    Heartbeat(db, ServerInfo("living-engine", "host-b", 99, "test")).beat()

    settings = Settings()
    longest = settings.ring_timeout + settings.max_call_duration + settings.attempt_grace
    living.clock._now = NOW + timedelta(seconds=longest + 1)  # no call can still be up
    assert living.end_silent_servers_attempts() == 0  # its heartbeat is fresh
    with db.session() as s:  # 31 s later on the database clock: past server_down_grace
        s.execute(update(Server).where(Server.server_id == "dead-engine")
                  .values(last_seen=utc_now(-(settings.server_down_grace + 1))))
    living.clock._now = NOW + timedelta(seconds=longest - 1)
    assert living.end_silent_servers_attempts() == 0  # its Asterisk may still carry it
    living.clock._now = NOW + timedelta(seconds=longest + 1)
    assert living.end_silent_servers_attempts() == 1

    with db.session() as s:
        row = s.get(CallAttempt, attempt)
        assert (row.state, row.outcome) == ("ended", "failed")
        assert row.detail.startswith("server dead-engine silent since ")
        assert row.detail.endswith("call presumed lost; ended by living-engine")
        answers = s.execute(select(Answer.question_id, Answer.key)
                            .where(Answer.attempt_id == attempt)).all()
        assert answers == [("fever", "2")]  # written live, kept
        task = s.get(CallTask, row.task_id)
        assert (task.status, task.attempts) == ("pending", 1)  # retried per the rules
    assert living.end_silent_servers_attempts() == 0
    assert living.records.live_attempts() == []


def test_a_living_server_s_calls_are_never_ended_for_silence(db, tmp_path):
    schedule_call(db, PHONE_A, DAY, NOW)
    engine, _ = make_dialer(db, tmp_path, server="engine-a")
    beat = Heartbeat(db, ServerInfo("engine-a", "host-a", 1, "test"))
    beat.beat()
    attempt = claim(engine.records, 1)
    engine.records.dialling(attempt)
    other, _ = make_dialer(db, tmp_path, server="engine-b")
    other.clock._now = NOW + timedelta(hours=1)  # older than any call: only silence counts
    for _ in range(3):
        beat.beat()
        assert other.end_silent_servers_attempts() == 0
    with db.session() as s:
        assert s.get(CallAttempt, attempt).state == "originating"
        assert s.get(Server, "engine-a").started_at <= s.get(Server, "engine-a").last_seen


def test_own_calls_are_ended_when_asterisk_stays_unreachable_past_the_grace(db, tmp_path,
                                                                           caplog):
    schedule_call(db, PHONE_A, DAY, NOW)
    schedule_call(db, PHONE_B, DAY, NOW)
    dialer, ami = make_dialer(db, tmp_path, server="engine-a")
    asyncio.run(dialer._guarded_step())
    dialer.clock.mono += 1
    asyncio.run(dialer._guarded_step())
    assert len(ami.channels) == 2 and dialer.pacers["default"].active == 2
    grace = dialer.settings.server_down_grace

    dialer.on_disconnected("connection reset")
    dialer.clock.mono += grace - 1
    asyncio.run(dialer._sweep_once())
    assert len(dialer.records.live_attempts()) == 2  # within the grace: kept
    dialer.clock.mono += 2
    asyncio.run(dialer._sweep_once())

    assert dialer.records.live_attempts() == []
    assert dialer.in_flight == {} and dialer.pacers["default"].active == 0
    with db.session() as s:
        rows = s.scalars(select(CallAttempt)).all()
        assert {(r.state, r.outcome) for r in rows} == {("ended", "failed")}
        assert {r.detail for r in rows} == {
            f"Asterisk of server engine-a unreachable for {grace + 1:.0f} s: call presumed lost"}
        assert set(s.scalars(select(CallTask.status))) == {"pending"}  # for anyone to call
    assert "2 live call(s) ended as failed" in caplog.text


@pytest.mark.parametrize(("name", "value", "message"), [
    ("CALLENGINE_CLAIM_LEASE", "0.5", "claim_lease: 0.5 s is shorter than 1 s"),
    ("CALLENGINE_SERVER_DOWN_GRACE", "2", "server_down_grace: 2 s is shorter than 3 s"),
    ("CALLENGINE_SERVER_DOWN_GRACE", "soon",
     "CALLENGINE_SERVER_DOWN_GRACE: 'soon' is not a duration"),
])
def test_a_lease_or_grace_too_short_is_refused_by_name(name, value, message):
    with pytest.raises(ConfigError, match=message):
        load_settings({name: value})


def test_an_unknown_fault_hook_is_refused_and_none_is_the_default():
    assert fault_hook({}) is None
    with pytest.raises(ConfigError, match="CALLENGINE_FAULT: 'exit-later' is not one of "
                                          "exit-after-claim"):
        fault_hook({"CALLENGINE_FAULT": "exit-later"})
