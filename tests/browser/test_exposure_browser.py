"""A supervisor confirms a case's contacts in a real headless Chromium: from the case's page
to the review, one candidate unticked, a household member added, the confirmation step, the
enrolment."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from callengine.clock import to_db
from callengine.store.exposure import ExposureReview
from callengine.store.models import Person
from tests.browser.conftest import screenshot, sign_in
from tests.unit.exposure_helpers import market_story


def test_a_supervisor_confirms_the_contacts_of_a_case(page, live_admin):
    with live_admin.db.session() as s:
        yesterday = to_db(datetime.now(timezone.utc)) - timedelta(days=1)  # the app's clock
        story = market_story(s, yesterday)
    live_admin.user("supervisor", "giamsat-tx")
    sign_in(page, live_admin, "giamsat-tx")
    page.goto(f"{live_admin.url}/people/{story['case'].id}")
    page.get_by_role("link", name="Người tiếp xúc (từ quét mã QR)").click()
    assert page.get_by_role("heading", name="Người tiếp xúc với ca F0 Lê Văn Ca").is_visible()
    venues = page.locator("table.venue-counts").inner_text()
    assert "Chợ Nga Liên" in venues and "Nhà thuốc Hồng Phúc" in venues
    boxes = page.locator("table.candidates input[type=checkbox]")
    assert boxes.count() == 2 and all(boxes.nth(i).is_checked() for i in range(2))
    assert "Phạm Văn Dũng" in page.get_by_text("đã là F0").inner_text()
    screenshot(page, "exposure_review")

    stranger = page.locator("table.candidates tr", has=page.locator('input[value="Hoàng Văn Em"]'))
    stranger.locator("input[type=checkbox]").uncheck()
    household = page.locator("table.f2-hand tbody tr").first
    household.get_by_label("Họ tên").fill("Lê Thị Hoa")
    household.get_by_label("Số điện thoại").fill("0912 000 501")
    household.get_by_label("Xã/phường").fill("Nga Liên")
    page.get_by_role("button", name="Xem lại và xác nhận").click()

    assert page.get_by_role("heading", name="Xác nhận người tiếp xúc với Lê Văn Ca").is_visible()
    assert page.locator(".f1-chosen li").all_inner_texts() == ["Trần Thị Bích · 0912000202"]
    assert page.locator(".f2-chosen li").all_inner_texts() == [
        "Lê Thị Hoa · 0912 000 501 · Nga Liên"]
    screenshot(page, "exposure_confirm_step")
    page.get_by_role("button", name="Xác nhận và ghi vào sổ").click()

    assert page.get_by_text("Đã xác nhận: 1 F1 và 1 F2").is_visible()
    assert page.locator("table.candidates").count() == 0
    screenshot(page, "exposure_confirmed")
    with live_admin.db.session() as s:
        review = s.get(ExposureReview, story["review"].id)
        assert review.status == "confirmed" and review.confirmed_by == "giamsat-tx"
        hoa = s.scalars(select(Person).where(Person.phone == "+84912000501")).one()
        assert hoa.category == "F2"
        assert s.get(Person, story["known_f2"].id).category == "F1"

