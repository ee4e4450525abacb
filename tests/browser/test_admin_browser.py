"""The admin in a real headless Chromium: signing in and out, roles, small screens."""

from __future__ import annotations

from tests.browser.conftest import SCREENSHOTS, phone_context, sign_in


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_sign_in_and_out(page, live_admin):
    live_admin.user("admin", "quantri")
    page.goto(live_admin.url)
    assert page.url.endswith("/sign-in?next=/")
    _shot(page, "sign_in_page")
    sign_in(page, live_admin, "quantri", "sai mật khẩu rồi")
    assert page.get_by_text("Sai tên đăng nhập hoặc mật khẩu.").is_visible()
    sign_in(page, live_admin, "quantri")
    assert page.get_by_role("heading", name="Tổng quan").is_visible()  # the dashboard
    assert page.get_by_text("quantri · Quản trị viên").is_visible()
    nav = page.get_by_role("navigation", name="Các mục")
    assert nav.get_by_role("link", name="Tài khoản").is_visible()
    nav.get_by_role("link", name="Tài khoản").click()
    assert page.get_by_role("heading", name="Tài khoản").is_visible()
    _shot(page, "users_page")
    page.get_by_role("link", name="Nhật ký").click()
    assert page.locator("code", has_text="auth.sign_in_failed").first.is_visible()
    _shot(page, "audit_page")
    page.get_by_role("button", name="Đăng xuất").click()
    assert page.get_by_text("Bạn đã đăng xuất.").is_visible()
    page.goto(f"{live_admin.url}/users")
    assert "/sign-in" in page.url


def test_staff_neither_see_nor_open_admin_pages(page, live_admin):
    live_admin.user("staff", "nhanvien")
    sign_in(page, live_admin, "nhanvien")
    nav = page.get_by_role("navigation", name="Các mục")
    assert nav.get_by_role("link", name="Tổng quan").is_visible()
    assert nav.get_by_role("link", name="Tài khoản").count() == 0
    assert nav.get_by_role("link", name="Nhật ký").count() == 0
    response = page.goto(f"{live_admin.url}/users")
    assert response.status == 403
    assert page.get_by_text("Vai trò của bạn không được phép").is_visible()
    assert page.goto(f"{live_admin.url}/audit").status == 403


def test_the_language_switch_shows_english(page, live_admin):
    page.goto(f"{live_admin.url}/sign-in")
    page.get_by_role("button", name="English").click()
    assert page.get_by_role("heading", name="Sign in").is_visible()
    page.get_by_role("button", name="Tiếng Việt").click()
    assert page.get_by_role("heading", name="Đăng nhập").is_visible()


def test_no_horizontal_scroll_at_360_px(browser, live_admin):
    live_admin.user("admin", "quantri")
    context = phone_context(browser)
    page = context.new_page()
    try:
        sign_in(page, live_admin, "quantri")
        for path in ("/sign-in", "/", "/users", "/users/new", "/users/1", "/audit"):
            page.goto(f"{live_admin.url}{path}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, f"{path} is {width} px wide"
            tallest = page.evaluate(
                "Math.max(0, ...[...document.querySelectorAll('th')].map(h => h.offsetHeight))")
            assert tallest < 60, f"{path}: a column heading is squeezed ({tallest} px tall)"
            _shot(page, f"mobile_{path.strip('/').replace('/', '_') or 'home'}")
    finally:
        context.close()
