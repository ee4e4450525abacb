"""Accounts, API tokens, the audit log and its keyset paging, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select

from callengine import audit
from callengine.accounts import AccountError, Accounts
from callengine.audit import Actor, AuditFilter
from callengine.errors import ConfigError
from callengine.paging import InvalidCursor
from callengine.settings import load_settings
from callengine.store.accounts import ApiToken, User
from callengine.throttle import retry_after

PASSWORD = "mật khẩu dài đủ"


class FakeClock:
    def __init__(self) -> None:
        self.moment = datetime(2026, 3, 1, 1, 0, tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self.moment

    def monotonic(self) -> float:
        return self.moment.timestamp()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def accounts(db, clock):
    return Accounts(db, time_cost=1, memory_kib=64, clock=clock)


def test_the_migration_creates_the_tables_the_models_describe(db):
    names = set(inspect(db.engine).get_table_names())
    assert {"users", "api_tokens", "audit_events"} <= names
    columns = {c["name"] for c in inspect(db.engine).get_columns("users")}
    assert columns == {c.name for c in User.__table__.columns}


def test_create_and_authenticate_with_any_case(accounts):
    created = accounts.create_user("  Lan.Nguyen ", PASSWORD, "staff")
    assert created.username == "lan.nguyen"
    assert accounts.authenticate("LAN.NGUYEN", PASSWORD).id == created.id
    assert accounts.authenticate("lan.nguyen", "wrong password!") is None
    assert accounts.authenticate("nobody", PASSWORD) is None


def test_passwords_are_argon2id_and_never_stored_in_clear(accounts, db):
    accounts.create_user("lan", PASSWORD, "staff")
    with db.session() as session:
        stored = session.scalar(select(User.password_hash))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_a_short_password_is_refused_in_vietnamese(accounts):
    with pytest.raises(AccountError) as error:
        accounts.create_user("lan", "ngắn", "staff")
    assert error.value.code == "weak_password"
    assert "ít nhất 10 ký tự" in str(error.value)


def test_a_taken_name_or_a_bad_role_is_refused(accounts):
    accounts.create_user("lan", PASSWORD, "staff")
    with pytest.raises(AccountError, match="đã có"):
        accounts.create_user("LAN", PASSWORD, "staff")
    with pytest.raises(AccountError, match="Vai trò"):
        accounts.create_user("minh", PASSWORD, "root")


def test_a_disabled_user_cannot_sign_in_nor_use_tokens(accounts):
    accounts.create_user("boss", PASSWORD, "admin")
    staff = accounts.create_user("lan", PASSWORD, "staff")
    token = accounts.issue_token(staff.id)
    accounts.set_active(staff.id, False)
    assert accounts.authenticate("lan", PASSWORD) is None
    assert accounts.user_for_token(token.token) is None
    accounts.set_active(staff.id, True)
    assert accounts.authenticate("lan", PASSWORD) is not None


def test_the_last_active_admin_can_be_neither_demoted_nor_disabled(accounts):
    boss = accounts.create_user("boss", PASSWORD, "admin")
    with pytest.raises(AccountError) as error:
        accounts.set_role(boss.id, "staff")
    assert error.value.code == "last_admin"
    with pytest.raises(AccountError):
        accounts.set_active(boss.id, False)
    second = accounts.create_user("deputy", PASSWORD, "admin")
    assert accounts.set_role(boss.id, "supervisor").role == "supervisor"
    with pytest.raises(AccountError):
        accounts.set_active(second.id, False)


def test_a_password_change_keeps_only_the_new_one(accounts, clock):
    lan = accounts.create_user("lan", PASSWORD, "staff")
    clock.moment += timedelta(minutes=1)
    changed = accounts.set_password(lan.id, "một mật khẩu mới hơn")
    assert changed.password_changed_at > lan.password_changed_at
    assert accounts.authenticate("lan", PASSWORD) is None
    assert accounts.authenticate("lan", "một mật khẩu mới hơn") is not None


def test_a_hash_with_old_parameters_is_upgraded_at_sign_in(accounts, db, clock):
    accounts.create_user("lan", PASSWORD, "staff")
    stronger = Accounts(db, time_cost=2, memory_kib=128, clock=clock)
    assert stronger.authenticate("lan", PASSWORD) is not None
    with db.session() as session:
        assert "m=128,t=2" in session.scalar(select(User.password_hash))


def test_tokens_are_stored_hashed_and_revocable(accounts, db):
    lan = accounts.create_user("lan", PASSWORD, "staff")
    issued = accounts.issue_token(lan.id)
    assert len(issued.token) >= 43 and issued.token.startswith(issued.prefix)
    with db.session() as session:
        row = session.scalar(select(ApiToken))
        assert issued.token not in (row.token_hash, row.prefix)
    assert accounts.user_for_token(issued.token).username == "lan"
    assert accounts.list_tokens(lan.id)[0].last_used_at is not None
    assert accounts.user_for_token(issued.token + "x") is None
    accounts.revoke_token(issued.id)
    assert accounts.user_for_token(issued.token) is None


def test_every_change_is_audited_with_its_actor(accounts, db):
    boss = accounts.create_user("boss", PASSWORD, "admin")
    actor = Actor(boss.id, "boss", "10.0.0.9")
    lan = accounts.create_user("lan", PASSWORD, "staff", actor=actor)
    accounts.set_role(lan.id, "supervisor", actor=actor)
    accounts.set_password(lan.id, "một mật khẩu mới hơn", actor=actor)
    accounts.set_active(lan.id, False, actor=actor)
    events = audit.query(db, AuditFilter(object_id=lan.id)).items
    assert [e.action for e in events] == ["user.disable", "user.password", "user.role",
                                          "user.create"]
    assert {(e.username, e.address, e.object_id) for e in events} == {
        ("boss", "10.0.0.9", str(lan.id))}
    assert events[2].detail == {"from": "staff", "to": "supervisor"}
    assert "một mật khẩu" not in repr(events)


def test_audit_refuses_secrets_in_its_detail(db):
    with pytest.raises(ValueError):
        audit.record(db, "x", actor=None, detail={"password": "p"})


def _many_events(db, clock, count: int) -> None:
    accounts = Accounts(db, time_cost=1, memory_kib=64, clock=clock)
    ids = [accounts.create_user(name, PASSWORD, "staff").id for name in ("user1", "user2")]
    assert ids == [1, 2]
    for n in range(count):
        clock.moment += timedelta(seconds=n % 2)  # pairs share a timestamp
        audit.record(db, "person.view" if n % 3 else "user.create",
                     actor=Actor(n % 2 + 1, f"user{n % 2 + 1}"), clock=clock,
                     object_type="person", object_id=n)


def test_keyset_paging_visits_every_event_once_newest_first(db, clock):
    _many_events(db, clock, 23)
    seen, cursor = [], None
    while True:
        page = audit.query(db, cursor=cursor, limit=5)
        seen += page.items
        if page.next is None:
            break
        cursor = page.next
    assert len(seen) == 25 == len({e.id for e in seen})
    keys = [(e.at, e.id) for e in seen]
    assert keys == sorted(keys, reverse=True)


def test_audit_filters_by_user_action_object_and_dates(db, clock):
    start = clock.moment
    _many_events(db, clock, 12)
    by_user = audit.query(db, AuditFilter(user_id=2)).items
    assert by_user and {e.user_id for e in by_user} == {2}
    creates = audit.query(db, AuditFilter(action="user.create", object_type="person")).items
    assert [int(e.object_id) for e in creates] == [9, 6, 3, 0]
    one = audit.query(db, AuditFilter(object_type="person", object_id=4)).items
    assert [e.object_id for e in one] == ["4"]
    person = "person"
    early = audit.query(db, AuditFilter(object_type=person,
                                        until=start + timedelta(seconds=1))).items
    late = audit.query(db, AuditFilter(object_type=person,
                                       since=start + timedelta(seconds=1))).items
    assert len(early) + len(late) == 12 and early and late
    assert audit.actions(db) == ["person.view", "user.create"]
    assert len(audit.query(db, AuditFilter(object_type="person")).items) == 12


def test_a_forged_cursor_is_refused(db):
    with pytest.raises(InvalidCursor):
        audit.query(db, cursor="bm90IGEgY3Vyc29y")


def test_the_throttle_counts_recent_attempts_of_a_name_or_an_address(db, clock):
    for _ in range(3):
        audit.record(db, "auth.sign_in_failed", actor=Actor(None, "lan", "1.2.3.4"),
                     clock=clock)
    actions = ("auth.sign_in_failed",)
    assert retry_after(db, clock, actions, (3, 60), username="lan") == 60
    assert retry_after(db, clock, actions, (4, 60), username="lan") is None
    assert retry_after(db, clock, actions, (3, 60), address="1.2.3.4") == 60
    assert retry_after(db, clock, actions, (3, 60), address="5.6.7.8") is None
    clock.moment += timedelta(seconds=61)
    assert retry_after(db, clock, actions, (3, 60), username="lan") is None


@pytest.mark.parametrize("env, named", [
    ({"CALLENGINE_ADMIN_LOGIN_LIMIT_ACCOUNT": "many"}, "CALLENGINE_ADMIN_LOGIN_LIMIT_ACCOUNT"),
    ({"CALLENGINE_ADMIN_LOGIN_LIMIT_CLIENT": "0 per minute"},
     "CALLENGINE_ADMIN_LOGIN_LIMIT_CLIENT"),
    ({"CALLENGINE_ADMIN_SESSION_IDLE_TIMEOUT": "soon"}, "CALLENGINE_ADMIN_SESSION_IDLE_TIMEOUT"),
    ({"CALLENGINE_ADMIN_SESSION_IDLE_TIMEOUT": "10s"}, "admin_session_idle_timeout"),
    ({"CALLENGINE_ADMIN_SECURE_COOKIES": "maybe"}, "CALLENGINE_ADMIN_SECURE_COOKIES"),
    ({"CALLENGINE_ADMIN_PORT": "99999"}, "admin_port"),
    ({"CALLENGINE_ADMIN_LANGUAGE": "fr"}, "admin_language"),
])
def test_a_bad_admin_setting_names_itself(env, named):
    with pytest.raises(ConfigError) as error:
        load_settings(env)
    assert named in str(error.value) and "\n" not in str(error.value)


def test_admin_settings_defaults_and_parsing():
    settings = load_settings({"CALLENGINE_ADMIN_SESSION_IDLE_TIMEOUT": "15m",
                              "CALLENGINE_ADMIN_LOGIN_LIMIT_ACCOUNT": "3/minute"})
    assert settings.admin_session_idle_timeout == 900
    assert settings.admin_login_limit_account == "3/minute"
    assert (settings.admin_host, settings.admin_port, settings.admin_language) == (
        "127.0.0.1", 5000, "vi")
    assert settings.admin_secret_key == "" and settings.admin_secure_cookies is False
