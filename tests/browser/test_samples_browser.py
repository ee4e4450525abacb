"""Samples in a real headless Chromium: a resident looks up a result on a 360 px phone (the
page weighed), and staff enter a positive result, confirming it, on a sample's page."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from callengine.health.samples import NewSample, PersonRef, register_sample
from tests.browser.conftest import phone_context, screenshot, sign_in
from tests.unit.casework_helpers import add_person, add_task

MAX_PAGE_BYTES = 30 * 1024


@pytest.fixture(scope="module")
def samples(live_admin):
    """Two people under monitoring with today's call pending, and a sample each."""
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    ids = []
    with live_admin.db.session() as s:
        for phone, name in (("+84913555001", "Trịnh Văn Hải"), ("+84913555002", "Mai Thị Lụa")):
            person = add_person(s, phone, name, period=(today - timedelta(days=1),
                                                        today + timedelta(days=12)))
            add_task(s, person, day=today, status="pending", last_outcome=None, attempts=0)
            ids.append(person.id)
    now = datetime.now(timezone.utc)
    return [register_sample(live_admin.db, NewSample(code, "rt_pcr", now - timedelta(hours=4),
                                                     PersonRef(person_id=pid),
                                                     site="Trạm y tế Quảng Hưng"),
                            actor="staff", now=now).id
            for code, pid in (("QX-0001", ids[0]), ("QX-0002", ids[1]))]


def test_a_resident_looks_up_a_result_on_a_360px_phone(browser, live_admin, samples):
    context = phone_context(browser)
    page = context.new_page()
    weight = {"bytes": 0}
    page.on("response", lambda r: weight.__setitem__("bytes", weight["bytes"] + len(r.body())))
    page.goto(f"{live_admin.url}/r")
    assert page.evaluate("document.scripts.length") == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "lookup_form_360px")
    form_weight = weight["bytes"]
    page.get_by_label("Số điện thoại đã khai khi lấy mẫu").fill("0913 555 002")
    page.get_by_label("Mã mẫu (in trên phiếu lấy mẫu)").fill("qx-0002")
    page.get_by_role("button", name="Xem kết quả").click()
    page.get_by_role("heading", name="Chưa có kết quả").wait_for()
    assert "/r" == page.url.removeprefix(live_admin.url)  # nothing personal in the URL
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "lookup_answer_360px")
    assert form_weight < MAX_PAGE_BYTES and weight["bytes"] - form_weight < MAX_PAGE_BYTES
    context.close()


def test_staff_confirm_a_positive_result_and_the_person_becomes_f0(page, live_admin, samples):
    live_admin.user("staff", "xetnghiem1")
    sign_in(page, live_admin, "xetnghiem1")
    page.goto(f"{live_admin.url}/samples/{samples[0]}")
    page.get_by_label("Kết quả", exact=True).select_option("positive")
    page.get_by_label("Giá trị Ct").fill("19,5")
    page.get_by_role("button", name="Lưu kết quả").click()
    page.get_by_label("Tôi đã kiểm tra: mẫu này dương tính").check()
    screenshot(page, "sample_positive_confirmation")
    page.get_by_role("button", name="Lưu kết quả").click()
    page.get_by_text("Người này đã là F0").wait_for()
    assert "Dương tính" in page.inner_text("main")
