"""Command-line subcommands of samples and results, registered by callengine.cli.

    callengine samples import PATH... [--by USER] [--dry-run] [--json] [--errors-out FILE]
    callengine lab-results import PATH... [--by USER] [--dry-run] [--json] [--errors-out FILE]
"""

from __future__ import annotations

import argparse
import sys

EPILOG = """\
exit status: 0 every row imported (or blank); 1 imported, but some rows or sheets were
rejected; 2 a file cannot be read at all (then nothing is imported from any file)."""


def register(subparsers) -> None:
    from callengine.cli import command_group

    for group, help_text, what in (
            ("samples", "test samples (sampling teams' workbooks)", "sample rows"),
            ("lab-results", "lab results (the lab's result workbooks)", "result rows")):
        sub = command_group(subparsers, group, help_text)
        imp = sub.add_parser("import", help=f"import {what} from .xlsx, .xls or .csv files",
                             epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                             description="Validate every row, then import them in one "
                                         "transaction.")
        imp.add_argument("paths", nargs="+", metavar="PATH")
        imp.add_argument("--by", metavar="USER", help="who imports (kept with the records)")
        imp.add_argument("--dry-run", action="store_true", help="validate only; write nothing")
        imp.add_argument("--json", action="store_true", help="print the result as JSON")
        imp.add_argument("--errors-out", metavar="FILE.xlsx",
                         help="write the rejected rows, as they were, plus a reason column")
        imp.set_defaults(func=cmd_import, kind=group)


def cmd_import(args) -> int:
    from callengine.clock import SystemClock
    from callengine.health.imports import (
        RESULT_COUNT_LABELS,
        SAMPLE_COUNT_LABELS,
        ImportRequest,
        import_results,
        import_samples,
    )
    from callengine.importer.commands import print_report
    from callengine.importer.records import format_report
    from callengine.importer.service import UnreadableFiles
    from callengine.settings import load_settings
    from callengine.store.db import Database

    settings = load_settings()
    db = Database(settings.effective_database_url)
    request = ImportRequest(list(args.paths), SystemClock().now(), args.by, args.dry_run)
    samples = args.kind == "samples"
    try:
        report = (import_samples if samples else import_results)(db, request, settings)
    except UnreadableFiles as exc:
        for problem in exc.problems:
            print(f"callengine: {problem}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    title = "Danh sách mẫu" if samples else "Kết quả xét nghiệm"
    labels = SAMPLE_COUNT_LABELS if samples else RESULT_COUNT_LABELS
    return print_report(report, args, lambda: format_report(report, title, labels,
                                                            args.errors_out))
