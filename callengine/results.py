"""Daily results: one row per person and day, for the CDC (CSV or Excel)."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import IO, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from callengine.cells import csv_value, xlsx_cell
from callengine.dialer.outcome import REACHED
from callengine.labels import NO_DISTRICT
from callengine.paging import InvalidCursor, Page, decode_cursor, page_of
from callengine.private_files import private_output
from callengine.questionnaire import Questionnaire
from callengine.store.db import Database
from callengine.store.models import CallAttempt, CallTask
from callengine.store.supervision import Flag

BASE_COLUMNS = ("phone", "full_name", "district", "commune", "outcome", "attempts")
SUMMARY_HEADER = ("Huyện", "Xã/Phường", "Kế hoạch", "Liên lạc được", "Hoàn thành",
                  "Cần xử lý", "Không liên lạc được")
MAX_PAGE = 1000  # rows per page of results_page


def _task_rows(db: Database, questionnaire: Questionnaire, day: date,
               after_id: int | None = None, limit: int | None = None) -> list[tuple[int, dict]]:
    """(task id, row) of the day's tasks in task order: the one query of the results."""
    query = select(CallTask).where(CallTask.day == day).order_by(CallTask.id)
    if after_id is not None:
        query = query.where(CallTask.id > after_id)
    if limit is not None:
        query = query.limit(limit)
    with db.session() as s:
        tasks = s.scalars(query.options(
            selectinload(CallTask.person),
            selectinload(CallTask.attempt_rows).selectinload(CallAttempt.answers))).all()
        flagged = _flagged(s, day, tasks)
        return [(task.id, _row(task, questionnaire, task.id in flagged)) for task in tasks]


def _flagged(s: Session, day: date, tasks: Sequence[CallTask]) -> set[int]:
    """Ids of the tasks (a run of the day's, in id order) that raised a flag."""
    if not tasks:
        return set()
    return set(s.scalars(select(Flag.task_id).join(CallTask, CallTask.id == Flag.task_id)
                         .where(CallTask.day == day, CallTask.id >= tasks[0].id,
                                CallTask.id <= tasks[-1].id)))


def result_rows(db: Database, questionnaire: Questionnaire, day: date) -> list[dict]:
    """Every row of a day's results, as the export writes them (before neutralising)."""
    return [row for _id, row in _task_rows(db, questionnaire, day)]


def results_page(db: Database, questionnaire: Questionnaire, day: date, *,
                 after: str | None = None, limit: int = 500) -> Page[dict]:
    """One page of the same rows, keyset-paged by task id (for the JSON API)."""
    after_id = None
    if after is not None:
        (after_id,) = decode_cursor(after, 1)
        if not isinstance(after_id, int):
            raise InvalidCursor()
    limit = max(1, min(limit, MAX_PAGE))
    rows = _task_rows(db, questionnaire, day, after_id, limit + 1)
    page = page_of(rows, limit, lambda r: (r[0],))
    return Page([row for _id, row in page.items], page.next)


def _row(task: CallTask, questionnaire: Questionnaire, flagged: bool) -> dict:
    answers: dict[str, str] = {}
    for attempt in task.attempt_rows:  # oldest first: a later answer replaces an earlier one
        for answer in attempt.answers:
            answers[answer.question_id] = answer.value
    row = {
        "phone": task.person.phone,
        "full_name": task.person.full_name,
        "district": task.person.district or "",
        "commune": task.person.commune or "",
        "outcome": task.last_outcome or "",
        "attempts": task.attempts,
    }
    for qid in questionnaire.question_ids:
        row[qid] = answers.get(qid, "")
    row["callback_requested"] = "yes" if task.callback_requested else "no"
    row["flagged"] = "yes" if flagged else "no"
    return row


def columns(questionnaire: Questionnaire) -> list[str]:
    return [*BASE_COLUMNS, *questionnaire.question_ids, "callback_requested", "flagged"]


def _csv_row(row: dict) -> dict:
    return {k: csv_value(v) for k, v in row.items()}


def export(db: Database, questionnaire: Questionnaire, day: date, fmt: str,
           path: Path | IO[bytes]) -> int:
    """Write one day's results as csv or xlsx (an xlsx also to a binary stream); the count."""
    rows = result_rows(db, questionnaire, day)
    header = columns(questionnaire)
    if isinstance(path, (str, Path)):
        private_output(Path(path))  # health data: readable by its owner only
    if fmt == "csv":
        csv_path = Path(path)  # type: ignore[arg-type]  # csv is only written to a file
        with csv_path.open("w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.DictWriter(handle, fieldnames=header)
            writer.writeheader()
            for row in rows:
                writer.writerow(_csv_row(row))
    else:
        _write_workbook(rows, header, day, path)
    return len(rows)


def summary(rows: list[dict]) -> list[tuple]:
    """Per district and commune: planned, reached, completed, flagged, unreachable."""
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for row in rows:
        c = counts[(row["district"] or NO_DISTRICT, row["commune"])]
        c[0] += 1
        c[1] += row["outcome"] in REACHED
        c[2] += row["outcome"] == "completed"
        c[3] += row["flagged"] == "yes"
        c[4] += row["outcome"] not in REACHED and row["outcome"] != ""
    return [(district, commune, *c) for (district, commune), c in sorted(counts.items())]


def _write_workbook(rows: list[dict], header: list[str], day: date,
                    path: Path | IO[bytes]) -> None:
    from openpyxl import Workbook

    book = Workbook()
    overview = book.active
    assert overview is not None  # a new workbook has its one sheet
    overview.title = "Tổng hợp"
    overview.append([f"Kết quả gọi ngày {day.isoformat()}"])
    overview.append(list(SUMMARY_HEADER))
    for line in summary(rows):
        overview.append([xlsx_cell(overview, v) for v in line])
    by_district: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_district[row["district"] or NO_DISTRICT].append(row)
    for district in sorted(by_district):
        sheet = book.create_sheet(_sheet_title(district, book.sheetnames))
        sheet.append(header)
        for row in by_district[district]:
            sheet.append([xlsx_cell(sheet, row[c]) for c in header])
    book.save(path)


def _sheet_title(name: str, taken: list[str]) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique."""
    title = "".join(ch for ch in name if ch not in "[]:*?/\\")[:31] or NO_DISTRICT
    base, n = title, 2
    while title in taken:
        title = f"{base[:28]} {n}"
        n += 1
    return title
