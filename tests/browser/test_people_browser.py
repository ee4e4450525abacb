"""The people pages in a real headless Chromium: search by a name typed without accents,
open the person, correct the phone; no URL ever holds the search; a phone-sized screen."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.unit.casework_helpers import add_attempt, add_flag, add_person, add_task

NAME = "Phạm Thị Hồng Nhung"
TYPED = "pham thi hong nhung"


@pytest.fixture(scope="module")
def nhung(live_admin):
    """A person with a day's call, spoken answers and a flag, in the live admin's database."""
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    with live_admin.accounts.db.session() as s:
        person = add_person(s, "+84912777888", NAME, national_id="038199001122",
                            alt_phones="+84987000999", district="Hoằng Hóa",
                            commune="Hoằng Đạo",
                            period=(today - timedelta(days=4), today + timedelta(days=9)))
        yesterday = datetime.now(timezone.utc) - timedelta(days=1)
        task = add_task(s, person, day=today - timedelta(days=1))
        attempt = add_attempt(s, task, at=yesterday,
                              answers=[("fever", "yes", "speech", "có, tôi hơi sốt", "r.wav"),
                                       ("cough", "no", "dtmf", None, None)])
        add_flag(s, person, task=task, attempt=attempt, created=yesterday)
        return person.id


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_search_open_and_correct_a_phone_without_the_search_in_any_url(page, live_admin,
                                                                       nhung):
    live_admin.user("staff", "canbo")
    visited: list[str] = []
    page.on("request", lambda request: visited.append(request.url))
    sign_in(page, live_admin, "canbo")
    page.get_by_role("navigation", name="Các mục").get_by_role(
        "link", name="Người được theo dõi").click()
    page.get_by_label("Tên, số điện thoại hoặc CMND/CCCD").fill(TYPED)
    page.get_by_role("button", name="Tìm", exact=True).click()
    result = page.get_by_role("link", name=NAME)
    assert result.is_visible()
    assert page.get_by_text("********888").is_visible()
    assert page.get_by_text("+84912777888").count() == 0
    _shot(page, "people_search")
    result.click()
    assert page.url.endswith(f"/people/{nhung}")
    assert page.get_by_role("heading", name=NAME).is_visible()
    assert page.get_by_role("link", name="+84912777888").is_visible()
    page.get_by_label("Số điện thoại mới").fill("0987 111 222")
    page.get_by_role("button", name="Lưu số mới").click()
    assert page.get_by_text("Đã sửa số điện thoại.", exact=True).is_visible()
    assert page.get_by_role("link", name="+84987111222").is_visible()
    _shot(page, "person_page")
    for url in visited + [page.url]:
        assert "pham" not in url.lower() and "nhung" not in url.lower(), url


def test_the_persons_page_fits_a_360_px_phone(browser, live_admin, nhung):
    live_admin.user("supervisor", "giamsat")
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN",
                                  is_mobile=True, has_touch=True, device_scale_factor=2)
    page = context.new_page()
    try:
        sign_in(page, live_admin, "giamsat")
        page.goto(f"{live_admin.url}/people/{nhung}")
        assert page.get_by_text("có, tôi hơi sốt").is_visible()
        assert page.get_by_role("button", name="Đóng theo dõi").is_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"the person's page is {width} px wide"
        _shot(page, "mobile_person_page")
        page.goto(f"{live_admin.url}/people")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        _shot(page, "mobile_people_search")
    finally:
        context.close()
