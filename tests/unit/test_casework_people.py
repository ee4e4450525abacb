"""Finding people, a person's page and staff's changes to a person, on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from callengine.casework.errors import BadCursor, InvalidRequest, NotAllowedNow, NotFound
from callengine.casework.people import PersonFilters, districts, search_people
from callengine.casework.person_actions import (
    call_now,
    close_monitoring,
    correct_phone,
    reopen_monitoring,
)
from callengine.casework.person_detail import person_detail
from callengine.clock import to_db
from callengine.phones import InvalidPhone
from callengine.planning import plan_day
from callengine.store.models import CallTask, Person
from callengine.store.supervision import Flag
from tests.unit.casework_helpers import (
    DAY,
    EVENING,
    NOW,
    QUESTIONNAIRE,
    WINDOW,
    add_attempt,
    add_flag,
    add_person,
    add_task,
)


def _names(db, query, filters=PersonFilters()):
    return [row.name for row in search_people(db, query, filters).items]


def _tasks(db, person_id):
    with db.session() as s:
        return {t.day: (t.status, t.origin) for t in s.scalars(
            select(CallTask).where(CallTask.person_id == person_id))}


@pytest.fixture
def people(db):
    with db.session() as s:
        an = add_person(s, "+84912345678", "Nguyễn Văn An", national_id="038123456789",
                        alt_phones="+84987000111")
        add_person(s, "+84912000002", "Nguyễn Văn Bình", category="F2",
                   district="Hậu Lộc", commune="Hoa Lộc")
        add_person(s, "+84912000003", "Trần Thị Ánh", status="closed")
        add_person(s, "+84912000004", "Lê Đức Anh")
    return an.id


def test_a_name_is_found_whatever_its_accents_or_case(db, people):
    assert _names(db, "nguyen van an") == ["Nguyễn Văn An"]
    assert _names(db, "NGUYỄN AN") == ["Nguyễn Văn An"]  # word prefixes, in any order
    assert _names(db, "duc") == ["Lê Đức Anh"]  # đ is d
    assert _names(db, "an") == ["Lê Đức Anh", "Nguyễn Văn An", "Trần Thị Ánh"]  # prefixes
    assert _names(db, "anh") == ["Lê Đức Anh", "Trần Thị Ánh"]
    assert _names(db, "binh tran") == []


@pytest.mark.parametrize("spelling", ["0912 345 678", "+84912345678", "84-912-345-678",
                                      "0912.345.678", "912345678", "(+84) 912 345 678"])
def test_a_phone_is_found_in_any_spelling_the_importer_accepts(db, people, spelling):
    page = search_people(db, spelling)
    assert [(r.id, r.phone_masked) for r in page.items] == [(people, "********678")]


def test_alternate_phones_and_national_ids_find_the_person(db, people):
    assert [r.id for r in search_people(db, "0987 000 111").items] == [people]
    assert [r.id for r in search_people(db, "038123456789").items] == [people]
    assert search_people(db, "0999 999 999").items == ()


def test_filters_and_rows_show_no_full_phone(db, people):
    assert _names(db, "", PersonFilters(category="F2")) == ["Nguyễn Văn Bình"]
    assert _names(db, "nguyen", PersonFilters(district="Hậu Lộc")) == ["Nguyễn Văn Bình"]
    assert _names(db, "", PersonFilters(status="closed")) == ["Trần Thị Ánh"]
    assert _names(db, "", PersonFilters(commune="Hoa Lộc")) == ["Nguyễn Văn Bình"]
    rows = search_people(db, "").items
    assert all(r.phone_masked.startswith("********") and "+84" not in r.phone_masked
               for r in rows)
    assert {r.phone for r in rows} == {None}
    full = search_people(db, "nguyen van an", full_phones=True).items
    assert [(r.full_name, r.phone) for r in full] == [("Nguyễn Văn An", "+84912345678")]
    with pytest.raises(InvalidRequest, match="Trạng thái 'dead' không hợp lệ"):
        search_people(db, "", PersonFilters(status="dead"))
    assert districts(db) == {"Hậu Lộc": ("Hoa Lộc",), "Nga Sơn": ("Nga Liên",)}


def test_districts_list_each_district_once_with_its_communes_in_order(db):
    with db.session() as s:
        for n, (district, commune) in enumerate([
                ("Nga Sơn", "Nga Thủy"), ("Nga Sơn", "Nga Liên"), ("Nga Sơn", "Nga Liên"),
                ("Hậu Lộc", None), ("Thọ Xuân", "Xuân Lai"), ("Thọ Xuân", None),
                (None, "Nowhere")]):
            add_person(s, f"+8491200{n:04d}", f"Người {n}", district=district,
                       commune=commune)
    assert districts(db) == {"Hậu Lộc": (), "Nga Sơn": ("Nga Liên", "Nga Thủy"),
                             "Thọ Xuân": ("Xuân Lai",)}


def test_districts_of_nobody_are_none(db):
    assert districts(db) == {}

def test_search_pages_by_keyset_in_name_order_without_gaps(db):
    with db.session() as s:
        for n in range(13):  # namesakes: the id breaks the ties
            add_person(s, f"+849120001{n:02d}", "Nguyễn Văn An" if n % 3 else f"Lê Văn {n}")
    seen, cursor = [], None
    while True:
        page = search_people(db, "van", after=cursor, limit=4)
        seen += [r.id for r in page.items]
        if page.next is None:
            break
        cursor = page.next
    whole = [r.id for r in search_people(db, "van", limit=50).items]
    assert seen == whole and len(set(whole)) == 13
    with pytest.raises(BadCursor):
        search_people(db, "van", after="not-a-cursor")


def test_a_persons_page_shows_periods_days_attempts_answers_flags_and_history(db, people):
    with db.session() as s:
        person = s.get(Person, people)
        yesterday = add_task(s, person, day=DAY - timedelta(days=1), status="exhausted",
                             last_outcome="no_answer")
        add_attempt(s, yesterday, outcome="no_answer", at=NOW - timedelta(days=1))
        today = add_task(s, person)
        attempt = add_attempt(s, today, answers=[
            ("cough", "yes", "speech", "ho nhiều", "x-cough-1.wav")])
        add_flag(s, person, task=today, attempt=attempt, detail="cough")
    call_now(db, people, "lan", NOW, WINDOW)
    page = person_detail(db, people, QUESTIONNAIRE)
    assert page.identity.phone == "+84912345678"
    assert page.identity.alt_phones == ("+84987000111",)
    assert [p.category for p in page.periods] == ["F1"]
    assert [d.day for d in page.days] == [DAY, DAY - timedelta(days=1)]
    first = page.days[0].attempts[0]
    assert (first.trunk, first.outcome, first.cause, first.sip_code, first.server_id) == (
        "viettel", "completed", 16, 200, "srv-1")
    answer = first.answers[0]
    assert (answer.question_id, answer.transcript, answer.audio_path) == (
        "cough", "ho nhiều", "x-cough-1.wav")
    assert [f.kind for f in page.flags] == ["symptom"]
    assert [(e.actor, e.action) for e in page.history] == [("lan", "call_now")]
    with pytest.raises(NotFound, match="Không tìm thấy người #999"):
        person_detail(db, 999, QUESTIONNAIRE)


def _failed_today(db, outcome, status):
    with db.session() as s:
        person = add_person(s)
        task = add_task(s, person, status=status, last_outcome=outcome, attempts=1)
        attempt = add_attempt(s, task, outcome=outcome)
        add_flag(s, person, kind="invalid_number", task=task, attempt=attempt)
        return person.id


def test_a_corrected_number_is_called_today_when_the_call_failed_for_a_bad_number(db):
    person_id = _failed_today(db, "invalid_number", "done")
    change = correct_phone(db, person_id, "098.765.4321", "lan", NOW, WINDOW)
    assert change.effect == "phone_corrected_recalled" and change.flags_closed == 1
    assert change.phone == "+84987654321"
    assert _tasks(db, person_id) == {DAY: ("pending", "manual")}
    with db.session() as s:
        person = s.get(Person, person_id)
        assert (person.carrier, person.alt_phones) == ("viettel", "+84912345678")
        flag = s.scalars(select(Flag)).one()
        assert (flag.status, flag.action, flag.closed_by) == ("closed", "number_corrected",
                                                              "lan")
    history = person_detail(db, person_id, QUESTIONNAIRE).history
    assert (history[0].action, history[0].old_value, history[0].new_value) == (
        "phone_corrected", "+84912345678", "+84987654321")


def test_a_corrected_number_is_not_called_again_when_the_failure_was_not_the_number(db):
    person_id = _failed_today(db, "no_answer", "exhausted")
    change = correct_phone(db, person_id, "0987654321", "lan", NOW, WINDOW)
    assert change.effect == "phone_corrected"
    assert _tasks(db, person_id) == {DAY: ("exhausted", "plan")}


def test_a_corrected_number_after_the_window_waits_for_tomorrow(db):
    person_id = _failed_today(db, "invalid_number", "done")
    change = correct_phone(db, person_id, "0987654321", "lan", EVENING, WINDOW)
    assert change.effect == "call_too_late" and "hết giờ gọi" in change.message
    assert _tasks(db, person_id) == {DAY: ("done", "plan")}


def test_a_bad_new_number_is_refused_like_an_import_and_nothing_changes(db):
    person_id = _failed_today(db, "invalid_number", "done")
    with pytest.raises(InvalidPhone, match="Số điện thoại '1900 1234' là số dịch vụ"):
        correct_phone(db, person_id, "1900 1234", "lan", NOW, WINDOW)
    with pytest.raises(InvalidRequest, match="trùng với số đang dùng"):
        correct_phone(db, person_id, "0912 345 678", "lan", NOW, WINDOW)
    with db.session() as s:
        assert s.get(Person, person_id).phone == "+84912345678"


def test_closing_cancels_pending_calls_and_the_plan_calls_nobody_after(db, people):
    with db.session() as s:
        add_task(s, s.get(Person, people), status="pending", last_outcome=None,
                 attempts=0, next_at=NOW, origin="manual")
    change = close_monitoring(db, people, "became_f0", "lan", NOW)
    assert change.status == "closed" and change.cancelled_calls == 1
    assert "Đã xác định là F0" in change.message
    tomorrow = DAY + timedelta(days=1)
    plan_day(db, tomorrow, NOW + timedelta(days=1), WINDOW)
    assert _tasks(db, people) == {DAY: ("cancelled", "manual")}
    page = person_detail(db, people, QUESTIONNAIRE)
    assert (page.history[0].action, page.history[0].reason) == ("closed", "became_f0")
    with pytest.raises(NotAllowedNow, match="đã được đóng theo dõi từ trước"):
        close_monitoring(db, people, "became_f0", "lan", NOW)


def test_closing_needs_a_known_reason_and_a_note_for_other(db, people):
    with pytest.raises(InvalidRequest, match="Cần chọn lý do đóng theo dõi"):
        close_monitoring(db, people, "bored", "lan", NOW)
    with pytest.raises(InvalidRequest, match="cần ghi chú"):
        close_monitoring(db, people, "other", "lan", NOW, note=" ")
    assert search_people(db, "nguyen van an").items[0].status == "monitoring"


def test_reopening_plans_todays_call_again(db, people):
    plan_day(db, DAY, NOW, WINDOW)
    close_monitoring(db, people, "moved_away", "lan", NOW)
    assert _tasks(db, people) == {DAY: ("cancelled", "plan")}
    change = reopen_monitoring(db, people, "minh", NOW, WINDOW)
    assert change.status == "monitoring" and change.effect == "call_scheduled"
    assert _tasks(db, people) == {DAY: ("pending", "plan")}
    with pytest.raises(NotAllowedNow, match="Chỉ mở lại được người đã đóng"):
        reopen_monitoring(db, people, "minh", NOW, WINDOW)


def test_a_person_whose_period_is_over_cannot_be_reopened(db):
    with db.session() as s:
        person_id = add_person(s, period=(DAY - timedelta(days=20), DAY - timedelta(days=6)),
                               status="closed").id
    with pytest.raises(NotAllowedNow, match=r"đã kết thúc \(24/11/2026\)"):
        reopen_monitoring(db, person_id, "minh", NOW, WINDOW)


def test_call_now_outside_the_window_is_refused_with_the_hours(db, people):
    with pytest.raises(NotAllowedNow, match="08:00–19:55"):
        call_now(db, people, "lan", EVENING, WINDOW)
    assert _tasks(db, people) == {}


def test_call_now_brings_back_a_finished_day_once_and_never_calls_twice(db, people):
    with db.session() as s:
        add_task(s, s.get(Person, people), status="exhausted", last_outcome="no_answer",
                 attempts=4)
    first = call_now(db, people, "lan", NOW, WINDOW)
    assert first.effect == "call_scheduled"
    with db.session() as s:
        task = s.scalars(select(CallTask)).one()
        assert (task.status, task.origin, task.next_attempt_at) == ("pending", "manual",
                                                                    to_db(NOW))
        add_attempt(s, task, state="ringing")  # the dialer took it
        task.status = "dialing"
    with pytest.raises(NotAllowedNow, match="Đang có cuộc gọi tới người này"):
        call_now(db, people, "lan", NOW, WINDOW)
    with db.session() as s:
        assert len(s.scalars(select(CallTask)).all()) == 1


def test_call_now_on_a_later_pending_call_moves_it_to_now(db, people):
    with db.session() as s:
        add_task(s, s.get(Person, people), status="pending", last_outcome="busy",
                 next_at=NOW + timedelta(hours=1))
    change = call_now(db, people, "lan", NOW, WINDOW)
    assert change.effect == "call_already_planned" and "gọi ngay" in change.message
    with db.session() as s:
        assert s.scalars(select(CallTask)).one().next_attempt_at == to_db(NOW)


def test_reopening_before_a_later_period_says_when_calls_start(db):
    with db.session() as s:
        person_id = add_person(s, period=(DAY + timedelta(days=2), DAY + timedelta(days=16)),
                               status="closed").id
    change = reopen_monitoring(db, person_id, "minh", NOW, WINDOW)
    assert change.status == "monitoring" and "từ ngày 02/12/2026" in change.message
    assert _tasks(db, person_id) == {}


def test_call_now_without_a_call_today_creates_the_staffs_own_task(db, people):
    change = call_now(db, people, "lan", NOW, WINDOW)
    assert change.effect == "call_scheduled"
    assert _tasks(db, people) == {DAY: ("pending", "manual")}
    plan_day(db, DAY, NOW, WINDOW)  # the plan neither duplicates nor withdraws it
    assert _tasks(db, people) == {DAY: ("pending", "manual")}
