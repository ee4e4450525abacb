"""`callengine vaccinations import FILE... [--dry-run] [--json] [--errors-out FILE.xlsx]` and
`callengine vaccinations coverage --format csv|xlsx PATH [--date YYYY-MM-DD]`.

Exit codes: 0 imported, 1 imported with some rows rejected, 2 refused (nothing imported).
"""

from __future__ import annotations

import sys
from datetime import date


def cmd_import(args) -> int:
    from callengine.cli import _settings
    from callengine.clock import SystemClock
    from callengine.importer.commands import print_report
    from callengine.importer.records import format_report
    from callengine.importer.service import UnreadableFiles
    from callengine.store.db import Database
    from callengine.vaccination.importing import COUNT_LABELS, import_doses

    settings = _settings()
    db = Database(settings.effective_database_url)
    try:
        report = import_doses(db, args.paths, settings=settings, now=SystemClock().now(),
                              dry_run=args.dry_run)
    except UnreadableFiles as exc:
        for problem in exc.problems:
            print(f"callengine: {problem}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    return print_report(report, args, lambda: format_report(
        report, "Nhập mũi tiêm", COUNT_LABELS, args.errors_out))


def cmd_coverage(args) -> int:
    from callengine.cli import _settings, _today
    from callengine.store.db import Database
    from callengine.vaccination.coverage import coverage_by_commune
    from callengine.vaccination.export import write_coverage

    settings = _settings()
    day = date.fromisoformat(args.date) if args.date else _today(settings)
    db = Database(settings.effective_database_url)
    try:
        rows = coverage_by_commune(db, day)
    finally:
        db.dispose()
    with open(args.path, "wb") as out:
        write_coverage(rows, day, args.format, out)
    print(f"Đã ghi độ bao phủ tiêm chủng ngày {day:%d/%m/%Y} ({len(rows)} xã) vào {args.path}.")
    return 0


def register(sub) -> None:
    from callengine.cli import command_group

    group = command_group(sub, "vaccinations", "vaccination doses")
    imp = group.add_parser("import", help="import dose workbooks (.xlsx, .xls, .csv)")
    imp.add_argument("paths", nargs="+")
    imp.add_argument("--dry-run", action="store_true", help="validate only, write nothing")
    imp.add_argument("--json", action="store_true")
    imp.add_argument("--errors-out", help="write the rejected rows to this .xlsx")
    imp.set_defaults(func=cmd_import)
    cov = group.add_parser("coverage", help="export coverage by commune and age band")
    cov.add_argument("--format", choices=("csv", "xlsx"), required=True)
    cov.add_argument("--date", help="YYYY-MM-DD (default: today, local)")
    cov.add_argument("path")
    cov.set_defaults(func=cmd_coverage)
