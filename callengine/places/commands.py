"""`callengine places check` and `callengine places backfill` (staff read them: Vietnamese).

    callengine places check [--json]   # exit 0: all matched and stored; 1: something to do
    callengine places backfill         # fill the official codes of rows stored before them
"""

from __future__ import annotations

import dataclasses
import json

PROBLEM_LABELS = {
    "unmatched": "không có trong danh mục",
    "ambiguous": "trùng tên, cần ghi rõ huyện",
    "district": "huyện/thị xã/thành phố không có trong danh mục",
}


def register(subparsers) -> None:
    """Add `places` to the `callengine` parser."""
    from callengine.cli import command_group

    sub = command_group(subparsers, "places", "district and commune names vs the official list")
    check = sub.add_parser("check", help="report names that match no unit, or several")
    check.add_argument("--json", action="store_true", help="print JSON on stdout")
    check.set_defaults(func=cmd_places_check)
    backfill = sub.add_parser("backfill", help="store the official codes of existing rows")
    backfill.set_defaults(func=cmd_places_backfill)


def _on_database(service):
    """The service's answer on the settings' database."""
    from callengine.settings import load_settings
    from callengine.store.db import Database

    db = Database(load_settings().effective_database_url)
    try:
        return service(db)
    finally:
        db.dispose()


def _area(problem) -> str:
    return f"{problem.district or '-'} / {problem.commune or '-'}"


def _print_check(report) -> None:
    print(f"Đã khớp danh mục: {report.matched_people} người "
          f"({report.matched_names} cách ghi địa danh).")
    if report.problems:
        print("Chưa khớp (giữ nguyên như đã ghi):")
    for problem in report.problems:
        line = f"  {problem.people} người · {_area(problem)} · {PROBLEM_LABELS[problem.problem]}"
        if problem.candidates:
            line += ": " + "; ".join(problem.candidates)
        print(line)
    if report.to_backfill:
        print(f"{report.to_backfill} người chưa có mã đơn vị hành chính: "
              "chạy `callengine places backfill`.")


def cmd_places_check(args) -> int:
    from callengine.places import check_places

    report = _on_database(check_places)
    if args.json:
        print(json.dumps({**dataclasses.asdict(report), "problem_people": report.problem_people},
                         ensure_ascii=False))
    else:
        _print_check(report)
    return 1 if report.problems or report.to_backfill else 0


def cmd_places_backfill(args) -> int:
    from callengine.places import backfill_place_codes

    changed = _on_database(backfill_place_codes)
    print(f"Đã điền mã đơn vị hành chính cho {changed} người.")
    return 0
