"""The dashboard, the calls log and campaign control in a real headless Chromium: the chart
renders, the figures update without a reload, pause and resume, and a 360 px phone."""

from __future__ import annotations

from datetime import datetime, timezone
from itertools import count
from zoneinfo import ZoneInfo

from tests.admin.dashboard_helpers import add_call
from tests.browser.conftest import phone_context, screenshot, sign_in

_PHONES = count(7000)


def _call_now(live_admin, outcome: str = "completed") -> None:
    """A call of the live admin's today (its clock is the real one)."""
    now = datetime.now(timezone.utc)
    today = now.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    add_call(live_admin.db, outcome=outcome, day=today, at=now,
             phone=f"+8491200{next(_PHONES):04d}")


def _tile(page, key: str):
    return page.locator(f'[data-figure="{key}"]')


def test_the_dashboard_chart_renders_and_the_figures_update_without_a_reload(page,
                                                                             live_admin):
    for outcome in ("completed", "no_answer", "busy"):  # today: days over may be cached
        _call_now(live_admin, outcome)
    live_admin.user("staff", "nhanvien")
    sign_in(page, live_admin, "nhanvien")
    assert page.get_by_role("heading", name="Tổng quan").is_visible()
    chart = page.locator("svg.outcome-chart")
    box = chart.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 100
    days = page.locator("svg.outcome-chart g.day")
    assert days.count() == 14
    today = days.last.locator("rect.segment")
    assert today.count() >= 3 and today.first.bounding_box()["height"] > 5
    assert page.locator(".legend").get_by_text("Không nghe máy").is_visible()
    screenshot(page, "dashboard")

    planned = int(_tile(page, "planned").inner_text().replace(".", ""))
    page.evaluate("document.querySelector('[data-interval]').dataset.interval = '0.3'")
    url = page.url
    _call_now(live_admin, "completed")  # the engine makes one more call
    from playwright.sync_api import expect

    expect(_tile(page, "planned")).to_have_text(str(planned + 1), timeout=5000)
    assert page.url == url  # no reload, no navigation


def test_a_supervisor_pauses_and_resumes_the_campaign(page, live_admin):
    live_admin.user("supervisor", "giamsat")
    sign_in(page, live_admin, "giamsat")
    page.get_by_role("navigation", name="Các mục").get_by_role("link", name="Chiến dịch").click()
    assert page.get_by_text("trong vòng 5 giây").first.is_visible()
    page.get_by_role("button", name="Tạm dừng gọi").click()
    assert page.get_by_text("Đã tạm dừng chiến dịch.").is_visible()
    assert page.get_by_text("Tạm dừng bởi giamsat từ").is_visible()
    screenshot(page, "campaign_paused")
    page.goto(live_admin.url)
    assert page.get_by_text("Chiến dịch đang tạm dừng (do giamsat").is_visible()
    page.goto(f"{live_admin.url}/campaign")
    page.get_by_role("button", name="Tiếp tục gọi").click()
    assert page.get_by_text("Chiến dịch đã chạy lại.").is_visible()
    assert page.get_by_role("button", name="Tạm dừng gọi").is_visible()
    page.get_by_label("Gọi lại sau khi máy bận").fill("sắp tới")
    page.get_by_role("button", name="Lưu thay đổi").click()
    assert page.get_by_text("'sắp tới' không hợp lệ").is_visible()
    screenshot(page, "campaign_invalid")


def test_the_dashboard_and_the_calls_log_fit_a_360_px_phone(browser, live_admin):
    _call_now(live_admin, "busy")
    live_admin.user("staff", "nhanvien")
    context = phone_context(browser)
    page = context.new_page()
    try:
        sign_in(page, live_admin, "nhanvien")
        for path, name in (("/", "mobile_dashboard"), ("/calls", "mobile_calls")):
            page.goto(f"{live_admin.url}{path}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, f"{path} is {width} px wide"
            screenshot(page, name)
        page.goto(live_admin.url)
        assert page.locator("svg.outcome-chart").bounding_box()["width"] > 250
    finally:
        context.close()
