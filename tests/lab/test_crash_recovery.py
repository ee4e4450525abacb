"""SIGKILL the engine while calls are live: no answer is lost, no call is made twice.

The engines run in their own processes at 09:00 local time today (a shifted clock), after the
plan time: the first one to hold the scheduler lease runs the missed daily plan at once. The
two people were called by hand (`callengine call`), so they have no monitoring period; the
plan must leave their manual calls alone. (Before manual calls were kept apart, that catch-up
plan cancelled the call still waiting for a channel: the late resident was never dialled.)
"""

from __future__ import annotations

import csv
import signal
import time

import pytest

from callengine.procinfo import describe_process

pytestmark = pytest.mark.lab

ENDS_WHILE_DOWN = "+84912000301"  # answers at once: its call ends while the engine is dead
STILL_LIVE = "+84912000302"  # answers late: still in the survey when the engine comes back
KEYS = ["1", "2", "1", "2", "2", "2"]
EXPECTED = {"fever": "yes", "cough": "no", "breath": "yes", "throat": "no",
            "taste_smell": "no", "fatigue": "no"}


def wait_for(predicate, timeout, what, details=lambda: ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}{details()}")


def cdr_rows(lab, uniqueids):
    if not lab.cdr_path.exists():
        return []
    with lab.cdr_path.open(newline="") as handle:
        return [row for row in csv.reader(handle) if row and row[0] in uniqueids]


def test_sigkill_mid_call_loses_no_answer_and_makes_no_duplicate_call(lab_run,
                                                                       engine_processes):
    lab = lab_run.lab
    lab_run.scenario({"residents": {
        ENDS_WHILE_DOWN: {"answer_after": 1, "keys": KEYS},
        STILL_LIVE: {"answer_after": 25, "keys": KEYS},
    }})
    lab_run.call(ENDS_WHILE_DOWN, STILL_LIVE)
    env = {**lab_run.env, "CALLENGINE_RING_TIMEOUT": "40", "CALLENGINE_ATTEMPT_GRACE": "3"}
    shift = lab_run.clock.shift

    engine = engine_processes.start(env, shift=shift)
    wait_for(lambda: "fever" in lab_run.answers(ENDS_WHILE_DOWN), 60, "the first answer")
    wait_for(lambda: lab_run.attempts(STILL_LIVE), 30, "the second call to be dialled")
    engine.send_signal(signal.SIGKILL)
    engine.wait(10)
    wait_for(lambda: not engine_processes.group_members(engine), 10,
             "the killed engine's recognition workers to exit by themselves",  # they watch it
             lambda: ": " + ", ".join(
                 map(describe_process, engine_processes.group_members(engine))))
    first_log = engine_processes.log_of(engine)
    assert "daily plan" in first_log and "0 cancelled" in first_log, first_log
    [first] = lab_run.attempts(ENDS_WHILE_DOWN)
    assert first.state != "ended"  # the engine died mid-call

    wait_for(lambda: cdr_rows(lab, {first.id}), 120, "the first call to end in Asterisk")
    restarted = engine_processes.start(env, "--until-idle", shift=shift)
    restarted.wait(150)
    output = engine_processes.log_of(restarted)
    assert restarted.returncode == 0, output

    for phone in (ENDS_WHILE_DOWN, STILL_LIVE):
        attempts = lab_run.attempts(phone)
        assert [a.outcome for a in attempts] == ["completed"], phone
        assert {q: v for q, (v, _) in lab_run.answers(phone).items()} == EXPECTED, phone
    ids = {a.id for p in (ENDS_WHILE_DOWN, STILL_LIVE) for a in lab_run.attempts(p)}
    assert len(cdr_rows(lab, ids)) == 2  # Asterisk placed exactly one call to each person
    assert "reconciled 2 unfinished attempt(s): 1 still live" in output


LEFT_BEHIND = "+84912000303"  # a renamed server's call to them is still live in the database
CALLED_MEANWHILE = "+84912000304"


def test_a_live_call_left_by_a_renamed_server_neither_stops_the_engine_nor_the_person(
        lab_run, caplog):
    from datetime import timedelta

    from sqlalchemy import select

    from callengine.clock import to_db
    from callengine.store.models import CallAttempt, CallTask, Person

    lab_run.scenario({"residents": {LEFT_BEHIND: {"answer_after": 1, "keys": KEYS},
                                    CALLED_MEANWHILE: {"answer_after": 1, "keys": KEYS}}})
    lab_run.call(LEFT_BEHIND, CALLED_MEANWHILE)
    started = to_db(lab_run.clock.now() - timedelta(seconds=90))
    with lab_run.db.session() as s:  # yesterday's call, never ended: the server was renamed
        person = s.scalars(select(Person).where(Person.phone == LEFT_BEHIND)).one()
        task = CallTask(person_id=person.id, day=started.date() - timedelta(days=1),
                        status="dialing", origin="plan", attempts=1, created_at=started,
                        updated_at=started)
        s.add(task)
        s.flush()
        s.add(CallAttempt(id="renamed-server-call", task_id=task.id, person_id=person.id,
                          phone=LEFT_BEHIND, trunk="default", server_id="pbx-old-name",
                          state="ringing", created_at=started))

    caplog.set_level("INFO", "callengine")
    # Stale after 105 s (longer than any call can last): found by the sweep a minute in.
    lab_run.run_until_idle(300, CALLENGINE_MAX_CALL_DURATION="90",
                           CALLENGINE_STALE_ATTEMPT_AGE="105")

    assert [a.outcome for a in lab_run.attempts(CALLED_MEANWHILE)] == ["completed"]
    left, called = lab_run.attempts(LEFT_BEHIND)
    assert (left.id, left.outcome) == ("renamed-server-call", "failed")
    assert left.detail.startswith("stale: still live after 105s (server pbx-old-name)")
    assert called.outcome == "completed" and called.created_at > left.ended_at
    assert {q: v for q, (v, _) in lab_run.answers(LEFT_BEHIND).items()} == EXPECTED
    assert caplog.text.count("taken by someone else") == 1
    assert LEFT_BEHIND not in caplog.text and "0912000303" not in caplog.text  # masked
