"""The epidemic map in a real headless Chromium: the cartogram renders, a commune's tile can
be focused and tapped (its row of the table comes into view), the division switch works."""

from __future__ import annotations

from itertools import count

from callengine.places import backfill_place_codes
from tests.browser.conftest import phone_context, screenshot, sign_in
from tests.unit.casework_helpers import add_person

_PHONES = count(8000)
HOANG_QUY = "15886"


def _f0(live_admin, district: str, commune: str, how_many: int) -> None:
    with live_admin.db.session() as s:
        for _ in range(how_many):
            add_person(s, f"+8491200{next(_PHONES):04d}", "Ca bệnh", status="F0",
                       category="F0", district=district, commune=commune)
    backfill_place_codes(live_admin.db)


def test_the_map_renders_and_a_communes_tile_leads_to_its_figure(page, live_admin):
    _f0(live_admin, "H. Hoằng Hóa", "X. Hoằng Quỳ", 4)
    _f0(live_admin, "TP Thanh Hóa", "P. Hàm Rồng", 2)
    _f0(live_admin, "Huyện Mường Lát", "Xã Pù Nhi", 1)
    live_admin.user("staff", "bandonv")
    sign_in(page, live_admin, "bandonv")
    page.get_by_role("navigation", name="Các mục").get_by_role(
        "link", name="Bản đồ dịch tễ").click()
    assert page.get_by_role("heading", name="Bản đồ dịch tễ").is_visible()
    svg = page.locator("svg.epidemic-map")
    box = svg.bounding_box()
    assert box and box["width"] > 400 and box["height"] > 300
    assert page.locator("svg.epidemic-map a.commune").count() == 547
    tile = page.locator(f'svg.epidemic-map a.commune[data-code="{HOANG_QUY}"]')
    assert tile.locator("title").text_content() == \
        "Xã Hoằng Quỳ (Huyện Hoằng Hóa): F0 (ca bệnh) 4"
    tile_box = tile.locator("rect").bounding_box()
    assert tile_box["width"] > 8  # big enough to point at
    assert tile.locator("rect").get_attribute("fill") != "#eef1f4"  # coloured, not zero
    assert page.locator(".map-legend").get_by_text("không có").is_visible()
    tile.focus()
    page.keyboard.press("Enter")  # a keyboard user "taps" the tile
    assert page.url.endswith(f"#u-{HOANG_QUY}")
    row = page.locator(f"#u-{HOANG_QUY}")
    assert row.is_visible() and "4" in row.inner_text()
    page.goto(f"{live_admin.url}/map")  # the whole map in the screenshot
    tile.hover()
    screenshot(page, "epidemic_map_old_division")

    page.get_by_label("Từ 1/7/2025 (xã sau sắp xếp)").check()
    page.get_by_role("button", name="Xem").click()
    assert page.locator("svg.epidemic-map a.commune").count() == 166
    assert page.locator("svg.epidemic-map").get_attribute("data-division") == "new"


def test_the_map_fits_a_phone(browser, live_admin):
    live_admin.user("supervisor", "bandogs")
    context = phone_context(browser)
    page = context.new_page()
    try:
        sign_in(page, live_admin, "bandogs")
        page.goto(f"{live_admin.url}/map?division=new")
        tile = page.locator("svg.epidemic-map a.commune").first
        tile.tap()
        assert "#u-" in page.url
        assert page.locator(page.url[page.url.index("#"):]).is_visible()
        page.goto(f"{live_admin.url}/map?division=new")
        screenshot(page, "epidemic_map_phone")
    finally:
        context.close()
