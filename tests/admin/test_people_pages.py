"""/people in the browser's place: search (terms never in a URL), a person's page, and the
changes staff and supervisors make to a person. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from callengine import audit
from callengine.audit import AuditFilter
from callengine.phones import InvalidPhone, normalize_phone
from callengine.store.models import CallTask, Person
from callengine.store.supervision import PersonEvent
from tests.admin.conftest import page_text
from tests.unit.casework_helpers import add_attempt, add_flag, add_person, add_task

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_LINKS = re.compile(r'(?:href|src|action)="([^"]*)"')


def set_local_time(clock, hour: int, minute: int = 0) -> datetime:
    """Move the app's clock to this local time of today (before anyone signs in)."""
    now = clock.now().astimezone(TZ)
    target = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    clock.advance((target - now).total_seconds())
    return target


@pytest.fixture
def today(clock):
    return set_local_time(clock, 10).date()  # the default window, 08:00-20:00, is open


@pytest.fixture
def an(db, today):
    """Nguyễn Văn An, under monitoring, with an alternate number and a national ID."""
    with db.session() as s:
        person = add_person(s, "+84912345678", "Nguyễn Văn An", national_id="038123456789",
                            alt_phones="+84987000111",
                            period=(today - timedelta(days=3), today + timedelta(days=10)))
        add_person(s, "+84912000002", "Trần Thị Bình", category="F2", district="Hậu Lộc",
                   commune="Hoa Lộc", period=(today, today + timedelta(days=6)))
    return person.id


def _search(auth, client, **terms):
    response = auth.post("/people", terms)
    assert response.status_code == 303
    return response, client.get(response.headers["Location"])


def _links(html: str) -> list[str]:
    return [unquote(link).lower() for link in _LINKS.findall(html)]


def _person(db, person_id):
    with db.session() as s:
        p = s.get(Person, person_id)
        return p.phone, p.status, p.alt_phones


def _tasks(db, person_id):
    with db.session() as s:
        return {t.day: t.status for t in s.scalars(
            select(CallTask).where(CallTask.person_id == person_id))}


def _audited(db, action):
    return [(e.username, e.object_id, e.detail)
            for e in audit.query(db, AuditFilter(action=action)).items]


def test_a_name_without_accents_finds_the_person_and_stays_out_of_every_url(
        client, auth, signed_in, an):
    signed_in("staff")
    posted, results = _search(auth, client, q="nguyen van an")
    assert posted.headers["Location"] == "/people"
    html = page_text(results)
    assert "Nguyễn Văn An" in html and "Trần Thị Bình" not in html
    assert "********678" in html and "+84912345678" not in html and "0912345678" not in html
    assert f'href="/people/{an}"' in html
    assert not [link for link in _links(html) if "nguyen" in link or "van" in link]
    assert 'value="nguyen van an"' in html  # the form shows what was searched


@pytest.mark.parametrize("spelling", ["0912 345 678", "+84912345678", "84-912-345-678"])
def test_a_phone_in_any_spelling_finds_the_person(client, auth, signed_in, an, spelling):
    signed_in("staff")
    posted, results = _search(auth, client, q=spelling)
    html = page_text(results)
    assert "Nguyễn Văn An" in html and "Trần Thị Bình" not in html
    assert "345" not in posted.headers["Location"]
    assert not [link for link in _links(html) if "345" in link]


def test_the_alternate_number_national_id_and_filters_find_people(client, auth, signed_in,
                                                                  an):
    signed_in("staff")
    for query in ("0987 000 111", "038123456789"):
        assert "Nguyễn Văn An" in page_text(_search(auth, client, q=query)[1])
    html = page_text(_search(auth, client, district="Hậu Lộc")[1])
    assert "Trần Thị Bình" in html and "Nguyễn Văn An" not in html
    html = page_text(_search(auth, client, category="F1", status="monitoring")[1])
    assert "Nguyễn Văn An" in html and "Trần Thị Bình" not in html
    assert "Không có ai khớp" in page_text(_search(auth, client, q="le duc tho")[1])


def test_pages_of_results_carry_only_a_page_number(client, auth, signed_in, db, today):
    with db.session() as s:
        ids = [add_person(s, f"+849120001{n:02d}", f"Nguyễn Văn An {n:02d}").id
               for n in range(55)]
    signed_in("staff")
    html = page_text(_search(auth, client, q="nguyen van")[1])
    assert html.count('href="/people/') == 50
    assert 'href="/people?page=2"' in html
    assert not [link for link in _links(html) if "nguyen" in link or "after" in link]
    second = page_text(client.get("/people?page=2"))
    assert second.count('href="/people/') == 5 and f'href="/people/{ids[-1]}"' in second
    assert "Nguyễn Văn An 54" in second and "Nguyễn Văn An 00" not in second
    assert 'href="/people?page=1"' in second and "page=3" not in second
    assert client.get("/people?page=7").headers["Location"] == "/people"  # no such page yet


def test_clearing_the_search_lists_everyone_again(client, auth, signed_in, an):
    signed_in("staff")
    assert "Trần Thị Bình" not in page_text(_search(auth, client, q="nguyen")[1])
    cleared = auth.post("/people", {"clear": "1"})
    html = page_text(client.get(cleared.headers["Location"]))
    assert "Trần Thị Bình" in html and "Nguyễn Văn An" in html


def test_a_query_too_long_is_refused_on_the_page(client, auth, signed_in, an):
    signed_in("staff")
    response = auth.post("/people", {"q": "a" * 101})
    assert response.status_code == 400


def _with_answers(db, person_id, day, at):
    with db.session() as s:
        person = s.get(Person, person_id)
        task = add_task(s, person, day=day, status="done", last_outcome="completed")
        attempt = add_attempt(s, task, at=at, answers=[
            ("fever", "yes", "speech", "có, tôi bị sốt", "rec-1.wav"),
            ("cough", "no", "dtmf", None, None)])
        flag = add_flag(s, person, task=task, attempt=attempt, urgent=True)
        return flag.id


def test_a_persons_page_shows_everything_in_full_and_is_audited(client, signed_in, db, an,
                                                              today):
    at = datetime.combine(today, datetime.min.time(), TZ).replace(hour=8, minute=5)
    _with_answers(db, an, today, at.astimezone(timezone.utc))
    user = signed_in("staff")
    html = page_text(client.get(f"/people/{an}"))
    assert "+84912345678" in html and "+84987000111" in html and "038123456789" in html
    assert f"{today:%d/%m/%Y} 08:05" in html  # local time, dd/mm/yyyy HH:MM
    assert "viettel" in html and "Trả lời đủ" in html and "<td>16</td>" in html
    assert "có, tôi bị sốt" in html and "Giọng nói" in html and "Bấm phím" in html
    assert "Có triệu chứng" in html and "Khẩn" in html
    assert _audited(db, "person.view") == [(user.username, str(an), {})]


def test_spoken_answers_play_from_the_recordings_route_and_flags_link_for_supervisors(
        client, auth, signed_in, db, an, today):
    flag_id = _with_answers(db, an, today, datetime.now(timezone.utc))
    signed_in("staff")
    html = page_text(client.get(f"/people/{an}"))
    audio = re.findall(r"<audio[^>]*>", html)
    assert len(audio) == 1  # the spoken answer only
    assert 'preload="none"' in audio[0] and re.search(r'src="/recordings/\d+"', audio[0])
    assert f'href="/flags/{flag_id}"' not in html  # staff do not work flags
    auth.sign_out()
    signed_in("supervisor")
    assert f'href="/flags/{flag_id}"' in page_text(client.get(f"/people/{an}"))


def test_an_invalid_new_number_shows_the_importers_message_and_changes_nothing(
        client, auth, signed_in, db, an):
    signed_in("staff")
    with pytest.raises(InvalidPhone) as refused:
        normalize_phone("0123")
    response = auth.post(f"/people/{an}/phone", {"phone": "0123"})
    assert response.status_code == 422
    html = page_text(response)
    assert str(refused.value).replace("'", "&#39;") in html
    assert _person(db, an) == ("+84912345678", "monitoring", "+84987000111")
    assert _audited(db, "person.phone_corrected") == []


def test_a_correction_after_a_bad_number_today_calls_the_person_again(
        client, auth, signed_in, db, an, today):
    with db.session() as s:
        add_task(s, s.get(Person, an), day=today, status="exhausted",
                 last_outcome="invalid_number")
    user = signed_in("staff")
    response = auth.post(f"/people/{an}/phone", {"phone": "0987 654 321"})
    assert response.status_code == 303 and response.headers["Location"] == f"/people/{an}"
    html = page_text(client.get(response.headers["Location"]))
    assert "Đã sửa số điện thoại và lên lịch gọi lại hôm nay." in html
    assert _person(db, an)[0] == "+84987654321"
    assert "+84912345678" in _person(db, an)[2]  # the old number kept as an alternate
    assert _tasks(db, an)[today] == "pending"
    assert "+84912345678 → +84987654321" in html  # the history
    assert _audited(db, "person.phone_corrected") == [
        (user.username, str(an), {"effect": "phone_corrected_recalled"})]


def test_a_correction_without_a_failed_call_says_nobody_is_called_again(
        client, auth, signed_in, db, an, today):
    signed_in("staff")
    response = auth.post(f"/people/{an}/phone", {"phone": "+84987654321"})
    html = page_text(client.get(response.headers["Location"]))
    assert "Đã sửa số điện thoại." in html and "gọi lại hôm nay" not in html
    assert _tasks(db, an) == {}


def test_closing_needs_a_reason_then_cancels_the_pending_calls(client, auth, signed_in, db,
                                                               an, today):
    with db.session() as s:
        add_task(s, s.get(Person, an), day=today, status="pending", last_outcome=None)
    user = signed_in("supervisor")
    refused = auth.post(f"/people/{an}/close", {"note": "không lý do"})
    assert refused.status_code == 422 and "Hãy chọn lý do." in page_text(refused)
    assert _person(db, an)[1] == "monitoring" and _tasks(db, an)[today] == "pending"
    response = auth.post(f"/people/{an}/close", {"reason": "hospitalized"})
    html = page_text(client.get(response.headers["Location"]))
    assert "Đã đóng theo dõi (Đang điều trị tại cơ sở y tế); 1 cuộc gọi đang chờ đã hủy." in html
    assert _person(db, an)[1] == "closed" and _tasks(db, an)[today] == "cancelled"
    assert "Mở lại theo dõi" in html  # the reopen form replaces the close form
    assert _audited(db, "person.closed") == [
        (user.username, str(an), {"effect": "monitoring_closed", "reason": "hospitalized"})]


def test_closing_for_another_reason_needs_a_note(client, auth, signed_in, db, an):
    signed_in("supervisor")
    response = auth.post(f"/people/{an}/close", {"reason": "other"})
    assert response.status_code == 422 and "cần ghi chú" in page_text(response)
    assert _person(db, an)[1] == "monitoring"


def test_staff_may_not_close_or_reopen_and_do_not_see_the_forms(client, auth, signed_in, db,
                                                                an):
    signed_in("staff")
    assert "Đóng theo dõi" not in page_text(client.get(f"/people/{an}"))
    assert auth.post(f"/people/{an}/close", {"reason": "completed"}).status_code == 403
    assert auth.post(f"/people/{an}/reopen").status_code == 403
    assert _person(db, an)[1] == "monitoring"


def test_reopening_puts_the_person_back_and_plans_todays_call(client, auth, signed_in, db,
                                                              an, today):
    signed_in("supervisor")
    auth.post(f"/people/{an}/close", {"reason": "refused"})
    response = auth.post(f"/people/{an}/reopen", {"note": "đã liên lạc lại"})
    html = page_text(client.get(response.headers["Location"]))
    assert "Đã mở lại theo dõi. Đã lên lịch gọi tự động hôm nay." in html
    assert _person(db, an)[1] == "monitoring" and _tasks(db, an)[today] == "pending"
    again = auth.post(f"/people/{an}/reopen")
    assert again.status_code == 409 and "Chỉ mở lại được người đã đóng theo dõi" in page_text(
        again)


def test_call_now_outside_the_window_says_when_calls_may_start(client, auth, signed_in, db,
                                                               an, clock):
    set_local_time(clock, 21, 30)
    signed_in("staff")
    response = auth.post(f"/people/{an}/call")
    assert response.status_code == 409
    assert "Ngoài giờ gọi: cuộc gọi chỉ bắt đầu trong khoảng 08:00–19:55" in page_text(response)
    assert _tasks(db, an) == {}


def test_call_now_in_the_window_plans_a_call_today(client, auth, signed_in, db, an, today):
    user = signed_in("staff")
    response = auth.post(f"/people/{an}/call")
    html = page_text(client.get(response.headers["Location"]))
    assert "Đã lên lịch gọi ngay cho Nguyễn Văn An." in html
    assert _tasks(db, an) == {today: "pending"}
    assert _audited(db, "person.call_now") == [
        (user.username, str(an), {"effect": "call_scheduled"})]


def test_html_in_names_and_notes_stays_text(client, auth, signed_in, db, today):
    with db.session() as s:
        person_id = add_person(s, name="<script>alert(1)</script> Lê Văn Cường").id
    signed_in("supervisor")
    results = page_text(_search(auth, client, q="cuong")[1])
    assert "<script>alert(1)" not in results and "&lt;script&gt;alert(1)" in results
    auth.post(f"/people/{person_id}/close",
              {"reason": "other", "note": '<img src=x onerror="alert(2)">'})
    page = page_text(client.get(f"/people/{person_id}"))
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in page
    with db.session() as s:
        assert s.scalar(select(PersonEvent.note)) == '<img src=x onerror="alert(2)">'


def test_an_unknown_person_is_404_and_forms_need_their_csrf_token(client, auth, signed_in,
                                                                   an):
    signed_in("staff")
    assert client.get("/people/999").status_code == 404
    assert auth.post("/people/999/call").status_code == 404
    assert client.post(f"/people/{an}/call").status_code == 400
    assert client.post("/people", data={"q": "nguyen"}).status_code == 400
