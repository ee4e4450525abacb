"""Imports and exports in a real Chromium: upload a workbook, read its preview, commit it."""

from __future__ import annotations

from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.fixtures.imports import workbooks as wb


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_upload_a_workbook_see_its_rejected_row_and_commit_it(page, live_admin, tmp_path):
    problems = []
    page.on("console", lambda m: problems.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    live_admin.user("staff", "canbo")
    sign_in(page, live_admin, "canbo")
    page.get_by_role("navigation", name="Các mục").get_by_role("link", name="Nhập").click()
    assert page.get_by_role("heading", name="Nhập danh sách").is_visible()
    _shot(page, "imports_form")
    page.get_by_label("Tệp (.xlsx, .xls, .csv)").set_input_files(
        str(wb.web_upload(tmp_path, "ds_trinh_duyet.xlsx")))
    page.get_by_label("Ngày của danh sách").fill("2021-08-15")
    page.get_by_role("button", name="Tải lên và xem trước").click()
    page.get_by_role("heading", name="Xem trước: danh sách ngày 15/08/2021").wait_for()
    rejected = page.locator("table.rejected-rows tbody tr")
    assert rejected.count() == 1
    assert "không có số điện thoại nào" in rejected.first.inner_text()
    assert wb.WEB_BAD_PHONE in rejected.first.inner_text()  # shown as text, not run
    assert page.locator(".count.created dd").inner_text() == "3"
    _shot(page, "imports_preview")
    page.get_by_role("button", name="Ghi vào hệ thống").click()
    assert page.get_by_text("Đã nhập danh sách: 3 tạo mới").is_visible()
    history = page.locator("#history")
    assert history.get_by_role("link", name="ds_trinh_duyet.xlsx").is_visible()
    assert history.get_by_text("canbo").first.is_visible()
    _shot(page, "imports_history")
    assert not problems, problems


def test_imports_and_exports_fit_a_360_px_screen(browser, live_admin, tmp_path):
    live_admin.user("staff", "canbo")
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN",
                                  is_mobile=True, has_touch=True, device_scale_factor=2)
    page = context.new_page()
    try:
        sign_in(page, live_admin, "canbo")
        page.goto(f"{live_admin.url}/imports")
        page.get_by_label("Tệp (.xlsx, .xls, .csv)").set_input_files(
            str(wb.web_upload(tmp_path, "ds_dien_thoai.xlsx")))
        page.get_by_label("Ngày của danh sách").fill("2021-08-15")
        page.get_by_role("button", name="Tải lên và xem trước").click()
        page.locator("table.rejected-rows").wait_for()
        preview = page.url
        for name, url in (("imports", f"{live_admin.url}/imports"), ("imports_preview", preview),
                          ("exports", f"{live_admin.url}/exports")):
            page.goto(url)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, f"{name} is {width} px wide"
            _shot(page, f"mobile_{name}")
    finally:
        context.close()
