"""A supervisor works a flag in a real headless Chromium: the queue, the flag, its recording
played in the page's audio player, an action; and the queue on a phone."""

from __future__ import annotations

from datetime import timedelta

from tests.admin.flag_helpers import seed_flag, write_wav
from tests.browser.conftest import phone_context, screenshot, sign_in

PLAYED = """audio => new Promise((resolve, reject) => {
    const done = () => resolve({time: audio.currentTime, ended: audio.ended,
                                duration: audio.duration});
    audio.addEventListener('ended', done);
    audio.addEventListener('error', () => reject(new Error('cannot play: ' +
                                                           (audio.error && audio.error.code))));
    audio.play().catch(reject);
})"""


def _flags(live_admin, phone_suffix: str):
    """An urgent symptom flag with a real recording, and an older ordinary one."""
    urgent = seed_flag(live_admin.db, name="Trần Thị Bình", phone=f"+849123{phone_suffix}1")
    write_wav(live_admin.recordings / urgent.recording, seconds=0.6)
    plain = seed_flag(live_admin.db, name="Lê Văn Cường", phone=f"+849123{phone_suffix}2",
                      kind="unreachable", urgent=False, age=timedelta(hours=5))
    return urgent, plain


def test_a_supervisor_listens_to_a_flag_and_resolves_it(page, live_admin):
    urgent, plain = _flags(live_admin, "4000")
    live_admin.user("supervisor", "giamsat")
    sign_in(page, live_admin, "giamsat")
    page.get_by_role("navigation", name="Các mục").get_by_role("link", name="Cảnh báo").click()
    assert page.get_by_role("heading", name="Cảnh báo").is_visible()
    page.get_by_text("Bộ lọc").click()  # the filters fold away until asked for
    assert page.get_by_label("Loại").is_visible()
    first = page.locator(".flag-item").first
    assert "Khẩn" in first.inner_text() and "Trần Thị Bình" in first.inner_text()
    screenshot(page, "flags_queue")

    page.locator(f'a[href="/flags/{urgent.flag_id}"]').click()
    assert page.get_by_text("Hôm nay bạn có bị sốt không?").is_visible()
    assert page.get_by_text("+84912340001").is_visible()  # the full number on the flag page
    audio = page.locator("audio")
    assert audio.count() == 1
    played = audio.evaluate(PLAYED)
    assert played["ended"] and played["time"] > 0.5, played
    screenshot(page, "flag_detail")

    page.get_by_label("Việc đã làm").select_option("no_action_needed")
    page.get_by_label("Ghi chú").fill("Đã gọi lại: người này khỏe, báo nhầm.")
    page.get_by_role("button", name="Lưu").click()
    assert page.get_by_text(f"Cờ #{urgent.flag_id}: Không cần xử lý.").is_visible()
    assert page.locator(f'a[href="/flags/{urgent.flag_id}"]').count() == 0
    assert page.locator(f'a[href="/flags/{plain.flag_id}"]').count() == 1
    screenshot(page, "flags_queue_after_action")


def test_the_queue_and_a_flag_fit_a_360_px_phone(browser, live_admin):
    urgent, _plain = _flags(live_admin, "5000")
    live_admin.user("supervisor", "giamsat")
    context = phone_context(browser)
    page = context.new_page()
    try:
        sign_in(page, live_admin, "giamsat")
        for path, name in (("/flags", "mobile_flags_queue"),
                           (f"/flags/{urgent.flag_id}", "mobile_flag_detail")):
            page.goto(f"{live_admin.url}{path}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, f"{path} is {width} px wide"
            screenshot(page, name)
        assert page.get_by_role("button", name="Lưu").is_visible()
    finally:
        context.close()
