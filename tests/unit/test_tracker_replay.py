"""The attempt state machine on AMI traffic recorded from the real lab, in any order.

tests/fixtures/ami/*.txt are raw AMI frames of one call each, captured from the lab's pbx
(the attempt uuid replaced by ATTEMPT-UUID).
"""

import itertools
import random
from pathlib import Path

import pytest

from callengine.ami.parser import parse_frames
from callengine.dialer import outcome as oc
from callengine.dialer.tracker import AnswerGiven, AttemptTracker, Finished

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ami"
ATTEMPT = "ATTEMPT-UUID"

EXPECTED = {
    "busy": (oc.BUSY, 17, 486),
    "rejected": (oc.REJECTED, 21, 603),
    "invalid": (oc.INVALID, 1, 404),
    "congestion": (oc.CONGESTION, 34, 503),
    "no_answer": (oc.NO_ANSWER, 19, 480),
    "completed": (oc.COMPLETED, 16, None),
    "hangup_mid_survey": (oc.PARTIAL, None, None),
}


def recorded(name):
    result = parse_frames((FIXTURES / f"{name}.txt").read_bytes())
    assert not result.errors and result.messages
    return result.messages


def replay(messages):
    tracker = AttemptTracker()
    tracker.track(ATTEMPT, f"originate-{ATTEMPT}", now=0.0)
    facts = []
    for message in messages:
        facts += tracker.handle(message, now=1.0)
    return tracker, facts


def orders(messages):
    """The recorded order, reversed, and shuffles that keep the survey's own events in order."""
    yield messages
    yield list(reversed(messages))
    rng = random.Random(7)
    for _ in range(5):
        shuffled = messages[:]
        rng.shuffle(shuffled)
        yield shuffled


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recorded_call_is_classified_in_its_real_order(name):
    tracker, facts = replay(recorded(name))
    finished = [f for f in facts if isinstance(f, Finished)]
    assert len(finished) == 1
    outcome, cause, sip = EXPECTED[name]
    assert oc.classify(finished[0].signals) == outcome
    assert finished[0].signals.cause == cause or (cause is None and outcome == oc.PARTIAL)
    assert finished[0].signals.sip_code == sip
    assert ATTEMPT not in tracker.live


@pytest.mark.parametrize("name", ["busy", "rejected", "invalid", "congestion", "no_answer"])
def test_unanswered_calls_classify_the_same_whatever_the_event_order(name):
    outcomes = set()
    for order in orders(recorded(name)):
        tracker, facts = replay(order)
        finished = [f for f in facts if isinstance(f, Finished)]
        if not finished:  # OriginateResponse (Failure, with a channel) came last and waits
            finished = [tracker.expire(ATTEMPT)]
        outcomes.add(oc.classify(finished[0].signals))
    assert outcomes == {EXPECTED[name][0]}


def test_completed_call_yields_every_answer_as_it_happens():
    _, facts = replay(recorded("completed"))
    given = [(f.question_id, f.key) for f in facts if isinstance(f, AnswerGiven)]
    assert [q for q, _ in given] == ["fever", "cough", "breath", "throat", "taste_smell",
                                     "fatigue"]
    finished = facts[-1]
    assert isinstance(finished, Finished)
    assert finished.answers["fever"] == "1"
    assert finished.signals.stage == "done"


def test_answers_given_while_the_engine_was_away_come_with_the_end_event():
    messages = recorded("completed")
    # Keep only what a restarted engine sees: the hangup handler's summary and the Hangup.
    late = [m for m in messages if m.get("UserEvent") == "CallengineEnd" or m.name == "Hangup"]
    _, facts = replay(late)
    finished = [f for f in facts if isinstance(f, Finished)][0]
    assert oc.classify(finished.signals) == oc.COMPLETED
    assert set(finished.answers) >= {"fever", "cough", "breath", "throat", "taste_smell",
                                     "fatigue"}


def test_events_of_other_calls_are_ignored():
    tracker = AttemptTracker()
    tracker.track("someone-else", None, 0.0)
    facts = list(itertools.chain.from_iterable(
        tracker.handle(m, 1.0) for m in recorded("busy")))
    assert facts == []
    assert "someone-else" in tracker.live


def test_callback_key_is_reported_live_and_in_the_end_summary():
    from callengine.dialer.tracker import CallbackRequested

    _, facts = replay(recorded("completed"))  # the recorded resident pressed 0 at 'breath'
    assert [f.question_id for f in facts if isinstance(f, CallbackRequested)] == ["breath"]
    assert facts[-1].answers["callback"] == "breath"
