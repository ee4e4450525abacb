"""Flags to work on in the admin's tests: a fixed clock at the casework tests' NOW (10:00 in
Hanoi, the call window open), a recordings folder, and a symptom flag with a spoken answer."""

from __future__ import annotations

import uuid
import wave
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from callengine.contract import recording_name
from callengine.store.models import Answer, CallTask
from callengine.store.supervision import Flag
from tests.unit.casework_helpers import NOW, add_attempt, add_flag, add_person, add_task

HOSTILE = "<script>alert(1)</script>"


class FixedClock:
    """NOW, plus whatever a test has skipped ahead."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self):
        return NOW + self.offset

    def monotonic(self) -> float:
        return 1000.0 + self.offset.total_seconds()

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def write_wav(path: Path, seconds: float = 1.0) -> bytes:
    """A telephone-format WAV (8 kHz mono 16-bit) of a 440 Hz tone; its bytes."""
    import math
    import struct

    frames = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 8000)))
                      for i in range(int(8000 * seconds)))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(frames)
    return path.read_bytes()


@dataclass
class Seeded:
    flag_id: int
    person_id: int
    answer_id: int  # the spoken answer (with its recording name)
    keyed_answer_id: int  # an answer by key, without recording
    recording: str  # the recording's file name


def seed_flag(db, *, name: str = "Nguyễn Văn An", phone: str = "+84912345678",
              kind: str = "symptom", urgent: bool = True, age: timedelta = timedelta(0),
              district: str = "Nga Sơn", commune: str = "Nga Liên",
              task_status: str = "done", outcome: str = "completed") -> Seeded:
    """A person, today's call with a spoken 'yes' to fever and a keyed 'no', and a flag."""
    recording = recording_name(str(uuid.uuid4()), "fever", 1)
    with db.session() as s:
        person = add_person(s, phone, name, district=district, commune=commune)
        task = add_task(s, person, status=task_status, last_outcome=outcome)
        attempt = add_attempt(s, task, outcome=outcome, answers=[
            ("fever", "yes", "speech", "có tôi bị sốt", recording),
            ("cough", "no", "dtmf", None, None)])
        flag = add_flag(s, person, kind=kind, urgent=urgent, created=NOW - age, task=task,
                        attempt=attempt)
        s.flush()
        answers = dict(s.execute(select(Answer.question_id, Answer.id)
                                 .where(Answer.attempt_id == attempt.id)).all())
        return Seeded(flag.id, person.id, answers["fever"], answers["cough"], recording)


def flag_row(db, flag_id: int) -> Flag:
    with db.session() as s:
        return s.get(Flag, flag_id)


def task_of(db, person_id: int) -> CallTask:
    with db.session() as s:
        return s.scalars(select(CallTask).where(CallTask.person_id == person_id)
                         .order_by(CallTask.id.desc())).first()
