"""The public check-in in a real headless Chromium on a 360 px phone: the page fits the
screen, weighs under 30 KB (every response body counted), works without JavaScript, and a
declared symptom reaches the supervisors' flags."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from callengine.health.venues import create_venue
from callengine.store.supervision import Flag
from callengine.store.venues import CheckIn
from tests.browser.conftest import phone_context, screenshot

BUDGET = 30 * 1024


def _weigh(page) -> list[int]:
    """Collects the size of every response body the page loads, as it loads them."""
    sizes: list[int] = []
    page.on("response", lambda response: sizes.append(len(response.body())))
    return sizes


def test_a_visitor_checks_in_on_a_360_px_phone_without_javascript(browser, live_admin):
    venue = create_venue(live_admin.db, {"name": "Chợ Vườn Hoa Thanh Hóa",
                                         "address": "12 Lê Lợi, P. Điện Biên"},
                         now=datetime.now(timezone.utc), created_by="browser")
    context = phone_context(browser)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sizes = _weigh(page)
        page.goto(f"{live_admin.url}/c/{venue.token}")
        assert page.get_by_role("heading", name="Khai báo y tế").is_visible()
        assert sum(sizes) < BUDGET, f"form page weighs {sum(sizes)} bytes: {sizes}"
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"the page is {width} px wide: it scrolls sideways"
        font = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert font >= 16
        screenshot(page, "checkin_form_360px")

        page.get_by_label("Họ và tên", exact=True).fill("Nguyễn Thị Mai")
        page.get_by_label("Số điện thoại", exact=True).fill("0912 000 777")
        page.get_by_label("Ho", exact=True).check()
        page.get_by_label("Khó thở").check()
        page.get_by_label("Ghi nhớ số điện thoại trên máy này").check()
        sizes.clear()
        page.get_by_role("button", name="Gửi khai báo").click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", name="Cảm ơn bạn đã khai báo").is_visible()
        assert "khó thở" in page.content() and "115" in page.content()
        assert sum(sizes) < BUDGET, f"thank-you page weighs {sum(sizes)} bytes: {sizes}"
        screenshot(page, "checkin_thanks_360px")

        page.goto(f"{live_admin.url}/c/{venue.token}")  # the phone was kept on this device
        assert page.get_by_label("Số điện thoại", exact=True).input_value() == "0912000777"
        assert page.get_by_label("Họ và tên", exact=True).input_value() == ""
    finally:
        context.close()
    with live_admin.db.session() as s:
        visit = s.scalars(select(CheckIn).where(CheckIn.venue_id == venue.id)).one()
        flag = s.scalars(select(Flag).where(Flag.reference == f"checkin:{visit.id}")).one()
    assert (visit.cough, visit.breath, flag.urgent) == (True, True, True)


def test_the_form_works_with_javascript_switched_off(browser, live_admin):
    venue = create_venue(live_admin.db, {"name": "Nhà hàng Biển Sầm Sơn"},
                         now=datetime.now(timezone.utc), created_by="browser")
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN",
                                  java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_admin.url}/c/{venue.token}")
        page.get_by_label("Họ và tên", exact=True).fill("Trần Văn Bình")
        page.get_by_label("Số điện thoại", exact=True).fill("0123")
        page.get_by_role("button", name="Gửi khai báo").click()
        assert "Số điện thoại '0123'" in page.inner_text("main")
        assert page.get_by_label("Họ và tên", exact=True).input_value() == "Trần Văn Bình"
        screenshot(page, "checkin_error_360px")
        page.get_by_label("Số điện thoại", exact=True).fill("0987 654 321")
        page.get_by_role("button", name="Gửi khai báo").click()
        assert page.get_by_role("heading", name="Cảm ơn bạn đã khai báo").is_visible()
    finally:
        context.close()
