"""End to end through the real lab: pbx Asterisk -> SIP on loopback -> carrier Asterisk."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.lab.conftest import overlaps

pytestmark = pytest.mark.lab

COMPLETE = "+84912345678"
REPROMPT = "+84983000001"
CALLBACK = "+84983000002"
BUSY = "+84987654321"
NO_ANSWER = "+84911111111"
REJECT = "+84922222222"
INVALID = "+84933333333"
CONGESTION = "+84900000000"
HANGS_UP = "+84955555555"
SILENT = "+84966666666"

SCENARIO = {
    "default": "no_answer",
    "residents": {
        COMPLETE: {"answer_after": 1, "keys": ["1", "2", "2", "2", "2", "2"]},
        # cough: no key at all (2 re-prompts, then unknown); breath: invalid key, then 2
        REPROMPT: {"answer_after": 1, "keys": ["1", "-", "9", "2", "2", "2", "2"]},
        # 0 asks for a health worker, then the same question is asked again; breath: yes
        CALLBACK: {"answer_after": 2, "keys": ["0", "2", "2", "1", "2", "2", "2"]},
        BUSY: "busy",
        NO_ANSWER: "no_answer",
        REJECT: "reject",
        INVALID: "invalid",
        CONGESTION: "congestion",
        HANGS_UP: {"answer_after": 1, "keys": ["1"], "hangup_after": 25},
        SILENT: {"answer_after": 1, "silent": True},
    },
}
YES_THEN_NO = {"fever": "yes", "cough": "no", "breath": "no", "throat": "no",
               "taste_smell": "no", "fatigue": "no"}


@pytest.fixture(scope="module")
def scenario_run(lab, tmp_path_factory):
    from tests.lab.conftest import LabRun

    run = LabRun(lab, tmp_path_factory.mktemp("scenario"))
    run.scenario(SCENARIO)
    run.call(*SCENARIO["residents"])
    run.run_until_idle(timeout=420, CALLENGINE_TRUNK_FAILURE_THRESHOLD="1000")
    yield run
    run.close()


def outcomes(run, phone):
    return [a.outcome for a in run.attempts(phone)]


def values(run, phone):
    return {q: v for q, (v, _) in run.answers(phone).items()}


def test_a_resident_who_presses_keys_completes_the_survey(scenario_run):
    assert outcomes(scenario_run, COMPLETE) == ["completed"]
    assert values(scenario_run, COMPLETE) == YES_THEN_NO
    assert {s for _, s in scenario_run.answers(COMPLETE).values()} == {"dtmf"}
    assert scenario_run.task(COMPLETE).status == "done"


def test_no_key_is_reprompted_then_unknown_and_an_invalid_key_is_asked_again(scenario_run):
    assert outcomes(scenario_run, REPROMPT) == ["completed"]
    assert values(scenario_run, REPROMPT) == {**YES_THEN_NO, "cough": "unknown"}


def test_key_zero_requests_a_call_back_and_the_survey_goes_on(scenario_run):
    assert outcomes(scenario_run, CALLBACK) == ["completed"]
    assert scenario_run.task(CALLBACK).callback_requested
    assert values(scenario_run, CALLBACK) == {**YES_THEN_NO, "fever": "no", "breath": "yes"}


@pytest.mark.parametrize("phone, expected, cause, sip", [
    (BUSY, ["busy"] * 4, 17, 486),
    (NO_ANSWER, ["no_answer"] * 4, 19, 480),
    (REJECT, ["rejected"] * 2, 21, 603),  # retried once
    (INVALID, ["invalid_number"], 1, 404),  # never retried
    (CONGESTION, ["congestion"] * 4, 34, 503),
])
def test_unanswered_outcomes_causes_and_retries(scenario_run, phone, expected, cause, sip):
    attempts = scenario_run.attempts(phone)
    assert [a.outcome for a in attempts] == expected
    assert {(a.cause, a.sip_code) for a in attempts} == {(cause, sip)}
    assert scenario_run.task(phone).status in ("exhausted", "done")


def test_a_resident_who_hangs_up_mid_survey_is_partial_with_the_answers_given(scenario_run):
    attempts = scenario_run.attempts(HANGS_UP)
    assert [a.outcome for a in attempts] == ["partial", "partial"]  # partial: retried once
    assert values(scenario_run, HANGS_UP)["fever"] == "yes"


def test_a_silent_resident_is_partial_and_the_call_ends_early(scenario_run):
    attempts = scenario_run.attempts(SILENT)
    assert [a.outcome for a in attempts] == ["partial", "partial"]
    assert {a.stage for a in attempts} == {"silent"}
    first = attempts[0]
    assert (first.ended_at - first.answered_at) < timedelta(seconds=120)


def test_retries_wait_their_delay_and_calls_to_one_person_never_overlap(scenario_run):
    settings = scenario_run.settings()
    for phone in SCENARIO["residents"]:
        attempts = scenario_run.attempts(phone)
        assert not overlaps([(a.created_at, a.ended_at) for a in attempts]), phone
    busy = scenario_run.attempts(BUSY)
    for earlier, later in zip(busy, busy[1:]):
        assert (later.created_at - earlier.ended_at).total_seconds() >= settings.retry_busy
    congestion = scenario_run.attempts(CONGESTION)
    gaps = [(b.created_at - a.ended_at).total_seconds()
            for a, b in zip(congestion, congestion[1:])]
    assert gaps[1] >= 2 * settings.retry_congestion and gaps[2] >= 4 * settings.retry_congestion


def test_results_export_has_one_row_per_person_with_answers(scenario_run, tmp_path):
    import csv
    from datetime import date

    from callengine.questionnaire import load_questionnaire
    from callengine.results import export

    settings = scenario_run.settings()
    day = scenario_run.task(COMPLETE).day
    path = tmp_path / "results.csv"
    count = export(scenario_run.db, load_questionnaire(settings.questionnaire), day, "csv", path)
    # Phones are written ="+84..." so that Excel shows them as text (callengine/cells.py).
    rows = {r["phone"].removeprefix('="').removesuffix('"'): r
            for r in csv.DictReader(path.open(encoding="utf-8-sig"))}
    assert all(r["phone"].startswith('="+84') for r in rows.values())
    assert count == len(SCENARIO["residents"]) == len(rows)
    assert rows[COMPLETE]["outcome"] == "completed" and rows[COMPLETE]["fever"] == "yes"
    assert rows[BUSY]["attempts"] == "4" and rows[BUSY]["fever"] == ""
    assert rows[CALLBACK]["callback_requested"] == "yes"
    assert isinstance(day, date)


def test_supervisors_get_flags_for_symptoms_callbacks_and_bad_numbers(scenario_run):
    from sqlalchemy import select

    from callengine.store.models import Person
    from callengine.store.supervision import Flag

    with scenario_run.db.session() as s:
        flags = {(phone, f.kind, f.urgent) for f, phone in s.execute(
            select(Flag, Person.phone).join(Person, Person.id == Flag.person_id))}
    assert flags == {
        (COMPLETE, "symptom", False), (REPROMPT, "symptom", False),
        (HANGS_UP, "symptom", False),
        (CALLBACK, "symptom", True), (CALLBACK, "callback", False),  # breath is urgent
        (INVALID, "invalid_number", False),
    }
