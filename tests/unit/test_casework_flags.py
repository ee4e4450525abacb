"""The flag queue, a flag's page and supervisors' actions, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from callengine.casework.errors import FlagConflict, InvalidRequest, NotAllowedNow, NotFound
from callengine.casework.flag_actions import ACTIONS, act, assign
from callengine.casework.flag_detail import flag_detail
from callengine.casework.flag_queue import FlagFilters, flag_counts, flag_queue
from callengine.casework.labels import ACTION_LABELS, FLAG_KIND_LABELS
from callengine.clock import to_db
from callengine.phones import InvalidPhone
from callengine.store.db import Database
from callengine.store.models import CallTask, Person
from callengine.store.supervision import Flag
from tests.unit.casework_helpers import (
    EVENING,
    NOW,
    QUESTIONNAIRE,
    WINDOW,
    add_attempt,
    add_flag,
    add_person,
    add_task,
)


def _flag(db, kind="symptom", *, task_status="exhausted", outcome="no_answer", phone=None,
          person_status="monitoring"):
    with db.session() as s:
        person = add_person(s, phone or "+84912345678", status=person_status)
        task = add_task(s, person, status=task_status, last_outcome=outcome, attempts=4)
        flag = add_flag(s, person, kind=kind, task=task)
        return flag.id, person.id


def _task(db, person_id):
    with db.session() as s:
        return s.scalars(select(CallTask).where(CallTask.person_id == person_id)).one()


def _all_pages(db, filters=FlagFilters(), limit=5):
    seen, cursor = [], None
    while True:
        page = flag_queue(db, filters, after=cursor, limit=limit, now=NOW)
        seen += [row.id for row in page.items]
        if page.next is None:
            return seen
        cursor = page.next


def test_the_queue_shows_urgent_flags_first_then_the_oldest_with_masked_phones(db):
    with db.session() as s:
        ids = {}
        for n, (urgent, hours) in enumerate([(False, 5), (True, 1), (False, 9), (True, 3)]):
            person = add_person(s, f"+8491234560{n}", f"Người {n}")
            ids[(urgent, hours)] = add_flag(s, person, urgent=urgent,
                                            created=NOW - timedelta(hours=hours)).id
        closed = add_flag(s, person, kind="callback", created=NOW - timedelta(hours=20),
                          task=s.scalars(select(CallTask)).first())
        closed.status = "closed"
    rows = flag_queue(db, now=NOW).items
    assert [r.id for r in rows] == [ids[(True, 3)], ids[(True, 1)], ids[(False, 9)],
                                    ids[(False, 5)]]
    assert rows[0].phone_masked == "********603"
    assert "0912" not in rows[0].phone_masked and rows[0].age == timedelta(hours=3)
    assert rows[0].person_name == "Người 3" and rows[0].district == "Nga Sơn"
    closed_rows = flag_queue(db, FlagFilters(status="closed"), now=NOW).items
    assert [r.id for r in closed_rows] == [closed.id]


def test_keyset_pages_cover_the_queue_without_duplicates_or_gaps(db):
    with db.session() as s:
        for n in range(23):
            person = add_person(s, f"+849123450{n:02d}", f"Người {n}")
            # several flags share a creation time, so the id must break ties
            add_flag(s, person, urgent=n % 4 == 0, created=NOW - timedelta(hours=n % 5))
    whole = [r.id for r in flag_queue(db, limit=200, now=NOW).items]
    assert len(whole) == 23
    for size in (1, 5, 6, 22):
        assert _all_pages(db, limit=size) == whole
    urgent_only = _all_pages(db, FlagFilters(urgent=True), limit=2)
    assert urgent_only == whole[:6]


def test_filters_narrow_the_queue(db):
    with db.session() as s:
        a = add_person(s, "+84912345601", district="Nga Sơn", commune="Nga Liên")
        b = add_person(s, "+84912345602", district="Hậu Lộc", commune="Hoa Lộc")
        fa = add_flag(s, a, kind="symptom", created=NOW - timedelta(days=2))
        fb = add_flag(s, b, kind="callback", created=NOW - timedelta(hours=1))
        fb.assigned_to = "lan"

    def ids(**kw):
        return [r.id for r in flag_queue(db, FlagFilters(**kw), now=NOW).items]

    assert ids(kind="callback") == [fb.id]
    assert ids(district="Nga Sơn") == [fa.id]
    assert ids(commune="Hoa Lộc") == [fb.id]
    assert ids(older_than=timedelta(days=1)) == [fa.id]
    assert ids(assigned_to="lan") == [fb.id]
    assert ids(person_id=a.id) == [fa.id]
    with pytest.raises(InvalidRequest, match="Loại cờ 'fever' không hợp lệ"):
        flag_queue(db, FlagFilters(kind="fever"), now=NOW)


def test_a_tampered_cursor_is_refused_in_vietnamese(db):
    with pytest.raises(InvalidRequest, match="Con trỏ trang không hợp lệ"):
        flag_queue(db, after="bm90LWEtY3Vyc29y", now=NOW)


def test_counts_for_the_dashboard(db):
    with db.session() as s:
        for n, (kind, urgent) in enumerate([("symptom", True), ("symptom", False),
                                            ("callback", False)]):
            add_flag(s, add_person(s, f"+8491234560{n}"), kind=kind, urgent=urgent)
    counts = flag_counts(db)
    assert (counts.open, counts.urgent_open) == (3, 1)
    assert counts.by_kind == {"symptom": 2, "callback": 1}


def test_a_flags_page_shows_its_call_answers_transcript_recording_and_history(db):
    with db.session() as s:
        person = add_person(s)
        task = add_task(s, person)
        attempt = add_attempt(s, task, answers=[
            ("breath", "yes", "speech", "có khó thở", "a1-breath-1.wav"),
            ("fever", "no", "dtmf", None, None)])
        flag_id = add_flag(s, person, kind="symptom", urgent=True, task=task,
                           attempt=attempt, detail="breath").id
    assign(db, flag_id, "lan", 1, NOW)
    detail = flag_detail(db, flag_id, QUESTIONNAIRE)
    assert detail.person.phone == "+84912345678"  # in full on the flag's page
    assert [a.question_id for a in detail.attempt.answers] == ["fever", "breath"]
    breath = detail.attempt.answers[1]
    assert breath.question.startswith("Bạn có bị khó thở")
    assert (breath.value, breath.source, breath.transcript, breath.audio_path) == (
        "yes", "speech", "có khó thở", "a1-breath-1.wav")
    assert [(e.actor, e.action) for e in detail.history] == [("lan", "assigned")]
    assert detail.assigned_to == "lan" and detail.version == 2
    with pytest.raises(NotFound, match="Không tìm thấy cờ #999"):
        flag_detail(db, 999, QUESTIONNAIRE)


ACTION_CASES = [  # action, flag kind, stays open?
    ("called_back_reached", "callback", False),
    ("called_back_reached", "symptom", True),
    ("called_back_not_reached", "symptom", True),
    ("referred_for_testing", "symptom", True),
    ("advised_isolation", "symptom", True),
    ("no_action_needed", "speech_review", False),
    ("closed", "unreachable", False),
]


@pytest.mark.parametrize("action,kind,stays_open", ACTION_CASES)
def test_each_action_writes_history_and_closes_only_when_it_should(db, action, kind,
                                                                    stays_open):
    flag_id, _ = _flag(db, kind, task_status="done", outcome="completed")
    result = act(db, flag_id, action, "đã trao đổi", "lan", 1, NOW, WINDOW)
    detail = flag_detail(db, flag_id, QUESTIONNAIRE)
    assert detail.status == ("open" if stays_open else "closed")
    assert result.flag.version == 2 and result.message.startswith(ACTION_LABELS[action])
    step = detail.history[-1]
    assert (step.actor, step.action, step.note) == ("lan", action, "đã trao đổi")
    if not stays_open:
        assert (detail.closed_by, detail.note) == ("lan", "đã trao đổi")


def test_every_action_and_kind_has_a_vietnamese_label():
    assert set(ACTIONS) <= set(ACTION_LABELS)
    assert set(FLAG_KIND_LABELS) == {"symptom", "callback", "unreachable", "invalid_number",
                                     "speech_review", "declaration", "positive", "retest"}


def test_not_reached_by_a_supervisor_means_the_engine_calls_again_today(db):
    flag_id, person_id = _flag(db, "callback", task_status="exhausted")
    result = act(db, flag_id, "called_back_not_reached", None, "lan", 1, NOW, WINDOW)
    task = _task(db, person_id)
    assert result.effect == "call_scheduled" and "lên lịch gọi" in result.message
    assert (task.status, task.origin, task.next_attempt_at) == ("pending", "manual",
                                                                to_db(NOW))


def test_not_reached_after_the_window_changes_nothing_and_says_so(db):
    flag_id, person_id = _flag(db, "callback", task_status="exhausted")
    result = act(db, flag_id, "called_back_not_reached", None, "lan", 1, EVENING, WINDOW)
    assert result.effect == "call_too_late" and "hết giờ gọi" in result.message
    assert _task(db, person_id).status == "exhausted"


def test_not_reached_on_a_wrong_number_or_a_closed_person_schedules_no_call(db):
    flag_id, person_id = _flag(db, "invalid_number", task_status="done",
                               outcome="invalid_number")
    assert act(db, flag_id, "called_back_not_reached", None, "lan", 1, NOW,
               WINDOW).effect == "call_needs_new_number"
    assert _task(db, person_id).status == "done"
    flag_id, person_id = _flag(db, "callback", phone="+84912345670", person_status="closed")
    assert act(db, flag_id, "called_back_not_reached", None, "lan", 1, NOW,
               WINDOW).effect == "call_not_for_closed"
    assert _task(db, person_id).status == "exhausted"


def test_number_corrected_fixes_the_phone_and_calls_the_new_number_today(db):
    flag_id, person_id = _flag(db, "invalid_number", task_status="done",
                               outcome="invalid_number")
    result = act(db, flag_id, "number_corrected", None, "lan", 1, NOW, WINDOW,
                 phone="0987 654 321")
    assert result.effect == "phone_corrected_recalled" and result.flag.status == "closed"
    with db.session() as s:
        person = s.get(Person, person_id)
        assert (person.phone, person.alt_phones) == ("+84987654321", "+84912345678")
    assert _task(db, person_id).status == "pending"
    with pytest.raises(InvalidRequest, match="Cần nhập số điện thoại mới"):
        act(db, _flag(db, "invalid_number", phone="+84912345699")[0], "number_corrected",
            None, "lan", 1, NOW, WINDOW)
    with pytest.raises(InvalidPhone, match="sai độ dài"):
        act(db, flag_id, "number_corrected", None, "lan", 2, NOW, WINDOW, phone="09123")


def test_unknown_actions_missing_notes_and_closed_flags_are_refused(db):
    flag_id, _ = _flag(db)
    with pytest.raises(InvalidRequest, match="Thao tác 'called' không hợp lệ"):
        act(db, flag_id, "called", "x", "lan", 1, NOW, WINDOW)
    with pytest.raises(InvalidRequest, match="Cần ghi chú"):
        act(db, flag_id, "referred_for_testing", "   ", "lan", 1, NOW, WINDOW)
    act(db, flag_id, "closed", "xong", "lan", 1, NOW, WINDOW)
    with pytest.raises(NotAllowedNow, match="đã đóng"):
        act(db, flag_id, "closed", "xong", "lan", 2, NOW, WINDOW)
    with pytest.raises(NotFound):
        act(db, 999, "closed", "xong", "lan", 1, NOW, WINDOW)


def test_of_two_supervisors_acting_on_one_flag_the_second_is_told(db, database_url):
    flag_id, _ = _flag(db)
    seen = flag_detail(db, flag_id, QUESTIONNAIRE).version  # both open the page
    other = Database(database_url)
    try:
        act(db, flag_id, "advised_isolation", "cách ly tại nhà", "lan", seen, NOW, WINDOW)
        with pytest.raises(FlagConflict) as conflict:
            act(other, flag_id, "no_action_needed", "ổn", "minh", seen, NOW, WINDOW)
    finally:
        other.dispose()
    assert "vừa được lan cập nhật (Đã hướng dẫn cách ly)" in str(conflict.value)
    assert conflict.value.current.version == seen + 1
    assert conflict.value.current.status == "open"
    history = flag_detail(db, flag_id, QUESTIONNAIRE).history
    assert [e.actor for e in history] == ["lan"]  # the loser wrote nothing


def test_two_supervisors_at_the_same_instant_one_wins(db, database_url):
    flag_id, _ = _flag(db)
    barrier, outcomes = threading.Barrier(2), []

    def supervisor(name):
        database = Database(database_url, auto_migrate=False)
        try:
            barrier.wait()
            act(database, flag_id, "closed", f"đóng bởi {name}", name, 1, NOW, WINDOW)
            outcomes.append("won")
        except FlagConflict:
            outcomes.append("conflict")
        finally:
            database.dispose()

    threads = [threading.Thread(target=supervisor, args=(n,)) for n in ("lan", "minh")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "won"]
    with db.session() as s:
        assert s.get(Flag, flag_id).version == 2
