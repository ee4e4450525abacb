"""`callengine users ...` and `callengine admin`, and `flask --app admin` discovery."""

from __future__ import annotations

import io

import pytest
from flask.cli import ScriptInfo

from callengine import audit
from callengine.accounts import Accounts
from callengine.audit import AuditFilter
from callengine.cli import build_parser, main
from tests.admin.conftest import PASSWORD, SECRET_KEY


@pytest.fixture
def env(database_url, monkeypatch):
    monkeypatch.delenv("CALLENGINE_CONFIG", raising=False)
    monkeypatch.setenv("CALLENGINE_DATABASE_URL", database_url)
    monkeypatch.setenv("CALLENGINE_ADMIN_PASSWORD_TIME_COST", "1")
    monkeypatch.setenv("CALLENGINE_ADMIN_PASSWORD_MEMORY_KIB", "64")
    return monkeypatch


def _accounts(db) -> Accounts:
    return Accounts(db, time_cost=1, memory_kib=64)


def test_users_create_reads_the_password_from_stdin(env, db, capsys):
    env.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "create", "Boss", "--role", "admin", "--password-stdin"]) == 0
    assert "Đã tạo tài khoản boss (admin)" in capsys.readouterr().out
    assert _accounts(db).authenticate("boss", PASSWORD).role == "admin"
    [event] = audit.query(db, AuditFilter(action="user.create")).items
    assert event.username.startswith("cli:") and event.address == "cli"


def test_users_create_prompts_twice_and_refuses_a_mismatch(env, db, capsys):
    answers = iter(["một mật khẩu dài", "một mật khẩu khác"])
    env.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["users", "create", "lan", "--role", "staff"]) == 1
    assert "không khớp" in capsys.readouterr().err
    assert _accounts(db).by_username("lan") is None


def test_users_create_explains_a_short_password(env, db, capsys):
    env.setattr("sys.stdin", io.StringIO("ngắn\n"))
    assert main(["users", "create", "lan", "--role", "staff", "--password-stdin"]) == 2
    assert "ít nhất 10 ký tự" in capsys.readouterr().err


def test_users_token_prints_a_working_token_once(env, db, capsys):
    lan = _accounts(db).create_user("lan", PASSWORD, "staff")
    assert main(["users", "token", "lan"]) == 0
    out = capsys.readouterr()
    token = out.out.strip()
    assert _accounts(db).user_for_token(token).id == lan.id
    assert "chỉ hiện một lần" in out.err
    assert main(["users", "token", "nobody"]) == 2


def test_users_list_and_password(env, db, capsys):
    _accounts(db).create_user("lan", PASSWORD, "staff")
    env.setattr("sys.stdin", io.StringIO("một mật khẩu mới hơn\n"))
    assert main(["users", "password", "lan", "--password-stdin"]) == 0
    assert main(["users", "list"]) == 0
    assert "lan\tstaff\thoạt động" in capsys.readouterr().out
    assert _accounts(db).authenticate("lan", "một mật khẩu mới hơn") is not None


def test_the_admin_command_takes_host_and_port():
    args = build_parser().parse_args(["admin", "--host", "0.0.0.0", "--port", "8080"])
    assert (args.host, args.port, args.func.__name__) == ("0.0.0.0", 8080, "cmd_admin")


def test_the_admin_command_refuses_to_serve_without_a_secret_key(env, capsys):
    env.delenv("CALLENGINE_ADMIN_SECRET_KEY", raising=False)
    assert main(["admin", "--port", "5999"]) == 2
    assert "CALLENGINE_ADMIN_SECRET_KEY" in capsys.readouterr().err


def test_flask_finds_the_app_factory_and_reads_the_environment(env, db):
    env.setenv("CALLENGINE_ADMIN_SECRET_KEY", SECRET_KEY)
    app = ScriptInfo(app_import_path="admin").load_app()
    assert app.name == "admin" and app.config["SECRET_KEY"] == SECRET_KEY
    assert app.test_client().get("/sign-in").status_code == 200
    app.extensions["callengine"].db.dispose()
