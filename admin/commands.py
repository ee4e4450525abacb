"""Command-line subcommands of the admin, registered by callengine.cli.

    callengine users create USERNAME --role admin|supervisor|staff [--password-stdin]
    callengine users password USERNAME [--password-stdin]
    callengine users token USERNAME
    callengine users list
    callengine admin [--host 127.0.0.1] [--port 5000]
"""

from __future__ import annotations

import getpass
import sys

from callengine.store.accounts import ROLES


def register(subparsers) -> None:
    """Add this area's subcommands to the `callengine` parser."""
    users = subparsers.add_parser("users", help="accounts of the admin web app")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    create = users_sub.add_parser("create", help="create an account (e.g. the first admin)")
    create.add_argument("username")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--password-stdin", action="store_true",
                        help="read the password from the first line of standard input")
    password = users_sub.add_parser("password", help="set a new password")
    password.add_argument("username")
    password.add_argument("--password-stdin", action="store_true")
    token = users_sub.add_parser("token", help="print a new API token for an account, once")
    token.add_argument("username")
    users_sub.add_parser("list", help="list the accounts")
    users.set_defaults(func=cmd_users)

    admin = subparsers.add_parser("admin", help="serve the admin web app (waitress)")
    admin.add_argument("--host", help="address to listen on (default: CALLENGINE_ADMIN_HOST)")
    admin.add_argument("--port", type=int, help="port (default: CALLENGINE_ADMIN_PORT)")
    admin.add_argument("--threads", type=int, default=8, help="request threads")
    admin.set_defaults(func=cmd_admin)


def _read_password(from_stdin: bool) -> str | None:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Mật khẩu: ")
    if getpass.getpass("Nhập lại mật khẩu: ") != first:
        print("Hai lần nhập mật khẩu không khớp.", file=sys.stderr)
        return None
    return first


def _cli_actor():
    from callengine.audit import Actor

    return Actor(None, f"cli:{getpass.getuser()}"[:64], "cli")


def _account_named(accounts, username: str):
    from callengine.accounts import AccountError

    account = accounts.by_username(username)
    if account is None:
        raise AccountError("no_such_user", f"Không có tài khoản {username!r}.")
    return account


def _users_create(accounts, args) -> int:
    password = _read_password(args.password_stdin)
    if password is None:
        return 1
    account = accounts.create_user(args.username, password, args.role, actor=_cli_actor())
    print(f"Đã tạo tài khoản {account.username} ({account.role}).")
    return 0


def _users_password(accounts, args) -> int:
    account = _account_named(accounts, args.username)
    password = _read_password(args.password_stdin)
    if password is None:
        return 1
    accounts.set_password(account.id, password, actor=_cli_actor())
    print(f"Đã đổi mật khẩu của {account.username}.")
    return 0


def _users_token(accounts, args) -> int:
    account = _account_named(accounts, args.username)
    issued = accounts.issue_token(account.id, actor=_cli_actor())
    print(issued.token)
    print("Mã này chỉ hiện một lần; hãy lưu lại ngay.", file=sys.stderr)
    return 0


def _users_list(accounts, args) -> int:
    for account in accounts.list_users():
        state = "hoạt động" if account.active else "đã khóa"
        print(f"{account.username}\t{account.role}\t{state}")
    return 0


USER_COMMANDS = {"create": _users_create, "password": _users_password,
                 "token": _users_token, "list": _users_list}


def cmd_users(args) -> int:
    from callengine.accounts import Accounts
    from callengine.settings import load_settings
    from callengine.store.db import Database

    settings = load_settings()
    db = Database(settings.effective_database_url)
    try:
        return USER_COMMANDS[args.users_command](Accounts.from_settings(db, settings), args)
    finally:
        db.dispose()


def cmd_admin(args) -> int:
    import logging

    import waitress

    from callengine.settings import load_settings
    from admin import create_app

    settings = load_settings()
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    host = args.host or settings.admin_host
    port = args.port or settings.admin_port
    app = create_app(settings)
    metrics = None
    if settings.admin_metrics_port:
        from admin.metrics import serve

        metrics = serve(app, settings.admin_metrics_host, settings.admin_metrics_port)
    print(f"callengine admin: http://{host}:{port}/", flush=True)
    try:
        waitress.serve(app, host=host, port=port, threads=args.threads, ident="callengine")
    finally:
        if metrics is not None:
            metrics.close()
    return 0
