"""Greeting by name: the words per person, audio rendered at plan time and cached, the task's
greeting carried to the Originate, and the migration, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import unicodedata
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from alembic import command
from sqlalchemy import inspect, select, text

from callengine import contract, greetings
from callengine.cdr import CdrReader
from callengine.clock import to_db
from callengine.dialer.records import AttemptRecords
from callengine.dialer.retry import RetryPolicy
from callengine.dialer.routing import TrunkRouter
from callengine.dialer.service import Dialer
from callengine.dialer.window import Window
from callengine.errors import CallengineError
from callengine.greetings import attach_greetings, greeting_text
from callengine.planning import plan_day
from callengine.questionnaire import load_questionnaire
from callengine.scheduler import run_daily_plan
from callengine.settings import DEFAULT_QUESTIONNAIRE, Settings, parse_window
from callengine.speech.audio import pcm_format, read_pcm16, write_pcm16
from callengine.speech.tts import EspeakSynthesizer, SynthesisUnavailable
from callengine.store.db import Database, make_engine
from callengine.store.models import CallTask, MonitoringPeriod, Person
from tests.migrations import migrate

DAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 0, 30, tzinfo=timezone.utc)  # 07:30 local
WINDOW = Window(parse_window("w", "08:00-20:00"), "Asia/Ho_Chi_Minh", 300)
GREETINGS = Path("/var/lib/asterisk/sounds/callengine/greetings")  # Asterisk's view


# --- the words -------------------------------------------------------------------------------

@pytest.mark.parametrize("full_name, sex, birth_year, expected", [
    ("Nguyễn Văn An", "Nam", 1990, "Xin chào anh An."),
    ("Lê Thị Lan", "Nữ", 1950, "Xin chào bà Lan."),
    ("Trần Văn Hùng", "Nam", 1948, "Xin chào ông Hùng."),
    ("Phạm Thị Thu Hằng", "Nữ", 1995, "Xin chào chị Hằng."),
    # 60 in 2026 (the age of "người cao tuổi") is ông/bà, a year younger anh/chị
    ("Hoàng Văn Thụ", "Nam", 1966, "Xin chào ông Thụ."),
    ("Hoàng Văn Thụ", "Nam", 1967, "Xin chào anh Thụ."),
    ("Đặng Thị Hồng", "Nữ", 1966, "Xin chào bà Hồng."),
    ("Đặng Thị Hồng", "Nữ", 1967, "Xin chào chị Hồng."),
    # odd spacing and case; accents kept, capitalised in NFC
    ("  đặng   thị   NGỌC  ánh ", "Nữ", None, "Xin chào chị Ánh."),
    ("NGUYỄN ĐỨC ĐẠT", "nam", 1980, "Xin chào anh Đạt."),
    ("Nguyễn\u00a0Văn\tƯớc", "Nam", 1985, "Xin chào anh Ước."),
    (unicodedata.normalize("NFD", "hoàng thị thuỷ"), "Nữ", 1992, "Xin chào chị Thuỷ."),
    # notes, digits and punctuation are not part of the name
    ("Lê Thị Hoa (vợ)", "Nữ", 1970, "Xin chào chị Hoa."),
    ("Trần Văn Bình 2", "Nam", 1970, "Xin chào anh Bình."),
    ("Ngô Quyền.", "Nam", 1970, "Xin chào anh Quyền."),
    ("Huỳnh Tấn Phát,0912345678", "Nam", 1970, "Xin chào anh Phát."),
    # sex written other ways; unknown sex is anh/chị (ông/bà when old)
    ("Vũ Thị Yến", "NỮ", 1990, "Xin chào chị Yến."),
    ("Vũ Thị Yến", "female", 1990, "Xin chào chị Yến."),
    ("Võ Minh Tuấn", None, 1985, "Xin chào anh chị Tuấn."),
    ("Võ Minh Tuấn", "", None, "Xin chào anh chị Tuấn."),
    ("Võ Minh Tuấn", "không rõ", 1985, "Xin chào anh chị Tuấn."),
    ("Bùi Thị Lụa", None, 1940, "Xin chào ông bà Lụa."),
    # unknown or impossible birth year: anh/chị
    ("Đinh Văn Lộc", "Nam", None, "Xin chào anh Lộc."),
    ("Lý Thị Mai", "Nữ", 1800, "Xin chào chị Mai."),
    ("Lý Thị Mai", "Nữ", 2030, "Xin chào chị Mai."),
])
def test_a_person_is_greeted_by_address_and_given_name(full_name, sex, birth_year, expected):
    greeting = greeting_text(full_name, sex, birth_year, DAY)
    assert greeting == expected
    assert unicodedata.is_normalized("NFC", greeting)


@pytest.mark.parametrize("full_name", [
    "", None, "   ", "123", "(không rõ)", "—", "Nguyễn Văn A", "0912.345.678",
])
def test_without_a_usable_name_there_is_no_greeting(full_name):
    assert greeting_text(full_name, "Nam", 1980, DAY) is None


# --- rendering at plan time ------------------------------------------------------------------

def settings_for(tmp_path: Path) -> Settings:
    return Settings(greetings_dir=GREETINGS, asterisk_root=tmp_path / "asterisk")


def on_engine_host(settings: Settings, sound: str) -> Path:
    return settings.on_engine_host(Path(sound + ".wav"))


class CountingSynthesizer(EspeakSynthesizer):
    """espeak-ng, counting what it speaks; fails for texts containing `fail`."""

    def __init__(self, fail: str | None = None, error=CallengineError):
        super().__init__()
        self.spoken: list[str] = []
        self.fail, self.error = fail, error

    def synthesize(self, text, workdir):
        self.spoken.append(text)
        if self.fail and self.fail in text:
            raise self.error("espeak-ng failed: voice data broken")
        return self.speak(text, workdir)

    def speak(self, text, workdir):
        return super().synthesize(text, workdir)


class ToneSynthesizer(CountingSynthesizer):
    """A speech-like tone instead of espeak-ng (fast); same counting and failures."""

    engine = "tone"

    def speak(self, text, workdir):
        rate = 16000
        t = np.arange(rate) / rate
        path = Path(workdir) / "tone.wav"
        write_pcm16(path, np.concatenate([np.zeros(rate // 2), 0.5 * np.sin(2 * np.pi * 220 * t),
                                          np.zeros(rate // 2)]), rate)
        return path


def add_person(s, phone, full_name="", sex=None, birth_year=None, day=DAY):
    row = Person(phone=phone, carrier="viettel", full_name=full_name, sex=sex,
                 birth_year=birth_year, status="monitoring", created_at=to_db(NOW),
                 updated_at=to_db(NOW))
    s.add(row)
    s.flush()
    s.add(MonitoringPeriod(person_id=row.id, category="F1", start_date=day - timedelta(days=2),
                           end_date=day + timedelta(days=10), created_at=to_db(NOW)))
    return row.id


def greeting_of(db, phone, day=DAY):
    with db.session() as s:
        return s.scalar(select(CallTask.greeting).join(Person)
                        .where(Person.phone == phone, CallTask.day == day))


@pytest.fixture
def people(db):
    with db.session() as s:
        add_person(s, "+84912000001", "Nguyễn Văn An", "Nam", 1990)
        add_person(s, "+84912000002", "trần  văn AN", "Nam", 1988)  # same greeting
        add_person(s, "+84912000003", "Lê Thị Lan", "Nữ", 1950)
        add_person(s, "+84912000004", "", None, None)  # no name
    return db


def test_greetings_are_rendered_at_plan_time_as_telephone_audio_shared_by_text(people,
                                                                               tmp_path):
    db, settings, synth = people, settings_for(tmp_path), CountingSynthesizer()
    plan_day(db, DAY, NOW, WINDOW)
    result = attach_greetings(db, DAY, settings, synth)

    an1, an2, lan = (greeting_of(db, f"+8491200000{i}") for i in (1, 2, 3))
    assert an1 == an2 != lan
    assert greeting_of(db, "+84912000004") is None
    assert sorted(synth.spoken) == ["Xin chào anh An.", "Xin chào bà Lan."]
    assert (result.greeted, result.rendered, result.unnamed, result.failed) == (3, 2, 1, 0)
    for sound in (an1, lan):
        assert Path(sound).parent == GREETINGS and not sound.endswith(".wav")  # Asterisk view
        wav = on_engine_host(settings, sound)
        assert pcm_format(wav) == (8000, 1, 2)
        samples, rate = read_pcm16(wav)
        assert 0.3 < samples.size / rate < 5
        assert wav.with_suffix(".alaw").stat().st_size == samples.size
    assert len(list(on_engine_host(settings, an1).parent.glob("*.wav"))) == 2


def test_a_replan_and_the_next_day_render_nothing_new(people, tmp_path):
    db, settings = people, settings_for(tmp_path)
    plan_day(db, DAY, NOW, WINDOW)
    attach_greetings(db, DAY, settings, CountingSynthesizer())
    folder = on_engine_host(settings, greeting_of(db, "+84912000001")).parent
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}

    again = CountingSynthesizer()
    plan_day(db, DAY, NOW, WINDOW)
    assert attach_greetings(db, DAY, settings, again).greeted == 0
    tomorrow = DAY + timedelta(days=1)
    plan_day(db, tomorrow, NOW + timedelta(days=1), WINDOW)
    result = attach_greetings(db, tomorrow, settings, again)

    assert again.spoken == []
    assert (result.greeted, result.rendered, result.reused) == (3, 0, 2)
    assert greeting_of(db, "+84912000003", tomorrow) == greeting_of(db, "+84912000003")
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


def test_a_failed_synthesis_leaves_that_call_without_greeting_and_the_plan_succeeds(
        people, tmp_path, caplog):
    db, settings = people, settings_for(tmp_path)
    plan = plan_day(db, DAY, NOW, WINDOW)
    with caplog.at_level(logging.WARNING, logger="callengine.greetings"):
        result = attach_greetings(db, DAY, settings, ToneSynthesizer(fail="Lan"))
    assert plan.created == 4
    assert greeting_of(db, "+84912000003") is None
    assert greeting_of(db, "+84912000001") is not None
    assert (result.greeted, result.failed) == (2, 1)
    with db.session() as s:
        lan_id = s.scalar(select(Person.id).where(Person.phone == "+84912000003"))
    assert f"person id {lan_id}" in caplog.text
    for private in ("Lê Thị Lan", "Lan", "912000003"):  # personal data never in the log
        assert private not in caplog.text

    retried = attach_greetings(db, DAY, settings, ToneSynthesizer())  # the next plan retries
    assert (retried.greeted, retried.rendered) == (1, 1)
    assert greeting_of(db, "+84912000003") is not None


def test_the_daily_job_plans_even_when_no_greeting_can_be_synthesised(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    for name, value in {"DATABASE_URL": url, "ASTERISK_ROOT": str(tmp_path / "asterisk"),
                        "GREETINGS_DIR": str(GREETINGS)}.items():
        monkeypatch.setenv(f"CALLENGINE_{name}", value)
    monkeypatch.delenv("CALLENGINE_CONFIG", raising=False)
    today = WINDOW.local_day(datetime.now(timezone.utc))
    db = Database(url)
    with db.session() as s:
        add_person(s, "+84912000001", "Nguyễn Văn An", "Nam", 1990, day=today)
        add_person(s, "+84912000002", "Lê Thị Lan", "Nữ", 1950, day=today)
    unavailable = ToneSynthesizer(fail="Xin chào", error=SynthesisUnavailable)
    monkeypatch.setattr(greetings, "make_synthesizer", lambda *a, **k: unavailable)

    run_daily_plan()

    with db.session() as s:
        tasks = s.execute(select(CallTask.status, CallTask.greeting)
                          .where(CallTask.day == today)).all()
    assert sorted(tasks) == [("pending", None), ("pending", None)]
    assert len(unavailable.spoken) == 1  # the engine is missing: not tried once per person
    db.dispose()


def test_the_plan_command_renders_greetings(tmp_path, monkeypatch, capsys):
    from callengine.cli import main

    url = f"sqlite:///{tmp_path / 'c.db'}"
    monkeypatch.setenv("CALLENGINE_DATABASE_URL", url)
    monkeypatch.setenv("CALLENGINE_ASTERISK_ROOT", str(tmp_path / "asterisk"))
    monkeypatch.delenv("CALLENGINE_CONFIG", raising=False)
    db = Database(url)
    with db.session() as s:
        add_person(s, "+84912000001", "Phạm Thị Thu Hằng", "Nữ", 1995)
    assert main(["plan", "--date", DAY.isoformat()]) == 0
    sound = greeting_of(db, "+84912000001")
    settings = Settings(asterisk_root=tmp_path / "asterisk")
    assert Path(sound).parent == settings.greetings_dir
    assert pcm_format(on_engine_host(settings, sound)) == (8000, 1, 2)
    assert "Lời chào theo tên: 1 cuộc gọi (1 tệp mới)" in capsys.readouterr().out
    db.dispose()


# --- the dialer --------------------------------------------------------------------------------

class RecordingAmi:
    def __init__(self):
        self.originates: list[dict[str, str]] = []

    async def send_action(self, name, headers, action_id=None):
        assert name == "Originate"
        self.originates.append(dict(value.split("=", 1) for key, value in headers
                                    if key == "Variable"))


def test_due_tasks_carry_the_greeting_into_the_originate(people, tmp_path):
    db, settings = people, settings_for(tmp_path)
    plan_day(db, DAY, NOW, WINDOW)
    attach_greetings(db, DAY, settings, ToneSynthesizer())
    records = AttemptRecords(db, load_questionnaire(DEFAULT_QUESTIONNAIRE),
                             RetryPolicy.from_settings(settings), WINDOW, "server-a")
    dialing = NOW + timedelta(hours=2)
    due = records.due_tasks(DAY, dialing, 10)
    with db.session() as s:
        phones = dict(s.execute(select(Person.id, Person.phone)).all())
    by_phone = {phones[task.person_id]: task for task in due}
    assert by_phone["+84912000003"].greeting == greeting_of(db, "+84912000003")
    assert by_phone["+84912000001"].greeting == greeting_of(db, "+84912000001")
    assert by_phone["+84912000004"].greeting is None

    ami = RecordingAmi()
    clock = SimpleNamespace(now=lambda: dialing, monotonic=lambda: 100.0)
    dialer = Dialer(settings=settings, records=records,
                    supervisor=SimpleNamespace(client=ami), window=WINDOW,
                    router=TrunkRouter(settings.trunks, settings.default_trunk, 3, 60),
                    cdr=CdrReader(tmp_path / "cdr.csv"), clock=clock,
                    survey_variables={contract.VAR_QUESTIONS: "fever:12"})
    trunk = settings.trunks[0]

    async def originate_both():
        await dialer._originate(by_phone["+84912000003"], trunk)
        await dialer._originate(by_phone["+84912000004"], trunk)

    asyncio.run(originate_both())
    greeted, plain = ami.originates
    assert greeted[contract.VAR_GREETING] == greeting_of(db, "+84912000003")
    assert greeted[contract.VAR_QUESTIONS] == "fever:12"
    assert contract.VAR_GREETING not in plain and plain[contract.VAR_QUESTIONS] == "fever:12"


# --- the migration ---------------------------------------------------------------------------

def test_the_migration_adds_and_removes_the_greeting_column(database_url):
    engine = make_engine(database_url)
    def columns():
        return {c["name"]: c for c in inspect(engine).get_columns("call_tasks")}

    migrate(engine, command.upgrade, "0003")
    assert "greeting" not in columns()
    with engine.begin() as connection:  # a day already planned before the upgrade
        connection.execute(text(
            "INSERT INTO people (id, full_name, name_key, phone, alt_phones, carrier, status, "
            "created_at, updated_at) VALUES (1, 'Lê Thị Lan', 'le thi lan', '+84912000003', "
            "'', 'viettel', 'monitoring', :t, :t)"), {"t": to_db(NOW)})
        connection.execute(text(
            "INSERT INTO call_tasks (person_id, day, status, attempts, callback_requested, "
            "created_at, updated_at) VALUES (1, :d, 'pending', 0, false, :t, :t)"),
            {"d": DAY, "t": to_db(NOW)})
    migrate(engine, command.upgrade, "head")
    greeting = columns()["greeting"]
    assert greeting["nullable"] and greeting["type"].length == 200
    with engine.begin() as connection:
        assert connection.execute(text("SELECT greeting FROM call_tasks")).scalar_one() is None
        connection.execute(text("UPDATE call_tasks SET greeting = :g"),
                           {"g": str(GREETINGS / ("a" * 64))})
    migrate(engine, command.downgrade, "0003")
    assert "greeting" not in columns()
    with engine.begin() as connection:  # the day's call survives the downgrade
        assert connection.execute(text("SELECT count(*) FROM call_tasks")).scalar_one() == 1
    engine.dispose()


def test_greeting_files_hold_names_and_are_readable_by_their_owner_only(people, tmp_path):
    import os
    import stat

    db, settings = people, settings_for(tmp_path)
    plan_day(db, DAY, NOW, WINDOW)
    old = os.umask(0o022)
    try:
        attach_greetings(db, DAY, settings, ToneSynthesizer())
    finally:
        os.umask(old)
    sound = on_engine_host(settings, greeting_of(db, "+84912000003"))
    modes = {stat.S_IMODE(p.stat().st_mode) for p in (sound, sound.with_suffix(".alaw"))}
    assert modes == {0o600}
    assert stat.S_IMODE(sound.parent.stat().st_mode) == 0o700
