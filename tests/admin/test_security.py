"""Headers, CSRF, request size, escaping, the secret key, and error pages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from callengine import audit
from callengine.audit import AuditFilter
from callengine.errors import ConfigError
from callengine.settings import load_settings
from callengine.store.accounts import User
from admin import create_app
from tests.admin.conftest import PASSWORD, AuthActions, page_text

HOSTILE = "<script>alert(1)</script>"


def test_every_response_has_the_security_headers(client, signed_in):
    signed_in("admin")
    for path in ("/sign-in", "/", "/users", "/audit", "/api/v1/openapi.json", "/nope"):
        headers = client.get(path).headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["Cache-Control"] == "no-store", path


def test_pages_carry_no_inline_script(client, signed_in):
    signed_in("admin")
    for path in ("/sign-in", "/", "/users", "/users/new", "/audit", "/calls", "/campaign"):
        page = page_text(client.get(path, follow_redirects=True))
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
        assert all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
        assert page.count("<script") == len(scripts)
        assert "onclick" not in page and "style=" not in page


def test_the_stylesheet_is_served_and_may_be_cached(client):
    response = client.get("/static/admin.css")
    assert response.status_code == 200 and "no-store" not in response.headers.get(
        "Cache-Control", "")


def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(client, signed_in,
                                                                     db):
    signed_in("admin")
    response = client.post("/users/new", data={"username": "mallory", "role": "admin",
                                               "password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn hoặc không hợp lệ" in page_text(response)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1


def test_a_post_with_another_sessions_token_is_refused(app, client, signed_in, auth):
    signed_in("admin")
    other = app.test_client()
    foreign = type(auth)(other).csrf_token()
    response = client.post("/users/new", data={"csrf_token": foreign, "username": "mallory",
                                               "role": "admin", "password": PASSWORD,
                                               "confirm": PASSWORD})
    assert response.status_code == 400


def test_hostile_names_stay_inert(client, signed_in, auth, accounts):
    signed_in("admin")
    response = auth.post("/users/new", {"username": HOSTILE, "role": "staff",
                                        "password": PASSWORD, "confirm": PASSWORD},
                         follow_redirects=True)
    assert response.status_code == 200
    hostile = accounts.by_username(HOSTILE)
    for path in ("/users", f"/users/{hostile.id}", "/audit"):
        page = page_text(client.get(path))
        assert HOSTILE not in page, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path


def test_a_body_over_the_limit_gets_413_with_a_message(app_factory, make_user):
    app = app_factory(admin_max_request_mb=1)
    client = app.test_client()
    response = client.post("/sign-in", data={"username": "x" * (1024 * 1024 + 10)})
    assert response.status_code == 413
    assert "quá lớn (tối đa 1 MB)" in page_text(response)
    api = client.post("/api/v1/me", data=b"x" * (1024 * 1024 + 10))
    assert api.status_code == 413 and api.json["error"]["code"] == "payload_too_large"


def test_the_admin_does_not_start_without_a_secret_key(database_url):
    with pytest.raises(ConfigError, match="CALLENGINE_ADMIN_SECRET_KEY"):
        create_app(load_settings({}, database_url=database_url))


def test_a_wrong_role_gets_a_vietnamese_403_page(client, signed_in):
    signed_in("staff")
    response = client.get("/users")
    assert response.status_code == 403
    assert "Vai trò của bạn không được phép" in page_text(response)


def test_an_unknown_page_gets_a_404_page(client, signed_in):
    signed_in("staff")
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "Trang này không tồn tại" in page_text(response)



def test_behind_a_trusted_proxy_the_forwarded_address_is_audited(app_factory, make_user, db):
    app = app_factory(admin_trusted_proxies=1)
    make_user("staff", "lan")
    AuthActions(app.test_client()).sign_in("lan", headers={"X-Forwarded-For": "203.0.113.7"})
    [event] = audit.query(db, AuditFilter(action="auth.sign_in")).items
    assert event.address == "203.0.113.7"


def test_without_trusted_proxies_a_forwarded_header_is_ignored(auth, make_user, db):
    make_user("staff", "lan")
    auth.sign_in("lan", headers={"X-Forwarded-For": "203.0.113.7"})
    [event] = audit.query(db, AuditFilter(action="auth.sign_in")).items
    assert event.address == "127.0.0.1"
