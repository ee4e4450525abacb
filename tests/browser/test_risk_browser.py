"""The business's risk self-assessment in a real headless Chromium on a 360 px phone: the
form fits the screen, weighs under 30 KB, works without JavaScript, and the result shows the
band and the advice."""

from __future__ import annotations

from datetime import datetime, timezone

from callengine.health.risk import risk_token
from callengine.health.risk_criteria import default_criteria
from callengine.health.venues import create_venue
from tests.browser.conftest import phone_context, screenshot
from tests.browser.test_checkin_browser import BUDGET, _weigh


def test_a_business_assesses_itself_on_a_360_px_phone(browser, live_admin):
    now = datetime.now(timezone.utc)
    venue = create_venue(live_admin.db, {"name": "Xưởng may Hòa Bình",
                                         "address": "Khu công nghiệp Lễ Môn"},
                         now=now, created_by="browser")
    token = risk_token(live_admin.db, venue.id, now=now)
    context = phone_context(browser)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sizes = _weigh(page)
        page.goto(f"{live_admin.url}/v/{token}/risk")
        assert sum(sizes) < BUDGET, f"form page weighs {sum(sizes)} bytes: {sizes}"
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"the page is {width} px wide: it scrolls sideways"
        screenshot(page, "risk_form_360px")
        for criterion in default_criteria().criteria:  # the worst option everywhere
            worst = max(criterion.options, key=lambda o: o.points)
            page.locator(f'input[name="{criterion.id}"][value="{worst.id}"]').check()
        page.get_by_label("Người đánh giá").fill("Lê Văn Minh")
        page.get_by_role("button", name="Gửi đánh giá").click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", name="Kết quả đánh giá nguy cơ").is_visible()
        assert "Nguy cơ rất cao" in page.content()
        assert "Không được hoạt động." in page.content()
        screenshot(page, "risk_result_360px")
    finally:
        context.close()
