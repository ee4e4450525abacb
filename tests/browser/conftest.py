"""A live admin on 127.0.0.1 (waitress in a thread) and a real headless Chromium.

Chromium is Debian's (/usr/bin/chromium, installed by scripts/test); Playwright only drives
it. Each test saves a screenshot to test-artifacts/screenshots/<test>.png.
"""

from __future__ import annotations

import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
import waitress

from callengine.accounts import Accounts
from callengine.store.db import Database
from admin import create_app
from tests.admin.conftest import PASSWORD, admin_settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--autoplay-policy=no-user-gesture-required"]  # audio plays when told to
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"



class LiveAdmin:
    """The served app, its address, its accounts service, its database and the folder its
    settings read recordings from."""

    def __init__(self, url: str, accounts: Accounts, db: Database, recordings: Path) -> None:
        self.url = url
        self.accounts = accounts
        self.db = db
        self.recordings = recordings

    def user(self, role: str, username: str):
        return self.accounts.by_username(username) or self.accounts.create_user(
            username, PASSWORD, role)


@contextmanager
def serve_admin(folder: Path, **overrides):
    """An admin on a fresh SQLite database in folder (recordings and data there too), served
    on a free port."""
    database_url = f"sqlite:///{folder / 'admin.db'}"
    recordings = folder / "recordings"
    recordings.mkdir()
    overrides = {"recordings_dir": recordings, "data_dir": folder / "data", **overrides}
    db = Database(database_url)
    app = create_app(admin_settings(database_url, **overrides), db=db)
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield LiveAdmin(f"http://127.0.0.1:{server.effective_port}",
                        app.extensions["callengine"].accounts, db, recordings)
    finally:
        server.close()
        thread.join(timeout=5)
        db.dispose()


@pytest.fixture(scope="session")
def live_admin(tmp_path_factory):
    with serve_admin(tmp_path_factory.mktemp("browser")) as admin:
        yield admin


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), f"{CHROMIUM} is missing: scripts/test installs Debian's chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def phone_context(browser):
    """A browser context like a 360 px wide phone (touch, 2x pixels, Vietnamese)."""
    return browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN",
                               is_mobile=True, has_touch=True, device_scale_factor=2)


def screenshot(page, name: str) -> None:
    """Save the whole page as test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page, live_admin: LiveAdmin, username: str, password: str = PASSWORD) -> None:
    """Fill in the sign-in form as a person would."""
    page.goto(f"{live_admin.url}/sign-in")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
