"""Command-line subcommands of the reports area, registered by callengine.cli.

    callengine dashboard [--date YYYY-MM-DD] [--json]
    callengine calls [--date YYYY-MM-DD] [--outcome O] [--trunk T] [--limit N] [--after CURSOR]
                     [--json]
"""

from __future__ import annotations

import json
from datetime import date


def _context(args):
    """Settings, the database and the asked (or today's local) day."""
    from callengine.cli import _settings, _today
    from callengine.store.db import Database

    settings = _settings()
    day = date.fromisoformat(args.date) if args.date else _today(settings)
    return settings, Database(settings.effective_database_url), day


def _dump(data: dict) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=1))


def cmd_dashboard(args) -> int:
    from callengine.clock import SystemClock
    from callengine.reports import dashboard
    from callengine.reports.render import dashboard_lines

    settings, db, day = _context(args)
    try:
        board = dashboard(db, day, SystemClock().now(), settings)
    finally:
        db.dispose()
    if args.json:
        _dump(board.to_dict())
    else:
        print("\n".join(dashboard_lines(board)))
    return 0


def cmd_calls(args) -> int:
    from callengine.reports import CallFilters, calls_log
    from callengine.reports.render import call_lines

    settings, db, day = _context(args)
    filters = CallFilters(day=day, outcome=args.outcome, trunk=args.trunk)
    try:
        page = calls_log(db, filters, tz=settings.timezone, after=args.after, limit=args.limit)
    finally:
        db.dispose()
    if args.json:
        _dump({"items": [row.to_dict() for row in page.items], "next": page.next})
    else:
        print("\n".join(call_lines(page)))
    return 0


def register(sub) -> None:
    """Add `dashboard` and `calls` to the callengine command."""
    from callengine.labels import OUTCOME_LABELS

    board = sub.add_parser("dashboard", help="today's plan and progress (Vietnamese)")
    board.add_argument("--date", help="YYYY-MM-DD (default: today, local)")
    board.add_argument("--json", action="store_true")
    board.set_defaults(func=cmd_dashboard)

    calls = sub.add_parser("calls", help="the attempt log, newest first (phones masked)")
    calls.add_argument("--date", help="YYYY-MM-DD (default: today, local)")
    calls.add_argument("--outcome", choices=sorted(OUTCOME_LABELS))
    calls.add_argument("--trunk")
    calls.add_argument("--limit", type=int, default=50)
    calls.add_argument("--after", help="the cursor printed at the end of the previous page")
    calls.add_argument("--json", action="store_true")
    calls.set_defaults(func=cmd_calls)
