"""The daily plan, the scheduler lease and supervisor flags, on SQLite and PostgreSQL."""

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, select

from callengine.dialer.records import AttemptRecords, Ending
from callengine.dialer.retry import RetryPolicy
from callengine.dialer.window import Window
from callengine.flags import attempt_flags
from callengine.planning import plan_day
from callengine.questionnaire import load_questionnaire
from callengine.settings import DEFAULT_QUESTIONNAIRE, Settings, parse_window
from callengine.store.models import CallTask, MonitoringPeriod, Person
from callengine.store.supervision import Flag

DAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 0, 30, tzinfo=timezone.utc)  # 07:30 local
WINDOW = Window(parse_window("w", "08:00-20:00"), "Asia/Ho_Chi_Minh", 300)
QUESTIONNAIRE = load_questionnaire(DEFAULT_QUESTIONNAIRE)


def person(s, phone, status="monitoring",
           periods=((DAY - timedelta(days=3), DAY + timedelta(days=11)),)):
    row = Person(phone=phone, carrier="viettel", status=status,
                 created_at=NOW.replace(tzinfo=None), updated_at=NOW.replace(tzinfo=None))
    s.add(row)
    s.flush()
    for start, end in periods:
        s.add(MonitoringPeriod(person_id=row.id, category="F1", start_date=start, end_date=end,
                               created_at=NOW.replace(tzinfo=None)))
    return row


def tasks_for(db, day):
    with db.session() as s:
        return {p: st for p, st in s.execute(
            select(Person.phone, CallTask.status).join(CallTask).where(CallTask.day == day))}


def test_the_plan_calls_exactly_the_people_whose_monitoring_covers_the_day(db):
    with db.session() as s:
        person(s, "+84912000001")  # monitored
        person(s, "+84912000002", status="F0")  # a patient: stored, not called
        person(s, "+84912000003", status="closed")  # closed by a supervisor
        person(s, "+84912000004", periods=((DAY - timedelta(days=20), DAY - timedelta(days=6)),))
        person(s, "+84912000005", periods=((DAY + timedelta(days=1), DAY + timedelta(days=14)),))
    result = plan_day(db, DAY, NOW, WINDOW)
    assert tasks_for(db, DAY) == {"+84912000001": "pending"}
    assert (result.created, result.ended) == (1, 1)
    with db.session() as s:
        assert s.scalar(select(Person.status).where(Person.phone == "+84912000004")) == "ended"
        first = s.scalar(select(CallTask.next_attempt_at))
    assert first == datetime(2026, 11, 30, 1, 0)  # the window's opening, 08:00 local


def test_planning_twice_creates_nothing_more(db):
    with db.session() as s:
        person(s, "+84912000001")
    plan_day(db, DAY, NOW, WINDOW)
    assert plan_day(db, DAY, NOW, WINDOW).created == 0
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(CallTask)) == 1


def test_a_person_closed_after_planning_has_todays_call_cancelled(db):
    with db.session() as s:
        person(s, "+84912000001")
    plan_day(db, DAY, NOW, WINDOW)
    with db.session() as s:
        s.scalars(select(Person)).one().status = "closed"
    assert plan_day(db, DAY, NOW, WINDOW).cancelled_total == 1
    assert tasks_for(db, DAY) == {"+84912000001": "cancelled"}


def test_symptoms_callbacks_and_invalid_numbers_raise_flags():
    flags = attempt_flags("completed", {"fever": "yes", "breath": "yes", "cough": "no"}, True,
                          QUESTIONNAIRE)
    assert [(f.kind, f.urgent, f.detail) for f in flags] == [
        ("symptom", True, "fever, breath"), ("callback", False, None)]
    assert [f.kind for f in attempt_flags("invalid_number", {}, False, QUESTIONNAIRE)] == [
        "invalid_number"]
    assert attempt_flags("completed", {"fever": "no"}, False, QUESTIONNAIRE) == []
    assert not attempt_flags("completed", {"fever": "yes"}, False, QUESTIONNAIRE)[0].urgent


def _records(db):
    return AttemptRecords(db, QUESTIONNAIRE, RetryPolicy.from_settings(Settings()), WINDOW, "s")


def _call(db, records, day, attempt_id, ending):
    now = datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=3)
    [task] = records.due_tasks(day, now + timedelta(hours=1), 5)
    assert records.claim(task, attempt_id, "viettel", now + timedelta(hours=1))
    records.finish(attempt_id, ending, now + timedelta(hours=1))
    return task


def test_an_urgent_symptom_is_flagged_with_its_attempt(db):
    with db.session() as s:
        person(s, "+84912000001")
    plan_day(db, DAY, NOW, WINDOW)
    records = _records(db)
    _call(db, records, DAY, "a1", Ending("completed", stage="done",
                                         answers={"fever": "2", "breath": "1"}))
    with db.session() as s:
        flag = s.scalars(select(Flag)).one()
        assert (flag.kind, flag.urgent, flag.detail, flag.attempt_id) == (
            "symptom", True, "breath", "a1")
        assert {a.question_id: a.value for a in flag.attempt.answers}["breath"] == "yes"


def test_not_reached_on_two_consecutive_days_is_flagged_unreachable(db):
    with db.session() as s:
        person(s, "+84912000001")
    records = _records(db)
    for offset in (0, 1):
        day = DAY + timedelta(days=offset)
        plan_day(db, day, NOW + timedelta(days=offset), WINDOW)
        with db.session() as s:
            kinds = [f.kind for f in s.scalars(select(Flag))]
        assert kinds == []  # not after the first day alone
        task = _call(db, records, day, f"a{offset}", Ending("no_answer", cause=19))
        late = datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=13)
        records.close_day(day, late)
    with db.session() as s:
        flags = s.scalars(select(Flag)).all()
        assert [(f.kind, f.task_id) for f in flags] == [("unreachable", task.task_id)]
