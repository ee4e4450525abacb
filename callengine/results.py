"""Daily results: one row per person and day, for the CDC (CSV or Excel)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from callengine.questionnaire import Questionnaire
from callengine.store.db import Database
from callengine.store.models import CallAttempt, CallTask

BASE_COLUMNS = ("phone", "full_name", "outcome", "attempts")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def result_rows(db: Database, questionnaire: Questionnaire, day: date) -> list[dict]:
    with db.session() as s:
        tasks = s.scalars(
            select(CallTask).where(CallTask.day == day).order_by(CallTask.id)
            .options(selectinload(CallTask.person),
                     selectinload(CallTask.attempt_rows).selectinload(CallAttempt.answers))
        ).all()
        return [_row(task, questionnaire) for task in tasks]


def _row(task: CallTask, questionnaire: Questionnaire) -> dict:
    answers: dict[str, str] = {}
    for attempt in task.attempt_rows:  # oldest first: a later answer replaces an earlier one
        for answer in attempt.answers:
            answers[answer.question_id] = answer.value
    row = {
        "phone": task.person.phone,
        "full_name": task.person.full_name,
        "outcome": task.last_outcome or "",
        "attempts": task.attempts,
    }
    for qid in questionnaire.question_ids:
        row[qid] = answers.get(qid, "")
    row["callback_requested"] = "yes" if task.callback_requested else "no"
    return row


def columns(questionnaire: Questionnaire) -> list[str]:
    return [*BASE_COLUMNS, *questionnaire.question_ids, "callback_requested"]


FREE_TEXT = ("full_name",)  # the other columns are validated (E.164, fixed words, numbers)


def neutralise(value: object) -> object:
    """Keep a spreadsheet from running a cell as a formula (CSV/formula injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _safe(row: dict) -> dict:
    return {k: neutralise(v) if k in FREE_TEXT else v for k, v in row.items()}


def export(db: Database, questionnaire: Questionnaire, day: date, fmt: str, path: Path) -> int:
    rows = result_rows(db, questionnaire, day)
    header = columns(questionnaire)
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.DictWriter(handle, fieldnames=header)
            writer.writeheader()
            for row in rows:
                writer.writerow(_safe(row))
    else:
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = f"Kết quả {day.isoformat()}"
        sheet.append(header)
        for row in rows:
            safe = _safe(row)
            sheet.append([safe[c] for c in header])
        book.save(path)
    return len(rows)
