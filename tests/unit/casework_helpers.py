"""Factories for the casework tests: people, a day's call, its attempt and answers, flags."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

from callengine.clock import to_db
from callengine.dialer.window import Window
from callengine.importer.text import fold
from callengine.questionnaire import load_questionnaire
from callengine.settings import DEFAULT_QUESTIONNAIRE, parse_window
from callengine.store.models import (
    Answer,
    CallAttempt,
    CallTask,
    MonitoringPeriod,
    Person,
)
from callengine.store.supervision import Flag

DAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)  # 10:00 local: the window is open
EVENING = datetime(2026, 11, 30, 13, 0, tzinfo=timezone.utc)  # 20:00 local: closed
WINDOW = Window(parse_window("w", "08:00-20:00"), "Asia/Ho_Chi_Minh", 300)
QUESTIONNAIRE = load_questionnaire(DEFAULT_QUESTIONNAIRE)


def add_person(s, phone: str = "+84912345678", name: str = "Nguyễn Văn An", *,
               status: str = "monitoring", category: str = "F1", district: str = "Nga Sơn",
               commune: str = "Nga Liên", national_id: str | None = None,
               alt_phones: str = "", period: tuple[date, date] | None = None) -> Person:
    start, end = period or (DAY - timedelta(days=3), DAY + timedelta(days=11))
    person = Person(full_name=name, name_key=fold(name), phone=phone, alt_phones=alt_phones,
                    carrier="viettel", national_id=national_id, category=category,
                    district=district, commune=commune, status=status,
                    monitoring_start=start, monitoring_end=end,
                    created_at=to_db(NOW), updated_at=to_db(NOW))
    s.add(person)
    s.flush()
    s.add(MonitoringPeriod(person_id=person.id, category=category, start_date=start,
                           end_date=end, created_at=to_db(NOW)))
    return person


def add_task(s, person: Person, *, day: date = DAY, status: str = "done",
             last_outcome: str | None = "completed", attempts: int = 1,
             origin: str = "plan", next_at: datetime | None = None) -> CallTask:
    task = CallTask(person_id=person.id, day=day, status=status, origin=origin,
                    attempts=attempts, last_outcome=last_outcome,
                    next_attempt_at=to_db(next_at) if next_at else None,
                    created_at=to_db(NOW), updated_at=to_db(NOW))
    s.add(task)
    s.flush()
    return task


def add_attempt(s, task: CallTask, *, outcome: str = "completed", answers=(),
                at: datetime = NOW, state: str = "ended") -> CallAttempt:
    """answers: (question id, value, source, transcript, audio) tuples."""
    attempt = CallAttempt(id=str(uuid.uuid4()), task_id=task.id, person_id=task.person_id,
                          phone="+84912345678", trunk="viettel", server_id="srv-1",
                          state=state, outcome=outcome if state == "ended" else None,
                          cause=16, sip_code=200, created_at=to_db(at),
                          ended_at=to_db(at + timedelta(minutes=2)))
    s.add(attempt)
    s.flush()
    for qid, value, source, transcript, audio in answers:
        s.add(Answer(attempt_id=attempt.id, question_id=qid, value=value, source=source,
                     key="1" if value == "yes" else "2", transcript=transcript,
                     confidence=0.9 if transcript else None, audio_path=audio,
                     created_at=to_db(at)))
    return attempt


def add_flag(s, person: Person, *, kind: str = "symptom", urgent: bool = False,
             created: datetime = NOW, task: CallTask | None = None,
             attempt: CallAttempt | None = None, detail: str | None = "fever") -> Flag:
    task = task or add_task(s, person, day=created.date())
    flag = Flag(person_id=person.id, task_id=task.id, attempt_id=attempt.id if attempt else None,
                kind=kind, urgent=urgent, detail=detail, day=task.day,
                created_at=to_db(created))
    s.add(flag)
    s.flush()
    return flag
