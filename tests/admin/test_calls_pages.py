"""The calls log at `/calls`: a day's attempts with filters, paged by keyset."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest

from callengine.phones import mask_phone
from tests.admin.conftest import page_text
from tests.admin.dashboard_helpers import add_call, seed_day
from tests.admin.flag_helpers import FixedClock
from tests.unit.casework_helpers import DAY, NOW, add_attempt, add_person, add_task


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def staff(signed_in):
    return signed_in("staff")


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr data-attempt="([^"]+)">', page)


def _next(page: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next">Trang sau</a>', page)
    return unescape(found.group(1)) if found else None


def test_todays_log_is_newest_first_in_local_time_with_masked_phones(client, db, staff):
    seed_day(db)
    add_call(db, outcome="busy", day=DAY - timedelta(days=1), at=NOW - timedelta(days=1))
    page = page_text(client.get("/calls"))
    assert "Cuộc gọi · 30/11/2026" in page
    assert len(_rows(page)) == 5  # yesterday's call is not today's
    first = page.split("<tbody>")[1].split("</tr>")[0]
    assert "30/11/2026 10:00:00" in first and "Trả lời đủ" in first and "Nguyễn Văn An" in first
    assert "2:00" in first and ">16<" in first and ">200<" in first
    assert mask_phone("+84912345678") in page and "+84912345678" not in page
    times = re.findall(r"<td>(\d\d/\d\d/\d{4} \d\d:\d\d:\d\d)</td>", page)
    assert times == sorted(times, reverse=True)
    assert 'value="2026-11-30"' in page  # the date filter shows the day


def test_another_day_and_the_filters(client, db, staff):
    seed_day(db)
    add_call(db, outcome="busy", day=DAY - timedelta(days=1), at=NOW - timedelta(days=1))
    assert len(_rows(page_text(client.get("/calls?date=29/11/2026")))) == 1
    assert len(_rows(page_text(client.get("/calls?date=2026-11-29")))) == 1
    assert len(_rows(page_text(client.get("/calls?outcome=no_answer")))) == 3
    assert len(_rows(page_text(client.get("/calls?district=Thọ+Xuân")))) == 1
    assert len(_rows(page_text(client.get("/calls?trunk=default")))) == 0  # all on viettel
    assert len(_rows(page_text(client.get("/calls?server=srv-1")))) == 5
    assert len(_rows(page_text(client.get("/calls?server=srv-9")))) == 0
    page = page_text(client.get("/calls?outcome=not-an-outcome"))
    assert len(_rows(page)) == 5  # an unknown choice is no filter


def test_pages_follow_the_cursor_without_duplicates_or_gaps(client, db, staff):
    with db.session() as s:
        person = add_person(s, "+84912000050", "Đỗ Thị Én")
        task = add_task(s, person, status="exhausted", last_outcome="no_answer", attempts=120)
        ids = {add_attempt(s, task, outcome="no_answer",
                           at=NOW - timedelta(seconds=(i // 2) * 30)).id  # equal times too
               for i in range(120)}
    seen, url, pages = [], "/calls?outcome=no_answer", 0
    while url:
        page = page_text(client.get(url))
        seen += _rows(page)
        url, pages = _next(page), pages + 1
        if url:
            assert "outcome=no_answer" in url and "after=" in url  # the filters are kept
    assert pages == 3 and len(seen) == len(set(seen)) == 120 and set(seen) == ids


def test_a_bad_cursor_or_date_is_a_400_with_a_message(client, db, staff):
    response = client.get("/calls?after=not-a-cursor")
    assert response.status_code == 400
    assert "Con trỏ phân trang không hợp lệ." in page_text(response)
    response = client.get("/calls?date=31/02/2026")
    assert response.status_code == 400 and "Hãy ghi ngày dạng dd/mm/yyyy." in page_text(response)


def test_supervisors_read_the_log_too(client, db, signed_in):
    seed_day(db)
    signed_in("supervisor")
    assert len(_rows(page_text(client.get("/calls")))) == 5
