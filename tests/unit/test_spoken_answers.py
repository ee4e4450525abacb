"""Spoken answers in and after calls (callengine.dialer.spoken) with a fake recogniser pool
and real attempt records, on SQLite and the real PostgreSQL server."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from callengine import contract
from callengine.agi.protocol import AgiRequest
from callengine.dialer import spoken as spoken_module
from callengine.dialer.answers import VALUE_PENDING
from callengine.dialer.records import AttemptRecords, Ending
from callengine.dialer.retry import RetryPolicy
from callengine.dialer.spoken import SpokenAnswers, key_for
from callengine.dialer.window import Window
from callengine.questionnaire import load_questionnaire
from callengine.settings import DEFAULT_QUESTIONNAIRE, Settings, parse_window
from callengine.speech.pool import Recognition
from callengine.store.models import Answer
from callengine.store.supervision import FLAG_SPEECH_REVIEW, FLAG_SYMPTOM, Flag
from callengine.tasks import schedule_call

DAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)  # 10:00 local
QUESTIONNAIRE = load_questionnaire(DEFAULT_QUESTIONNAIRE)
WINDOW = Window(parse_window("w", "08:00-20:00"), "Asia/Ho_Chi_Minh", 300)

YES = Recognition(heard=True, answer="yes", text="có bị sốt", confidence=0.82, seconds=0.4)
NO = Recognition(heard=True, answer="no", text="không", confidence=0.91, seconds=0.3)
UNCLEAR = Recognition(heard=True, answer="unknown", text="để tôi xem", confidence=0.35)
NOTHING = Recognition(heard=False, reason="không nghe thấy tiếng nói")
FAILED = Recognition(heard=False, error="recognition worker died")


def run(test, timeout: float = 10.0):
    return asyncio.run(asyncio.wait_for(test(), timeout))


async def until(predicate, timeout: float = 3.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


class FakeClock:
    def __init__(self) -> None:
        self.mono = 1000.0

    def now(self) -> datetime:
        return NOW

    def monotonic(self) -> float:
        return self.mono


class FakePool:
    """RecognitionPool's interface: results by recording name; a gate holds recognition."""

    def __init__(self, results: dict[str, Recognition] | None = None, workers: int = 1):
        self.results = dict(results or {})
        self.workers = workers
        self.calls: list[tuple[Path, str]] = []
        self.gate: asyncio.Event | None = None
        self.warmed = self.closed = False

    async def recognize(self, path: Path, question, *, in_call: bool = True) -> Recognition:
        self.calls.append((Path(path), question.id))
        if self.gate is not None:
            await self.gate.wait()
        return self.results[Path(path).name]

    async def warm_up(self) -> None:
        self.warmed = True

    def close(self) -> None:
        self.closed = True


class FakeSession:
    """What handle_agi needs of an AgiSession; it looks at the database when it replies."""

    def __init__(self, on_reply=None) -> None:
        self.sets: list[tuple[str, str]] = []
        self.on_reply = on_reply
        self.seen_at_reply = None

    async def set_variable(self, name: str, value: str) -> bool:
        if self.on_reply is not None:
            self.seen_at_reply = self.on_reply()
        self.sets.append((name, value))
        return True


def make_records(db, server_id: str = "server-a") -> AttemptRecords:
    return AttemptRecords(db, QUESTIONNAIRE, RetryPolicy.from_settings(Settings()), WINDOW,
                          server_id)


@pytest.fixture
def records(db):
    return make_records(db)


def start_call(db, records: AttemptRecords, phone: str = "0912345678") -> str:
    """A call that has been answered; its attempt id (a uuid, like Asterisk's ChannelId)."""
    schedule_call(db, phone, DAY, NOW)
    task = next(t for t in records.due_tasks(DAY, NOW, 10) if t.phone.endswith(phone[-9:]))
    attempt_id = str(uuid.uuid4())
    assert records.claim(task, attempt_id, "viettel", NOW)
    records.answered(attempt_id, NOW)
    return attempt_id


def make_spoken(records, tmp_path, pool=None, clock=None, reply_timeout=2.0) -> SpokenAnswers:
    folder = tmp_path / "answers"
    folder.mkdir(exist_ok=True)
    return SpokenAnswers(answers=records.answers, questionnaire=QUESTIONNAIRE,
                         pool=pool or FakePool(),
                         recordings=folder, reply_timeout=reply_timeout,
                         clock=clock or FakeClock())


def request(attempt_id: str, qid: str = "fever", try_no: str = "0") -> AgiRequest:
    return AgiRequest(contract.AGI_RECOGNIZE, (attempt_id, qid, try_no),
                      {"agi_uniqueid": attempt_id})


def recording(spoken: SpokenAnswers, attempt_id: str, qid: str = "fever", try_no=0) -> Path:
    path = spoken.recordings / contract.recording_name(attempt_id, qid, try_no)
    path.write_bytes(b"RIFF....WAVE")  # the fake pool does not read it
    return path


def answers(db, attempt_id: str) -> dict[str, Answer]:
    with db.session() as s:
        return {a.question_id: a for a in s.scalars(
            select(Answer).where(Answer.attempt_id == attempt_id))}


def flags(db) -> dict[str, str | None]:
    with db.session() as s:
        return {f.kind: f.detail for f in s.scalars(select(Flag))}


def finish(records, attempt_id: str, **answer_keys: str) -> None:
    assert records.finish(attempt_id, Ending("completed", cause=16, stage="done",
                                             answers=answer_keys), NOW)


# --- during the call --------------------------------------------------------------------

def test_an_understood_yes_is_stored_before_the_dialplan_gets_its_key(db, records, tmp_path):
    attempt_id = start_call(db, records)
    name = contract.recording_name(attempt_id, "fever", 0)
    pool = FakePool({name: YES})
    spoken = make_spoken(records, tmp_path, pool)
    session = FakeSession(on_reply=lambda: answers(db, attempt_id).get("fever"))
    run(lambda: spoken.handle_agi(request(attempt_id), session))
    assert session.sets == [(contract.VAR_HEARD, "1")]
    stored = session.seen_at_reply
    assert stored is not None, "the answer was not in the database when the key was sent"
    assert (stored.value, stored.key, stored.source) == ("yes", "1", contract.SOURCE_SPEECH)
    assert (stored.transcript, stored.confidence) == ("có bị sốt", 0.82)
    assert stored.audio_path == name
    assert pool.calls == [(spoken.recordings / name, "fever")]


def test_an_understood_no_sets_the_no_key(db, records, tmp_path):
    attempt_id = start_call(db, records)
    pool = FakePool({contract.recording_name(attempt_id, "cough", 2): NO})
    session = FakeSession()
    run(lambda: make_spoken(records, tmp_path, pool).handle_agi(
        request(attempt_id, "cough", "2"), session))
    assert session.sets == [(contract.VAR_HEARD, "2")]
    assert answers(db, attempt_id)["cough"].value == "no"


def test_words_not_understood_answer_unknown_and_are_flagged_for_review(db, records, tmp_path):
    attempt_id = start_call(db, records)
    pool = FakePool({contract.recording_name(attempt_id, "fever", 0): UNCLEAR})
    session = FakeSession()
    run(lambda: make_spoken(records, tmp_path, pool).handle_agi(request(attempt_id), session))
    assert session.sets == [(contract.VAR_HEARD, contract.KEY_UNKNOWN)]
    row = answers(db, attempt_id)["fever"]
    assert (row.value, row.key, row.transcript) == ("unknown", "?", "để tôi xem")
    # The dialplan gave up on the question with "?"; the call's flags ask for a listen.
    finish(records, attempt_id, fever="?", cough="2")
    assert flags(db)[FLAG_SPEECH_REVIEW] == "fever"
    assert answers(db, attempt_id)["fever"].audio_path == \
        contract.recording_name(attempt_id, "fever", 0)


def test_nothing_said_answers_empty_and_stores_nothing(db, records, tmp_path):
    attempt_id = start_call(db, records)
    pool = FakePool({contract.recording_name(attempt_id, "fever", 1): NOTHING})
    session = FakeSession()
    run(lambda: make_spoken(records, tmp_path, pool).handle_agi(
        request(attempt_id, "fever", "1"), session))
    assert session.sets == [(contract.VAR_HEARD, contract.KEY_NOTHING_HEARD)]
    assert answers(db, attempt_id) == {}


def test_a_recognition_error_leaves_the_pending_key_to_the_dialplan(db, records, tmp_path):
    attempt_id = start_call(db, records)
    pool = FakePool({contract.recording_name(attempt_id, "fever", 0): FAILED})
    session = FakeSession()
    run(lambda: make_spoken(records, tmp_path, pool).handle_agi(request(attempt_id), session))
    assert session.sets == []  # CE_HEARD stays "~0"
    assert answers(db, attempt_id) == {}


def test_without_a_recogniser_nothing_is_asked_and_the_key_stays_pending(db, records, tmp_path):
    attempt_id = start_call(db, records)
    pool = FakePool()
    spoken = make_spoken(records, tmp_path, pool)
    spoken.available = False
    session = FakeSession()
    run(lambda: spoken.handle_agi(request(attempt_id), session))
    assert (session.sets, pool.calls) == ([], [])


def test_slower_than_the_reply_timeout_no_reply_but_the_late_answer_is_kept(
        db, records, tmp_path):
    attempt_id = start_call(db, records)
    pool = FakePool({contract.recording_name(attempt_id, "fever", 0): YES})
    spoken = make_spoken(records, tmp_path, pool, reply_timeout=0.05)
    session = FakeSession()

    async def scenario():
        pool.gate = asyncio.Event()
        await spoken.handle_agi(request(attempt_id), session)
        assert session.sets == []  # the dialplan moves on with "~0"
        assert answers(db, attempt_id) == {}
        pool.gate.set()
        await until(lambda: "fever" in answers(db, attempt_id))
    run(scenario)
    row = answers(db, attempt_id)["fever"]
    assert (row.value, row.key, row.source) == ("yes", "1", contract.SOURCE_SPEECH)
    assert session.sets == []


def test_a_late_answer_after_the_call_ended_still_raises_its_flags(db, records, tmp_path):
    """The resident says "có" and hangs up: the call ends (answer "~0") before recognition."""
    attempt_id = start_call(db, records)
    pool = FakePool({contract.recording_name(attempt_id, "fever", 0): YES})
    spoken = make_spoken(records, tmp_path, pool, reply_timeout=0.05)

    async def scenario():
        pool.gate = asyncio.Event()
        await spoken.handle_agi(request(attempt_id), FakeSession())
        assert records.finish(attempt_id, Ending("partial", cause=16, stage="fever",
                                                 answers={"fever": "~0"}), NOW)
        assert answers(db, attempt_id)["fever"].value == VALUE_PENDING
        pool.gate.set()
        await until(lambda: answers(db, attempt_id)["fever"].value != VALUE_PENDING)
    run(scenario)
    assert answers(db, attempt_id)["fever"].value == "yes"
    assert flags(db).get(FLAG_SYMPTOM) == "fever"


@pytest.mark.parametrize("args", [
    ("not-a-uuid", "fever", "0"),
    ("{attempt}", "nosuch", "0"),
    ("{attempt}", "fever", "x"),
    ("{attempt}", "fever", "-1"),
    ("{attempt}", "fever", ""),
    ("{attempt}", "../x", "0"),
    ("{attempt}", "fever/../../etc", "0"),
    ("{attempt}", "fever", "../0"),
    ("{attempt}", "fever", "0/../../x"),
    ("../../etc/passwd", "fever", "0"),
    ("{attempt}/../x", "fever", "0"),
    ("{attempt}", "fever"),
    ("{attempt}", "fever", "0", "extra"),
    (),
])
def test_bad_arguments_recognise_nothing(db, records, tmp_path, args):
    attempt_id = start_call(db, records)
    pool = FakePool()
    session = FakeSession()
    bad = AgiRequest(contract.AGI_RECOGNIZE, tuple(a.format(attempt=attempt_id) for a in args))
    run(lambda: make_spoken(records, tmp_path, pool).handle_agi(bad, session))
    assert (pool.calls, session.sets) == ([], [])
    assert answers(db, attempt_id) == {}


# --- the dialplan's answers, merged after the spoken ones -------------------------------

def spoken_first(db, records, tmp_path, recognition: Recognition, try_no: int = 0) -> str:
    attempt_id = start_call(db, records)
    pool = FakePool({contract.recording_name(attempt_id, "fever", try_no): recognition})
    run(lambda: make_spoken(records, tmp_path, pool).handle_agi(
        request(attempt_id, "fever", str(try_no)), FakeSession()))
    return attempt_id


def test_the_same_key_from_the_dialplan_keeps_the_transcript_and_audio(db, records, tmp_path):
    attempt_id = spoken_first(db, records, tmp_path, YES)
    records.save_answers(attempt_id, {"fever": "1"}, NOW)  # the live CallengineAnswer
    finish(records, attempt_id, fever="1", cough="2")
    row = answers(db, attempt_id)["fever"]
    assert (row.value, row.source, row.transcript, row.confidence) == \
        ("yes", contract.SOURCE_SPEECH, "có bị sốt", 0.82)
    assert row.audio_path == contract.recording_name(attempt_id, "fever", 0)
    assert flags(db)[FLAG_SYMPTOM] == "fever"


def test_a_key_pressed_on_the_reprompt_replaces_the_spoken_answer(db, records, tmp_path):
    attempt_id = spoken_first(db, records, tmp_path, UNCLEAR)
    finish(records, attempt_id, fever="2", cough="2")
    row = answers(db, attempt_id)["fever"]
    assert (row.value, row.key, row.source) == ("no", "2", contract.SOURCE_DTMF)
    assert (row.transcript, row.confidence, row.audio_path) == (None, None, None)
    assert FLAG_SPEECH_REVIEW not in flags(db)


def test_a_pending_key_without_an_answer_creates_a_pending_one(db, records, tmp_path):
    attempt_id = start_call(db, records)
    finish(records, attempt_id, fever="~1")
    row = answers(db, attempt_id)["fever"]
    assert (row.value, row.key, row.source) == (VALUE_PENDING, "~1", contract.SOURCE_SPEECH)
    assert row.audio_path == contract.recording_name(attempt_id, "fever", 1)
    assert flags(db) == {}  # nothing to flag until it is recognised


def test_a_pending_key_never_replaces_a_recognised_answer(db, records, tmp_path):
    attempt_id = spoken_first(db, records, tmp_path, YES)
    records.save_answers(attempt_id, {"fever": "~0"}, NOW)
    finish(records, attempt_id, fever="~0")
    row = answers(db, attempt_id)["fever"]
    assert (row.value, row.key, row.transcript) == ("yes", "1", "có bị sốt")
    assert flags(db)[FLAG_SYMPTOM] == "fever"



def test_a_later_spoken_answer_left_pending_replaces_an_unclear_one(db, records, tmp_path):
    attempt_id = spoken_first(db, records, tmp_path, UNCLEAR, try_no=0)
    finish(records, attempt_id, fever="~1")  # spoke again on the re-prompt, then hung up
    row = answers(db, attempt_id)["fever"]
    assert (row.value, row.key, row.transcript) == (VALUE_PENDING, "~1", None)
    assert row.audio_path == contract.recording_name(attempt_id, "fever", 1)


# --- after the call ---------------------------------------------------------------------

def ended_with_pending(db, records, spoken, qid="fever", try_no=1, file=True,
                       phone="0912345678") -> str:
    attempt_id = start_call(db, records, phone)
    if file:
        recording(spoken, attempt_id, qid, try_no)
    finish(records, attempt_id, **{qid: contract.pending_key(try_no)})
    return attempt_id


def test_a_pending_yes_is_recognised_after_the_call_and_flagged(db, records, tmp_path):
    pool = FakePool()
    spoken = make_spoken(records, tmp_path, pool)
    attempt_id = ended_with_pending(db, records, spoken)
    name = contract.recording_name(attempt_id, "fever", 1)
    pool.results[name] = YES
    assert run(spoken.recognize_pending) == 1
    row = answers(db, attempt_id)["fever"]
    assert (row.value, row.key, row.source) == ("yes", "1", contract.SOURCE_SPEECH)
    assert (row.transcript, row.confidence, row.audio_path) == ("có bị sốt", 0.82, name)
    assert flags(db)[FLAG_SYMPTOM] == "fever"
    assert run(spoken.recognize_pending) == 0  # done: not recognised again
    assert len(pool.calls) == 1


def test_a_pending_recording_with_nothing_said_leaves_no_answer(db, records, tmp_path):
    pool = FakePool()
    spoken = make_spoken(records, tmp_path, pool)
    attempt_id = ended_with_pending(db, records, spoken)
    pool.results[contract.recording_name(attempt_id, "fever", 1)] = NOTHING
    assert run(spoken.recognize_pending) == 1
    assert answers(db, attempt_id) == {}
    assert flags(db) == {}


def test_without_a_recogniser_a_pending_answer_becomes_unknown_for_review(db, records, tmp_path):
    pool = FakePool()
    spoken = make_spoken(records, tmp_path, pool)
    spoken.available = False
    attempt_id = ended_with_pending(db, records, spoken)
    assert run(spoken.recognize_pending) == 1
    row = answers(db, attempt_id)["fever"]
    assert (row.value, row.key, row.source) == ("unknown", "?", contract.SOURCE_SPEECH)
    assert row.audio_path == contract.recording_name(attempt_id, "fever", 1)
    assert flags(db)[FLAG_SPEECH_REVIEW] == "fever"
    assert pool.calls == []


def test_a_pending_answer_whose_recording_is_missing_is_dropped(db, records, tmp_path):
    pool = FakePool()
    spoken = make_spoken(records, tmp_path, pool)
    attempt_id = ended_with_pending(db, records, spoken, file=False)
    assert run(spoken.recognize_pending) == 1
    assert answers(db, attempt_id) == {}
    assert pool.calls == []


def test_a_failed_recognition_stays_pending_and_waits_before_a_retry(db, records, tmp_path):
    clock = FakeClock()
    pool = FakePool()
    spoken = make_spoken(records, tmp_path, pool, clock)
    attempt_id = ended_with_pending(db, records, spoken)
    name = contract.recording_name(attempt_id, "fever", 1)
    pool.results[name] = FAILED
    assert run(spoken.recognize_pending) == 1
    assert answers(db, attempt_id)["fever"].value == VALUE_PENDING
    clock.mono += spoken_module.PENDING_RETRY - 1
    assert run(spoken.recognize_pending) == 0  # not yet
    assert len(pool.calls) == 1
    clock.mono += 1
    pool.results[name] = NO
    assert run(spoken.recognize_pending) == 1
    assert len(pool.calls) == 2
    assert answers(db, attempt_id)["fever"].value == "no"



def test_a_recording_that_keeps_failing_goes_to_review_after_three_tries(db, records, tmp_path):
    clock = FakeClock()
    pool = FakePool()
    spoken = make_spoken(records, tmp_path, pool, clock)
    attempt_id = ended_with_pending(db, records, spoken)
    pool.results[contract.recording_name(attempt_id, "fever", 1)] = FAILED
    for _ in range(spoken_module.MAX_FAILURES):
        assert run(spoken.recognize_pending) == 1
        clock.mono += spoken_module.PENDING_RETRY
    row = answers(db, attempt_id)["fever"]
    assert (row.value, row.source) == ("unknown", contract.SOURCE_SPEECH)
    assert flags(db)[FLAG_SPEECH_REVIEW] == "fever"
    assert run(spoken.recognize_pending) == 0


def test_pending_answers_of_another_server_are_left_alone(db, records, tmp_path):
    other = make_records(db, "server-b")
    pool = FakePool()
    spoken = make_spoken(records, tmp_path, pool)
    attempt_id = ended_with_pending(db, other, spoken)
    pool.results[contract.recording_name(attempt_id, "fever", 1)] = YES
    assert run(spoken.recognize_pending) == 0
    assert answers(db, attempt_id)["fever"].value == VALUE_PENDING
    assert pool.calls == []


def test_pending_answers_of_a_live_call_are_not_touched(db, records, tmp_path):
    pool = FakePool()
    spoken = make_spoken(records, tmp_path, pool)
    attempt_id = start_call(db, records)
    recording(spoken, attempt_id, "fever", 0)
    records.save_answers(attempt_id, {"fever": "~0"}, NOW)  # the live CallengineAnswer
    pool.results[contract.recording_name(attempt_id, "fever", 0)] = YES
    assert run(spoken.recognize_pending) == 0
    assert answers(db, attempt_id)["fever"].value == VALUE_PENDING
    assert pool.calls == []


def test_the_pending_loop_works_in_batches(db, records, tmp_path):
    pool = FakePool(workers=1)  # batches of 4
    spoken = make_spoken(records, tmp_path, pool)
    ids = [ended_with_pending(db, records, spoken, phone=f"091234560{i}") for i in range(6)]
    for attempt_id in ids:
        pool.results[contract.recording_name(attempt_id, "fever", 1)] = NO
    assert run(spoken.recognize_pending) == 4
    assert run(spoken.recognize_pending) == 2
    assert run(spoken.recognize_pending) == 0
    assert all(answers(db, a)["fever"].value == "no" for a in ids)


def test_the_run_loop_warms_up_and_without_a_recogniser_still_resolves(db, records, tmp_path):
    class BrokenPool(FakePool):
        async def warm_up(self) -> None:
            from callengine.errors import CallengineError
            raise CallengineError("speech recognition unavailable: pip install vosk==0.3.45")

    pool = BrokenPool()
    spoken = make_spoken(records, tmp_path, pool)
    attempt_id = ended_with_pending(db, records, spoken)

    async def scenario():
        stop = asyncio.Event()
        loop = asyncio.create_task(spoken.run(stop))
        await until(lambda: answers(db, attempt_id)["fever"].value != VALUE_PENDING)
        stop.set()
        await asyncio.wait_for(loop, 3)
    run(scenario)
    assert spoken.available is False
    assert answers(db, attempt_id)["fever"].value == "unknown"
    assert flags(db)[FLAG_SPEECH_REVIEW] == "fever"


# --- recordings nobody needs -------------------------------------------------------------

def test_discard_unused_keeps_only_recordings_an_answer_refers_to(db, records, tmp_path):
    attempt_id = start_call(db, records)
    pool = FakePool({contract.recording_name(attempt_id, "cough", 1): NO})
    spoken = make_spoken(records, tmp_path, pool)
    run(lambda: spoken.handle_agi(request(attempt_id, "cough", "1"), FakeSession()))
    kept = recording(spoken, attempt_id, "cough", 1)
    unclear_then_keyed = recording(spoken, attempt_id, "fever", 0)
    silent = recording(spoken, attempt_id, "cough", 0)
    other_call = recording(spoken, str(uuid.uuid4()), "fever", 0)
    notes = spoken.recordings / "README.txt"
    notes.write_text("not a recording")
    finish(records, attempt_id, fever="1", cough="2")
    spoken.discard_unused(attempt_id)
    assert kept.exists() and other_call.exists() and notes.exists()
    assert not unclear_then_keyed.exists() and not silent.exists()


def test_discard_unused_keeps_a_pending_answers_recording(db, records, tmp_path):
    spoken = make_spoken(records, tmp_path)
    attempt_id = ended_with_pending(db, records, spoken, try_no=2)
    earlier = recording(spoken, attempt_id, "fever", 1)
    spoken.discard_unused(attempt_id)
    assert (spoken.recordings / contract.recording_name(attempt_id, "fever", 2)).exists()
    assert not earlier.exists()


# --- keys -------------------------------------------------------------------------------

def test_key_for_gives_the_questions_keys():
    fever = QUESTIONNAIRE.question("fever")
    assert key_for(fever, "yes") == "1"
    assert key_for(fever, "no") == "2"
    assert key_for(fever, "unknown") == contract.KEY_UNKNOWN
    assert key_for(fever, "maybe") == contract.KEY_UNKNOWN
    for question in QUESTIONNAIRE.questions:
        for answer in ("yes", "no"):
            assert question.keys[key_for(question, answer)] == answer


def test_recordings_past_their_keeping_time_are_deleted(db, records, tmp_path):
    import os

    clock = FakeClock()
    spoken = make_spoken(records, tmp_path, FakePool(), clock)
    spoken.recordings.mkdir(parents=True, exist_ok=True)
    old, recent = spoken.recordings / "old.wav", spoken.recordings / "recent.wav"
    for path, age_days in ((old, 31), (recent, 29)):
        path.write_bytes(b"RIFF")
        when = clock.now().timestamp() - age_days * 86400
        os.utime(path, (when, when))
    assert spoken.purge_expired(30) == 1
    assert not old.exists() and recent.exists()


# --- who may write an answer ------------------------------------------------------------

CALLBACK_HEARD = Recognition(heard=True, answer="callback", text="gọi lại cho tôi",
                             confidence=0.8)


def test_a_request_for_an_ended_call_recognises_and_writes_nothing(db, records, tmp_path):
    attempt_id = start_call(db, records)
    finish(records, attempt_id, fever="2", cough="2")
    pool = FakePool({contract.recording_name(attempt_id, "fever", 0): YES})
    session = FakeSession()
    run(lambda: make_spoken(records, tmp_path, pool).handle_agi(request(attempt_id), session))
    assert (pool.calls, session.sets) == ([], [])
    row = answers(db, attempt_id)["fever"]
    assert (row.value, row.source) == ("no", contract.SOURCE_DTMF)
    assert flags(db) == {}


def test_a_request_from_another_channel_is_refused(db, records, tmp_path):
    attempt_id = start_call(db, records)
    pool = FakePool({contract.recording_name(attempt_id, "fever", 0): YES})
    forged = AgiRequest(contract.AGI_RECOGNIZE, (attempt_id, "fever", "0"),
                        {"agi_uniqueid": str(uuid.uuid4())})
    session = FakeSession()
    run(lambda: make_spoken(records, tmp_path, pool).handle_agi(forged, session))
    assert (pool.calls, session.sets, answers(db, attempt_id)) == ([], [], {})


def test_a_request_for_another_servers_call_is_refused(db, tmp_path):
    other = make_records(db, server_id="server-b")
    attempt_id = start_call(db, other)
    pool = FakePool({contract.recording_name(attempt_id, "fever", 0): YES})
    session = FakeSession()
    run(lambda: make_spoken(make_records(db), tmp_path, pool).handle_agi(
        request(attempt_id), session))
    assert (pool.calls, session.sets, answers(db, attempt_id)) == ([], [], {})


def test_a_spoken_answer_never_replaces_a_keyed_one(db, records, tmp_path):
    attempt_id = start_call(db, records)
    records.save_answers(attempt_id, {"fever": "2"}, NOW)  # pressed 2 (no fever)
    pool = FakePool({contract.recording_name(attempt_id, "fever", 1): YES})
    session = FakeSession()
    run(lambda: make_spoken(records, tmp_path, pool).handle_agi(
        request(attempt_id, "fever", "1"), session))
    assert session.sets == []
    row = answers(db, attempt_id)["fever"]
    assert (row.value, row.key, row.source, row.transcript) == \
        ("no", "2", contract.SOURCE_DTMF, None)


def test_a_spoken_call_back_request_answers_the_call_back_key_and_stores_no_answer(
        db, records, tmp_path):
    attempt_id = start_call(db, records)
    pool = FakePool({contract.recording_name(attempt_id, "fever", 0): CALLBACK_HEARD})
    session = FakeSession()
    run(lambda: make_spoken(records, tmp_path, pool).handle_agi(request(attempt_id), session))
    assert session.sets == [(contract.VAR_HEARD, QUESTIONNAIRE.callback_key)]
    assert answers(db, attempt_id) == {}  # the dialplan flags it and asks the question again


def test_a_call_back_request_heard_after_the_call_flags_the_task(db, records, tmp_path):
    from callengine.store.models import CallTask

    pool = FakePool()
    spoken = make_spoken(records, tmp_path, pool)
    attempt_id = ended_with_pending(db, records, spoken)
    pool.results[contract.recording_name(attempt_id, "fever", 1)] = CALLBACK_HEARD
    assert run(spoken.recognize_pending) == 1
    with db.session() as s:
        assert s.scalar(select(CallTask.callback_requested)) is True
    assert answers(db, attempt_id)["fever"].value == "unknown"


def test_over_the_socket_a_forged_request_for_an_ended_call_changes_nothing(
        db, records, tmp_path):
    """A local process speaks FastAGI to the engine's port about a call that has ended."""
    from callengine.agi.server import FastAgiServer
    from tests.unit.test_agi_server import asterisk_call, free_port

    attempt_id = start_call(db, records)
    finish(records, attempt_id, fever="2", cough="2")
    pool = FakePool({contract.recording_name(attempt_id, "fever", 1): YES})
    spoken = make_spoken(records, tmp_path, pool)

    async def scenario():
        server = FastAgiServer("127.0.0.1", free_port(),
                               {contract.AGI_RECOGNIZE: spoken.handle_agi})
        await server.start()
        try:
            return await asterisk_call(server, attempt=attempt_id)
        finally:
            await server.close()
    command, _ = run(scenario)
    assert command == b""
    assert pool.calls == []
    assert answers(db, attempt_id)["fever"].source == contract.SOURCE_DTMF
