"""SIGKILL the engine while calls are live: no answer is lost, no call is made twice."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time

import pytest

from callengine.clock import SystemClock

pytestmark = pytest.mark.lab

ENDS_WHILE_DOWN = "+84912000301"  # answers at once: its call ends while the engine is dead
STILL_LIVE = "+84912000302"  # answers late: still in the survey when the engine comes back
KEYS = ["1", "2", "1", "2", "2", "2"]
EXPECTED = {"fever": "yes", "cough": "no", "breath": "yes", "throat": "no",
            "taste_smell": "no", "fatigue": "no"}


def start_engine(env, *args):
    return subprocess.Popen([sys.executable, "-m", "callengine.cli", "run", *args],
                            env={**os.environ, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def cdr_rows(lab, uniqueids):
    if not lab.cdr_path.exists():
        return []
    with lab.cdr_path.open(newline="") as handle:
        return [row for row in csv.reader(handle) if row and row[0] in uniqueids]


def test_sigkill_mid_call_loses_no_answer_and_makes_no_duplicate_call(lab_run):
    lab = lab_run.lab
    lab_run.clock = SystemClock()  # the engine runs as its own process, on the real clock
    lab_run.scenario({"residents": {
        ENDS_WHILE_DOWN: {"answer_after": 1, "keys": KEYS},
        STILL_LIVE: {"answer_after": 25, "keys": KEYS},
    }})
    lab_run.call(ENDS_WHILE_DOWN, STILL_LIVE)
    env = {**lab_run.env, "CALLENGINE_RING_TIMEOUT": "40", "CALLENGINE_ATTEMPT_GRACE": "3"}

    engine = start_engine(env)
    wait_for(lambda: "fever" in lab_run.answers(ENDS_WHILE_DOWN), 60, "the first answer")
    engine.send_signal(signal.SIGKILL)
    engine.wait(10)
    [first] = lab_run.attempts(ENDS_WHILE_DOWN)
    assert first.state != "ended"  # the engine died mid-call

    wait_for(lambda: cdr_rows(lab, {first.id}), 120, "the first call to end in Asterisk")
    restarted = start_engine(env, "--until-idle")
    output, _ = restarted.communicate(timeout=150)
    assert restarted.returncode == 0, output

    for phone in (ENDS_WHILE_DOWN, STILL_LIVE):
        attempts = lab_run.attempts(phone)
        assert [a.outcome for a in attempts] == ["completed"], phone
        assert {q: v for q, (v, _) in lab_run.answers(phone).items()} == EXPECTED, phone
    ids = {a.id for p in (ENDS_WHILE_DOWN, STILL_LIVE) for a in lab_run.attempts(p)}
    assert len(cdr_rows(lab, ids)) == 2  # Asterisk placed exactly one call to each person
    assert "reconciled 2 unfinished attempt(s): 1 still live" in output
