"""Command-line subcommands of this area, registered by callengine.cli.

    callengine import PATH... [--date YYYY-MM-DD] [--category CLASS] [--dry-run] [--json]
                              [--errors-out FILE.xlsx]
    callengine people export --format csv|xlsx PATH
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from callengine.importer.categories import CATEGORIES, parse_category

MAX_ERRORS_SHOWN = 50  # the rest go to --errors-out / --json
CATEGORY_NAMES_VI = {"F0": "F0", "F1": "F1", "F2": "F2", "returnee": "người về từ vùng dịch"}

IMPORT_EPILOG = """\
exit status: 0 all rows imported (or skipped); 1 imported, but some rows or sheets were
rejected; 2 a file cannot be read at all (then nothing is imported from any file)."""


def register(subparsers) -> None:
    """Add this area's subcommands to the `callengine` parser."""
    imp = subparsers.add_parser(
        "import", help="import lists of people to monitor (.xlsx, .xls, .csv)",
        description="Validate every row of every file, then import them in one transaction.",
        epilog=IMPORT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    imp.add_argument("paths", nargs="+", metavar="PATH")
    imp.add_argument("--date", type=_iso_date, metavar="YYYY-MM-DD",
                     help="date of the list (default: today); a day/month without a year "
                          "takes its year")
    imp.add_argument("--category", type=_category, metavar="CLASS",
                     help="class for rows without one, required when a sheet has no class "
                          f"column: {', '.join(CATEGORIES)} (or e.g. 'người về từ vùng dịch')")
    imp.add_argument("--dry-run", action="store_true", help="validate only; write nothing")
    imp.add_argument("--json", action="store_true",
                     help="print the result as JSON on stdout")
    imp.add_argument("--errors-out", metavar="FILE.xlsx",
                     help="write the rejected rows, as they were, plus a reason column")
    imp.set_defaults(func=cmd_import)

    from callengine.cli import command_group

    people_sub = command_group(subparsers, "people", "people under monitoring")
    export = people_sub.add_parser("export", help="export everyone as CSV or Excel")
    export.add_argument("--format", choices=("csv", "xlsx"),
                        help="default: from the file name, else csv")
    export.add_argument("path")
    export.set_defaults(func=cmd_people)


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _category(text: str) -> str:
    category = text if text in CATEGORIES else parse_category(text)
    if category is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a class ({', '.join(CATEGORIES)})")
    return category


def _today(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()


def cmd_import(args) -> int:
    from callengine.importer.limits import Limits
    from callengine.importer.service import UnreadableFiles, import_files
    from callengine.settings import load_settings
    from callengine.store.db import Database

    settings = load_settings()
    list_date = args.date or _today(settings.timezone)
    db = Database(settings.effective_database_url)
    try:
        report = import_files(db, args.paths, list_date=list_date, category=args.category,
                              dry_run=args.dry_run, progress=True,
                              period_days=settings.monitoring_days(),
                              limits=Limits.from_settings(settings))
    except UnreadableFiles as exc:
        for problem in exc.problems:  # one line per file; nothing was imported
            print(f"callengine: {problem}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    return print_report(report, args, lambda: format_summary(report, list_date,
                                                             args.errors_out))


def _n(number: int) -> str:
    """Vietnamese thousands separator: 12.345."""
    return f"{number:,}".replace(",", ".")


def format_summary(report, list_date: date, errors_out: str | None = None) -> str:
    """The human summary of an import, in Vietnamese."""
    files = len(report.files)
    lines = [
        f"Danh sách ngày {list_date.strftime('%d/%m/%Y')}: đã đọc {_n(report.rows)} dòng "
        f"từ {files} tệp ({_n(sum(f.sheets for f in report.files))} trang).",
        f"  Người mới:            {_n(report.created)}",
        f"  Cập nhật:             {_n(report.updated)}",
        f"  Không thay đổi:       {_n(report.unchanged)}",
        f"  Dòng bị từ chối:      {_n(report.rejected)}",
        f"  Dòng bỏ qua (trống, tổng cộng, chữ ký): {_n(report.skipped)}",
    ]
    for inferred in report.inferred:
        lines.append(f"  Trang '{inferred.sheet}' ({inferred.file}) không có cột phân loại: đã "
                     f"suy ra {CATEGORY_NAMES_VI[inferred.category]} từ '{inferred.evidence}'")
    return "\n".join(lines + issue_lines(report, errors_out))


def issue_lines(report, errors_out: str | None = None) -> list[str]:
    """The end of an import's summary: sheets not imported, rejected rows (the first
    MAX_ERRORS_SHOWN), where the error workbook went, and whether it was a dry run."""
    lines = []
    row_errors = [e for e in report.errors if e.row is not None]
    sheet_errors = [e for e in report.errors if e.row is None]
    if sheet_errors:
        lines.append("Trang không được nhập:")
        lines += [f"  {e.file}: {e.reason}" for e in sheet_errors]
    if row_errors:
        lines.append("Dòng bị từ chối (sửa trong tệp rồi nhập lại):")
        lines += [f"  {e.file} › {e.sheet} › dòng {e.row}: {e.reason}"
                  for e in row_errors[:MAX_ERRORS_SHOWN]]
        if len(row_errors) > MAX_ERRORS_SHOWN:
            lines.append(f"  ... và {_n(len(row_errors) - MAX_ERRORS_SHOWN)} lỗi khác "
                         "(xem đủ bằng --errors-out hoặc --json)")
    if errors_out:
        lines.append(f"Các dòng bị từ chối đã ghi vào {errors_out}")
    if report.dry_run:
        lines.append("Chạy thử (--dry-run): chưa ghi gì vào cơ sở dữ liệu.")
    return lines


def print_report(report, args, summary) -> int:
    """The end of an import command: the error workbook (--errors-out), the report as JSON
    (--json) or the Vietnamese `summary()`, and the exit code (1: some rows rejected)."""
    from callengine.importer.error_book import write_error_workbook

    if args.errors_out:
        write_error_workbook(report, Path(args.errors_out))
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        print(summary())
    return 1 if report.errors else 0


def cmd_people(args) -> int:
    from callengine.importer.people_export import export_people
    from callengine.settings import load_settings
    from callengine.store.db import Database

    path = Path(args.path)
    fmt = args.format or ("xlsx" if path.suffix.lower() == ".xlsx" else "csv")
    db = Database(load_settings().effective_database_url)
    try:
        count = export_people(db, fmt, path)
    finally:
        db.dispose()
    print(f"{_n(count)} người đã ghi vào {path}")
    return 0
