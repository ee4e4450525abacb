"""Admins manage accounts in the browser; every change is in the audit log."""

from __future__ import annotations

import re

from callengine import audit
from callengine.audit import AuditFilter
from tests.admin.conftest import PASSWORD, AuthActions, page_text

NEW_PASSWORD = "một mật khẩu mới hơn"


def _new_account(auth, username="lan", role="staff", password=PASSWORD, confirm=None):
    return auth.post("/users/new", {"username": username, "role": role, "password": password,
                                    "confirm": confirm or password})


def test_an_admin_creates_an_account_who_can_then_sign_in(app, auth, signed_in, db):
    boss = signed_in("admin")
    response = _new_account(auth)
    assert response.status_code == 302
    page = page_text(auth.client.get(response.headers["Location"]))
    assert "Đã tạo tài khoản lan" in page and "Nhân viên" in page
    assert AuthActions(app.test_client()).sign_in("lan").status_code == 302
    event = audit.query(db, AuditFilter(action="user.create")).items[0]
    assert event.user_id == boss.id and event.detail == {"username": "lan", "role": "staff"}


def test_the_create_form_explains_what_is_wrong(auth, signed_in, make_user):
    signed_in("admin")
    short = _new_account(auth, password="ngắn")
    assert short.status_code == 400 and "ít nhất 10 ký tự" in page_text(short)
    mismatch = _new_account(auth, confirm="một mật khẩu khác hẳn")
    assert "Hai lần nhập mật khẩu không khớp" in page_text(mismatch)
    make_user("staff", "lan")
    taken = _new_account(auth)
    assert "Tên đăng nhập này đã có người dùng" in page_text(taken)


def test_an_admin_changes_a_role_and_it_is_audited(auth, signed_in, make_user, accounts, db):
    signed_in("admin")
    lan = make_user("staff", "lan")
    auth.post(f"/users/{lan.id}/role", {"role": "supervisor"})
    assert accounts.get(lan.id).role == "supervisor"
    [event] = audit.query(db, AuditFilter(action="user.role")).items
    assert event.detail == {"from": "staff", "to": "supervisor"}


def test_the_last_admin_cannot_demote_themself(auth, signed_in, accounts):
    boss = signed_in("admin")
    response = auth.post(f"/users/{boss.id}/role", {"role": "staff"}, follow_redirects=True)
    assert "quản trị viên cuối cùng" in page_text(response)
    assert accounts.get(boss.id).role == "admin"


def test_a_password_reset_works_and_is_audited_without_the_password(app, auth, signed_in,
                                                                   make_user, db):
    signed_in("admin")
    lan = make_user("staff", "lan")
    response = auth.post(f"/users/{lan.id}/password",
                         {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    fresh = AuthActions(app.test_client())
    assert fresh.sign_in("lan").status_code == 200  # the old password no longer works
    assert fresh.sign_in("lan", NEW_PASSWORD).status_code == 302
    [event] = audit.query(db, AuditFilter(action="user.password")).items
    assert NEW_PASSWORD not in repr(event)


def test_disable_and_enable(app, auth, signed_in, make_user, accounts):
    signed_in("admin")
    lan = make_user("staff", "lan")
    auth.post(f"/users/{lan.id}/disable")
    assert not accounts.get(lan.id).active
    assert AuthActions(app.test_client()).sign_in("lan").status_code == 200
    page = page_text(auth.client.get(f"/users/{lan.id}"))
    assert "Mở khóa tài khoản" in page
    auth.post(f"/users/{lan.id}/enable")
    assert accounts.get(lan.id).active


def test_a_token_is_shown_once_then_only_its_prefix(client, auth, signed_in, make_user,
                                                    accounts):
    signed_in("admin")
    lan = make_user("staff", "lan")
    shown = page_text(auth.post(f"/users/{lan.id}/tokens"))
    token = re.search(r'<code class="token">([^<]+)</code>', shown).group(1)
    assert accounts.user_for_token(token).id == lan.id
    detail = page_text(client.get(f"/users/{lan.id}"))
    assert token not in detail and token[:8] in detail
    token_id = accounts.list_tokens(lan.id)[0].id
    auth.post(f"/users/{lan.id}/tokens/{token_id}/revoke")
    assert accounts.user_for_token(token) is None
    assert "Đã thu hồi" in page_text(client.get(f"/users/{lan.id}"))


def test_the_accounts_list_shows_dates_as_dd_mm_yyyy(client, signed_in):
    signed_in("admin")
    page = page_text(client.get("/users"))
    assert re.search(r"<td>\d\d/\d\d/\d{4} \d\d:\d\d</td>", page)
