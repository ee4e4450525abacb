"""Signing in and out: audit, throttling, idle timeout, cookies, ended sessions."""

from __future__ import annotations

from http.cookies import SimpleCookie

from callengine import audit
from callengine.audit import AuditFilter
from tests.admin.conftest import PASSWORD, AuthActions, page_text


def _events(db, action):
    return audit.query(db, AuditFilter(action=action)).items


def test_sign_in_lands_on_the_overview_and_is_audited(client, auth, make_user, db):
    lan = make_user("staff", "lan")
    response = auth.sign_in("LAN", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = page_text(client.get("/"))
    assert "<h1>Tổng quan · " in page and "lan · Nhân viên" in page
    [event] = _events(db, "auth.sign_in")
    assert (event.user_id, event.address) == (lan.id, "10.1.2.3")


def test_a_wrong_password_is_refused_and_audited_without_the_password(client, auth,
                                                                     make_user, db):
    make_user("staff", "lan")
    response = auth.sign_in("lan", "not the password at all")
    assert response.status_code == 200
    assert "Sai tên đăng nhập hoặc mật khẩu" in page_text(response)
    assert client.get("/").status_code == 302
    [event] = _events(db, "auth.sign_in_failed")
    assert event.username == "lan" and event.user_id is None
    assert "not the password" not in repr(event)


def test_unknown_and_disabled_users_get_the_same_answer(auth, make_user, accounts):
    make_user("admin", "boss")
    off = make_user("staff", "off")
    accounts.set_active(off.id, False)
    unknown = page_text(auth.sign_in("nobody"))
    disabled = page_text(auth.sign_in("off"))
    assert "Sai tên đăng nhập hoặc mật khẩu" in unknown and "Sai tên" in disabled


def test_sign_out_needs_a_post_with_its_token_and_ends_the_session(client, auth, signed_in):
    signed_in("staff")
    assert client.get("/sign-out").status_code == 405
    assert client.post("/sign-out").status_code == 400  # no CSRF token
    assert client.get("/").status_code == 200
    response = auth.sign_out()
    assert response.status_code == 302
    assert client.get("/").status_code == 302
    assert "Bạn đã đăng xuất" in page_text(client.get("/sign-in"))


def test_sign_in_is_throttled_per_account(app_factory, make_user, db):
    app = app_factory(admin_login_limit_account="3 per minute")
    make_user("staff", "lan")
    for n in range(3):  # from three different addresses: only the account limit applies
        client = AuthActions(app.test_client())
        response = client.sign_in("lan", "wrong password", environ_base={
            "REMOTE_ADDR": f"10.0.0.{n}"})
        assert response.status_code == 200
    blocked = AuthActions(app.test_client()).sign_in("lan", environ_base={
        "REMOTE_ADDR": "10.0.0.9"})
    assert blocked.status_code == 429 and blocked.headers["Retry-After"] == "60"
    assert "quá nhiều lần" in page_text(blocked)
    other = AuthActions(app.test_client()).sign_in("someone-else", "wrong password")
    assert other.status_code == 200


def test_sign_in_is_throttled_per_client_address(app_factory, make_user):
    app = app_factory(admin_login_limit_client="4 per minute")
    make_user("staff", "lan")
    auth = AuthActions(app.test_client())
    here = {"REMOTE_ADDR": "10.9.9.9"}
    for n in range(4):
        assert auth.sign_in(f"guess{n}", "wrong password", environ_base=here).status_code == 200
    assert auth.sign_in("lan", environ_base=here).status_code == 429
    elsewhere = AuthActions(app.test_client())
    assert elsewhere.sign_in("lan", environ_base={"REMOTE_ADDR": "10.8.8.8"}).status_code == 302


def test_the_throttle_lets_go_after_its_window(app_factory, make_user, clock):
    app = app_factory(admin_login_limit_account="2 per minute")
    make_user("staff", "lan")
    auth = AuthActions(app.test_client())
    for _ in range(2):
        auth.sign_in("lan", "wrong password")
    assert auth.sign_in("lan").status_code == 429
    clock.advance(61)
    assert auth.sign_in("lan").status_code == 302


def test_an_idle_session_ends_with_a_message(client, signed_in, clock):
    signed_in("staff")
    clock.advance(29 * 60)
    assert client.get("/").status_code == 200  # activity keeps it alive
    clock.advance(29 * 60)
    assert client.get("/").status_code == 200
    clock.advance(31 * 60)
    response = client.get("/")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert "hết hạn do không hoạt động" in page_text(client.get(response.headers["Location"]))
    assert client.get("/").status_code == 302


def test_the_session_cookie_is_httponly_samesite_lax_and_not_secure_by_default(auth,
                                                                              make_user):
    make_user("staff", "lan")
    cookie = auth.sign_in("lan").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "Expires=" in cookie  # a permanent session that the idle timeout renews
    assert PASSWORD not in cookie


def test_secure_cookies_when_served_over_https(app_factory, make_user):
    app = app_factory(admin_secure_cookies=True)
    make_user("staff", "lan")
    cookie = AuthActions(app.test_client()).sign_in("lan").headers["Set-Cookie"]
    assert "Secure" in SimpleCookie(cookie)["callengine_admin"].output()


def test_a_password_reset_or_a_disabled_account_ends_open_sessions(client, signed_in,
                                                                  accounts):
    lan = signed_in("staff")
    accounts.set_password(lan.id, "một mật khẩu mới hơn")
    assert client.get("/").status_code == 302
    AuthActions(client).sign_in(lan.username, "một mật khẩu mới hơn")
    assert client.get("/").status_code == 200
    accounts.set_active(lan.id, False)
    assert client.get("/").status_code == 302


def test_after_sign_in_only_a_local_path_is_followed(auth, make_user):
    make_user("staff", "lan")
    response = auth.post("/sign-in", {"username": "lan", "password": PASSWORD,
                                      "next": "//evil.example/x"})
    assert response.headers["Location"] == "/"
    response = auth.post("/sign-in", {"username": "lan", "password": PASSWORD,
                                      "next": "/users"})
    assert response.headers["Location"] == "/users"


def test_the_language_switch_keeps_english_for_the_session(client, auth):
    assert "Đăng nhập" in page_text(client.get("/sign-in"))
    response = auth.post("/language", {"lang": "en", "next": "/sign-in"})
    assert response.headers["Location"] == "/sign-in"
    page = page_text(client.get("/sign-in"))
    assert "<h1>Sign in</h1>" in page and 'lang="en"' in page
    assert auth.post("/language", {"lang": "fr"}).status_code == 400


def test_the_default_language_is_a_setting(app_factory):
    app = app_factory(admin_language="en")
    assert "<h1>Sign in</h1>" in page_text(app.test_client().get("/sign-in"))
