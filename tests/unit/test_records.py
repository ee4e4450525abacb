"""Task claiming, attempt records and answers, on SQLite and the real PostgreSQL server."""

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError

from callengine.dialer.records import AttemptRecords, Ending
from callengine.dialer.retry import RetryPolicy
from callengine.dialer.window import Window
from callengine.questionnaire import load_questionnaire
from callengine.settings import DEFAULT_QUESTIONNAIRE, Settings, parse_window
from callengine.store.models import CallAttempt
from callengine.tasks import schedule_call

DAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)  # 10:00 local


@pytest.fixture
def records(db):
    window = Window(parse_window("w", "08:00-20:00"), "Asia/Ho_Chi_Minh", 300)
    return AttemptRecords(db, load_questionnaire(DEFAULT_QUESTIONNAIRE),
                          RetryPolicy.from_settings(Settings()), window, "server-a")


def due_one(records):
    [task] = records.due_tasks(DAY, NOW, 10)
    return task


def test_a_task_is_claimed_once_even_when_two_dialers_race(db, records):
    schedule_call(db, "0912345678", DAY, NOW)
    task = due_one(records)
    other = AttemptRecords(db, records.questionnaire, records.policy, records.window, "server-b")
    assert records.claim(task, "a1", "viettel", NOW)
    assert not other.claim(task, "b1", "viettel", NOW)
    assert records.due_tasks(DAY, NOW, 10) == []


def test_the_database_refuses_a_second_live_call_to_one_person(db, records):
    schedule_call(db, "0912345678", DAY, NOW)
    task = due_one(records)
    records.claim(task, "a1", "viettel", NOW)
    with pytest.raises(IntegrityError):
        with db.session() as s:
            s.add(CallAttempt(id="a2", task_id=task.task_id, person_id=task.person_id,
                              phone=task.phone, trunk="vnpt", server_id="x",
                              created_at=NOW.replace(tzinfo=None)))


def test_busy_schedules_a_retry_and_finishing_twice_changes_nothing(db, records):
    schedule_call(db, "0912345678", DAY, NOW)
    task = due_one(records)
    records.claim(task, "a1", "viettel", NOW)
    assert records.finish("a1", Ending("busy", cause=17, sip_code=486), NOW)
    assert not records.finish("a1", Ending("completed"), NOW)  # a late duplicate report
    assert records.next_due_at(DAY) == NOW + timedelta(minutes=15)
    assert records.due_tasks(DAY, NOW + timedelta(minutes=15), 10)[0].task_id == task.task_id


def test_answers_are_stored_as_they_come_and_completed_closes_the_day(db, records):
    schedule_call(db, "0912345678", DAY, NOW)
    task = due_one(records)
    records.claim(task, "a1", "viettel", NOW)
    records.answered("a1", NOW)
    records.save_answers("a1", {"fever": "1"}, NOW)
    records.finish("a1", Ending("completed", stage="done", answers={
        "fever": "1", "cough": "2", "breath": "?", "callback": "cough"}), NOW)
    with db.session() as s:
        attempt = s.get(CallAttempt, "a1")
        values = {a.question_id: a.value for a in attempt.answers}
        assert values == {"fever": "yes", "cough": "no", "breath": "unknown"}
        assert attempt.task.status == "done" and attempt.task.callback_requested
    assert schedule_call(db, "0912345678", DAY, NOW).status.startswith("đã hoàn thành")


def test_no_retry_is_scheduled_past_the_window(db, records):
    late = datetime(2026, 11, 30, 12, 30, tzinfo=timezone.utc)  # 19:30 local
    schedule_call(db, "0912345678", DAY, late)
    [task] = records.due_tasks(DAY, late, 10)
    records.claim(task, "a1", "viettel", late)
    records.finish("a1", Ending("no_answer", cause=19), late)  # +60 min is past 19:55
    assert records.next_due_at(DAY) is None
    assert records.open_task_count(DAY) == 0


def test_one_person_per_number_and_one_task_per_day(db, records):
    first = schedule_call(db, "0912345678", DAY, NOW)
    again = schedule_call(db, "+84 912 345 678", DAY, NOW)
    assert first.person_id == again.person_id
    assert len(records.due_tasks(DAY, NOW, 10)) == 1
