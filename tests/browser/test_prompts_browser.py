"""The prompts page in headless Chromium: listen, upload, use; record with the fake microphone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from callengine.prompts import build_prompts
from callengine.questionnaire import load_questionnaire
from callengine.settings import DEFAULT_QUESTIONNAIRE
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, serve_admin, sign_in
from tests.unit.test_prompt_voice import tone_wav

QUESTIONNAIRE = load_questionnaire(DEFAULT_QUESTIONNAIRE)
FAKE_MICROPHONE = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@pytest.fixture(scope="module")
def sounds(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sounds")
    build_prompts(QUESTIONNAIRE, folder)
    return folder


@pytest.fixture(scope="module")
def prompts_admin(tmp_path_factory, sounds):
    with serve_admin(tmp_path_factory.mktemp("prompts-admin"), sounds_dir=sounds) as admin:
        admin.user("staff", "nhanvien")
        yield admin


def _section(page, prompt_id):
    return page.locator(f"#prompt-{prompt_id}")


def _played(page, audio) -> float:
    """Play an audio element to its end; how many seconds the browser reports it played."""
    return audio.evaluate("""a => new Promise((done, fail) => {
        a.addEventListener('ended', () => done(a.currentTime));
        a.addEventListener('error', () => fail('audio error'));
        a.play().catch(fail);
    })""")


def test_upload_a_recording_listen_and_use_it(page, prompts_admin, sounds, tmp_path):
    sign_in(page, prompts_admin, "nhanvien")
    page.get_by_role("navigation", name="Các mục").get_by_role("link", name="Lời nhắc").click()
    assert page.get_by_role("heading", name="Lời nhắc", exact=True).is_visible()
    for prompt_id in QUESTIONNAIRE.prompt_ids():
        assert _section(page, prompt_id).locator("audio").count() == 1
    fever = _section(page, "fever")
    assert fever.get_by_text(QUESTIONNAIRE.question("fever").text).is_visible()
    assert _played(page, fever.locator("audio")) > 0.5

    recording = tmp_path / "giọng chị Lan.wav"
    recording.write_bytes(tone_wav())
    fever.get_by_label("Bản ghi mới").set_input_files(str(recording))
    fever.get_by_role("button", name="Tải lên").click()
    expect(page.get_by_text("Đã chuyển đổi bản ghi")).to_be_visible()
    fever = _section(page, "fever")
    preview = fever.get_by_label("Nghe thử")
    assert 1.4 < _played(page, preview) < 1.9
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "prompts.png"), full_page=True)

    fever.get_by_role("button", name="Dùng bản ghi này").click()
    expect(page.get_by_text("Từ giờ người nghe máy sẽ nghe bản ghi này.")).to_be_visible()
    fever = _section(page, "fever")
    assert fever.get_by_text("Giọng người thật").is_visible()
    assert (sounds / "custom" / "fever.wav").is_file()
    assert 1.4 < _played(page, fever.locator("audio")) < 1.9  # the live file is the recording
    assert fever.get_by_role("button", name="Trở về giọng tổng hợp").is_visible()


def test_record_in_the_browser_with_the_fake_microphone(browser, prompts_admin):
    chromium = browser.browser_type.launch(executable_path=CHROMIUM,
                                           args=CHROMIUM_ARGS + FAKE_MICROPHONE)
    context = chromium.new_context(locale="vi-VN")
    context.grant_permissions(["microphone"], origin=prompts_admin.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, prompts_admin, "nhanvien")
        page.goto(f"{prompts_admin.url}/prompts")
        cough = _section(page, "cough")
        cough.get_by_role("button", name="Ghi âm trên trình duyệt").click()
        expect(cough.get_by_text("Đang ghi âm")).to_be_visible()
        page.wait_for_timeout(2500)  # Chromium's fake device plays a beeping tone
        cough.get_by_role("button", name="Dừng và gửi").click()
        expect(page.get_by_text("Đã chuyển đổi bản ghi")).to_be_visible()
        cough = _section(page, "cough")
        assert _played(page, cough.get_by_label("Nghe thử")) > 0.3
        assert "ghi-am-trinh-duyet.webm" in cough.inner_text()
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "prompts_recorder.png"), full_page=True)
        context.close()
        chromium.close()
