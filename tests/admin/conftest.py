"""Admin fixtures, flaskr style: `app`, `client`, `auth`, and factories of accounts.

Every test here runs on SQLite and on the real PostgreSQL server (the `db` fixture).
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from typing import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from callengine.accounts import Account
from callengine.settings import Settings, load_settings
from admin import create_app

PASSWORD = "mật khẩu thử nghiệm"
SECRET_KEY = "a-test-secret-key-never-used-in-production"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class MovableClock:
    """The real time, plus whatever a test has skipped ahead."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset

    def monotonic(self) -> float:
        return time.monotonic() + self.offset.total_seconds()

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def admin_settings(database_url: str, **overrides) -> Settings:
    """Settings for a test app: cheap argon2id, generous limits unless a test lowers them."""
    values = dict(database_url=database_url, admin_secret_key=SECRET_KEY,
                  admin_password_time_cost=1, admin_password_memory_kib=64,
                  admin_login_limit_account="1000 per minute",
                  admin_login_limit_client="1000 per minute")
    values.update(overrides)
    return load_settings({}, **values)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def app_factory(database_url, db, clock, tmp_path) -> Callable[..., Flask]:
    """Build an app on the test database with some settings changed (files it keeps, such as
    uploaded lists, go to the test's own data_dir)."""
    def build(**overrides) -> Flask:
        overrides.setdefault("data_dir", tmp_path / "data")
        app = create_app(admin_settings(database_url, **overrides), db=db, clock=clock)
        app.config["TESTING"] = True
        return app
    return build


@pytest.fixture
def app(app_factory) -> Flask:
    return app_factory()


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def accounts(app):
    return app.extensions["callengine"].accounts


@pytest.fixture
def make_user(accounts) -> Callable[..., Account]:
    """Create an account: make_user("staff") or make_user("admin", "lan")."""
    counter = iter(range(1, 1000))

    def make(role: str, username: str | None = None, password: str = PASSWORD) -> Account:
        return accounts.create_user(username or f"{role}{next(counter)}", password, role)
    return make


@pytest.fixture
def token_of(make_user, accounts) -> Callable[..., dict[str, str]]:
    """The API's Authorization header for a new account of a role."""
    def issue(role: str, username: str | None = None) -> dict[str, str]:
        token = accounts.issue_token(make_user(role, username).id).token
        return {"Authorization": f"Bearer {token}"}
    return issue


class AuthActions:
    """Sign in and out through the real forms, and post forms with their CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def csrf_token(self) -> str:
        page = self.client.get("/sign-in", follow_redirects=True).get_data(as_text=True)
        return _CSRF.search(page).group(1)

    def post(self, url: str, data: dict | None = None, **kwargs):
        return self.client.post(url, data={"csrf_token": self.csrf_token(), **(data or {})},
                                **kwargs)

    def sign_in(self, username: str, password: str = PASSWORD, **kwargs):
        return self.post("/sign-in", {"username": username, "password": password}, **kwargs)

    def sign_out(self):
        return self.post("/sign-out")


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def signed_in(make_user, auth) -> Callable[[str], Account]:
    """Create an account of a role and sign the test client in as it."""
    def sign_in_as(role: str) -> Account:
        account = make_user(role)
        assert auth.sign_in(account.username).status_code == 302
        return account
    return sign_in_as


def page_text(response) -> str:
    return response.get_data(as_text=True)
