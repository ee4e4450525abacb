"""Two pbx servers, two engines, one PostgreSQL: the day's calls split with no one called twice;
one server's Asterisk dies mid-call and the other finishes its people.

Checked on three sides: the database, each pbx's own CDR file, and the carrier (the
residents' network), which sees every call whichever server placed it. The lab of this module
runs on ports 200 above CALLENGINE_LAB_PORT_BASE (its own folder), so the session's one-server
lab is left alone; it is brought down after the module.
"""

from __future__ import annotations

import csv
import os
import time
from collections import Counter

import pytest
from sqlalchemy import select

from callengine.lab import carrier_cdr
from callengine.lab.lab import Lab, LabPorts, pbx_name
from callengine.phones import normalize_phone
from callengine.store.models import Answer, CallAttempt
from tests.lab.conftest import LabRun, overlaps, refuse_stale_engine

pytestmark = pytest.mark.lab

SERVERS = (1, 2)
KEYS = ["1", "2", "2"]
EXPECTED = {"fever": "yes", "cough": "no", "breath": "no"}
QUESTIONNAIRE = """id: multi_server
callback_key: "0"
prompts: {intro: Xin chào., reprompt: Xin lỗi., invalid: Sai phím., callback: Đã ghi nhận.,
          closing: Cảm ơn., silent: Xin chào.}
questions:
  - {id: fever, text: "Sốt?", keys: {"1": "yes", "2": "no"}}
  - {id: cough, text: "Ho?", keys: {"1": "yes", "2": "no"}}
  - {id: breath, text: "Khó thở?", keys: {"1": "yes", "2": "no"}}
"""
# The dead server's calls end after this grace (the carrier drops them after 5 s of silence
# first, so a retry by the other server never overlaps them); claims not dialled are freed
# after the lease.
DEAD_SERVER = {"CALLENGINE_SERVER_DOWN_GRACE": "6", "CALLENGINE_CLAIM_LEASE": "10"}


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory):
    base = int(os.environ.get("CALLENGINE_LAB_PORT_BASE", "15000")) + 200
    lab = Lab(ports=LabPorts.from_base(base))
    for number in SERVERS:
        refuse_stale_engine(lab, lab.ports.server(number).agi)
    folder = tmp_path_factory.mktemp("two-servers")
    scenario = folder / "scenario.yaml"
    scenario.write_text(f"default: {{answer_after: 1, keys: {KEYS}}}\n")
    lab.up(scenario, servers=len(SERVERS))
    yield lab
    lab.down()


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    """A three-question survey: calls short enough to keep the module quick."""
    path = tmp_path_factory.mktemp("survey") / "questionnaire.yaml"
    path.write_text(QUESTIONNAIRE, encoding="utf-8")
    return path


def engine_env(run: LabRun, number: int, **extra: str) -> dict[str, str]:
    """Engine `number`'s settings: its server's file from the lab, the shared database."""
    return {**run.env, "CALLENGINE_CONFIG": str(run.lab.engine_config_of(number)),
            "CALLENGINE_DATA_DIR": str(run.tmp_path / f"data-{number}"), **extra}


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def all_attempts(run: LabRun) -> list[CallAttempt]:
    with run.db.session() as s:
        return list(s.scalars(select(CallAttempt).order_by(CallAttempt.created_at)))


def answers_of(run: LabRun, attempt_id: str) -> dict[str, str]:
    with run.db.session() as s:
        rows = s.scalars(select(Answer).where(Answer.attempt_id == attempt_id))
        return {row.question_id: row.value for row in rows}


def pbx_cdr_ids(lab: Lab, number: int, ids) -> list[str]:
    """Uniqueids (= attempt ids) of this test's calls in server `number`'s own CDR file."""
    path = lab.cdr_path_of(number)
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return [row[0] for row in csv.reader(handle) if row and row[0] in ids]


def carrier_calls(lab: Lab, phones, since: float) -> list[carrier_cdr.CarrierCall]:
    """The carrier's calls to these phones from `since` (epoch) on: its file keeps earlier
    runs' calls to the same numbers."""
    wanted = set(phones)
    return [call for call in carrier_cdr.read_calls(lab.carrier_cdr_path)
            if call.start >= since and normalize_phone(call.number).e164 in wanted]


def e164(call: carrier_cdr.CarrierCall) -> str:
    return normalize_phone(call.number).e164


@pytest.fixture
def run(two_servers, survey, tmp_path, postgres_url):
    lab_run = LabRun(two_servers, tmp_path, postgres_url)
    lab_run.env["CALLENGINE_QUESTIONNAIRE"] = str(survey)
    yield lab_run
    lab_run.close()


def test_two_servers_split_the_days_calls_and_nobody_is_dialled_twice(run, engine_processes):
    lab = run.lab
    phones = [f"+849851{i:05d}" for i in range(120)]
    since = time.time()
    run.call(*phones)
    engines = [engine_processes.start(engine_env(run, number), "--until-idle",
                                      shift=run.clock.shift) for number in SERVERS]
    for engine in engines:
        engine.wait(400)
        assert engine.returncode == 0, engine_processes.log_of(engine)

    attempts = all_attempts(run)
    assert sorted(a.phone for a in attempts) == sorted(phones)  # one call each, no one left
    assert Counter(a.outcome for a in attempts) == {"completed": 120}
    share = Counter(a.server_id for a in attempts)
    assert set(share) == {"lab", "lab-2"} and min(share.values()) >= 30, share

    by_id = {a.id: a for a in attempts}
    cdr = {number: pbx_cdr_ids(lab, number, by_id) for number in SERVERS}
    assert sorted(cdr[1] + cdr[2]) == sorted(by_id)  # each call once, in one Asterisk only
    assert {by_id[i].server_id for i in cdr[1]} == {"lab"}
    assert {by_id[i].server_id for i in cdr[2]} == {"lab-2"}

    wait_for(lambda: len(carrier_calls(lab, phones, since)) >= 120, 15, "the carrier's records")
    calls = carrier_calls(lab, phones, since)
    assert Counter(map(e164, calls)) == Counter(phones)  # the network saw one call per person
    assert Counter(c.pbx for c in calls) == {pbx_name(1): share["lab"],
                                             pbx_name(2): share["lab-2"]}
    assert all(c.answer is not None for c in calls)  # every person reached


def test_a_dead_servers_calls_fail_keep_their_answers_and_the_other_server_finishes_them(
        run, engine_processes):
    lab = run.lab
    phones = [f"+849852{i:05d}" for i in range(20)]
    since = time.time()
    run.call(*phones)
    shift = run.clock.shift
    survivor = engine_processes.start(engine_env(run, 1, **DEAD_SERVER), "--until-idle",
                                      shift=shift)
    engine_processes.start(engine_env(run, 2, **DEAD_SERVER), shift=shift)  # dies with its pbx

    def server2_mid_survey() -> bool:
        return any(a.server_id == "lab-2" and a.state != "ended" and answers_of(run, a.id)
                   for a in all_attempts(run))

    wait_for(server2_mid_survey, 120, "a call of server 2 with a first answer")
    lab.kill(2)
    live = [a for a in all_attempts(run) if a.server_id == "lab-2" and a.state != "ended"]
    given = {a.id: answers_of(run, a.id) for a in live}
    assert any(given.values())

    def ended(attempt_ids) -> bool:
        return all(a.state == "ended" for a in all_attempts(run) if a.id in attempt_ids)

    # Needs the engine's dead-server handling (grace CALLENGINE_SERVER_DOWN_GRACE): without
    # it the dead server's calls stay live in the database and are never retried.
    wait_for(lambda: ended(given), 60, "server 2's live calls to end after the grace")
    survivor.wait(300)
    assert survivor.returncode == 0, engine_processes.log_of(survivor)

    attempts = all_attempts(run)
    for attempt in (a for a in attempts if a.id in given):
        assert attempt.outcome == "failed", (attempt.outcome, attempt.detail)
        assert "asterisk" in (attempt.detail or "").lower() or "lab-2" in attempt.detail
        assert answers_of(run, attempt.id) == given[attempt.id]  # nothing it recorded is lost
        retry = [a for a in attempts if a.phone == attempt.phone and a.created_at
                 > attempt.created_at]
        assert [(a.server_id, a.outcome) for a in retry] == [("lab", "completed")]
    for phone in phones:
        done = [a for a in attempts if a.phone == phone and a.outcome == "completed"]
        assert len(done) == 1 and answers_of(run, done[0].id) == EXPECTED, phone

    wait_for(lambda: len(carrier_calls(lab, phones, since)) >= len(attempts), 15,
             "the carrier's records")
    calls = carrier_calls(lab, phones, since)
    assert Counter(c.pbx for c in calls)[pbx_name(2)] >= len(given)  # it saw the lost calls
    for phone in phones:  # nobody had two calls at once, seen from the network
        assert not overlaps([(c.start, c.end) for c in calls if e164(c) == phone]), phone
