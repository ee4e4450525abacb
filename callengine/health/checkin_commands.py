"""Command-line subcommands of the health records, registered by callengine.cli.

    callengine checkins purge [--days N]    # delete check-ins past the retention
"""

from __future__ import annotations


def cmd_checkins_purge(args) -> int:
    from callengine.cli import _settings
    from callengine.clock import SystemClock
    from callengine.errors import CallengineError
    from callengine.health.checkins import purge_checkins
    from callengine.store.db import Database

    settings = _settings()
    days = args.days if args.days is not None else settings.checkin_retention_days
    if days < 1:
        raise CallengineError(f"--days: {days} không hợp lệ, phải từ 1 trở lên")
    db = Database(settings.effective_database_url)
    try:
        removed = purge_checkins(db, now=SystemClock().now(), retention_days=days)
    finally:
        db.dispose()
    print(f"Đã xóa {removed} lượt khai báo cũ hơn {days} ngày.")
    return 0


def register(sub) -> None:
    """Add `checkins purge` to the callengine command."""
    from callengine.cli import command_group

    checkins = command_group(sub, "checkins", "venue check-ins")
    purge = checkins.add_parser("purge", help="delete check-ins past the retention setting")
    purge.add_argument("--days", type=int,
                       help="keep this many days (default: checkin_retention_days)")
    purge.set_defaults(func=cmd_checkins_purge)
