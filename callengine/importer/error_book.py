"""The error workbook: rejected rows as they were plus a reason, for staff to fix and re-import.

The first sheet lists every problem (file, sheet, row, column, value, reason). Then each source
sheet with rejected rows gets a sheet of its own: its header, the rows exactly as they were,
and two added columns, "Dòng gốc" (the row number in the original) and "Lý do". Both added
columns are ignored when the fixed workbook is imported again.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from pathlib import Path
from typing import BinaryIO, Protocol, Sequence

from callengine.cells import xlsx_cell
from callengine.importer.service import ERROR_SUMMARY_HEADER, ImportIssue, RejectedRow
from callengine.importer.text import plain
from callengine.private_files import private_output

SUMMARY_TITLE = "Tổng hợp lỗi"
SUMMARY_COLUMNS = ERROR_SUMMARY_HEADER
ROW_COLUMN = "Dòng gốc"
REASON_COLUMN = "Lý do"
_BAD_TITLE_CHARS = re.compile(r"[\[\]:*?/\\]")
_MAX_TITLE = 31


class HasRejections(Protocol):
    """A list import's ImportReport or a record import's RecordReport (records.py)."""

    @property
    def errors(self) -> Sequence[ImportIssue]: ...

    @property
    def rejected_rows(self) -> Sequence[RejectedRow]: ...


def write_error_workbook(report: HasRejections, path: Path | BinaryIO) -> int:
    """Write the error workbook to a file or a stream; returns the rejected rows written."""
    from openpyxl import Workbook

    if isinstance(path, (str, Path)):
        private_output(Path(path))  # the rows hold names and phones: owner only

    book = Workbook()
    summary = book.active
    assert summary is not None  # a new workbook has its one sheet
    summary.title = SUMMARY_TITLE
    summary.append(SUMMARY_COLUMNS)
    for issue in report.errors:
        summary.append([_safe(summary, v) for v in (issue.file, issue.sheet, issue.row,
                                                    issue.column, issue.value, issue.reason)])
    titles = {SUMMARY_TITLE}
    for (_file, sheet), rows in _by_sheet(report.rejected_rows).items():
        target = book.create_sheet(_unique_title(sheet, titles))
        target.append([*(_safe(target, c) for c in rows[0].header), ROW_COLUMN, REASON_COLUMN])
        width = len(rows[0].header)
        for row in rows:
            cells = [_safe(target, c) for c in row.cells]
            cells += [None] * (width - len(cells))
            target.append([*cells, row.row, _safe(target, "; ".join(row.reasons))])
        _date_formats(target)
    book.save(path)
    return len(report.rejected_rows)


def _by_sheet(rows: Sequence[RejectedRow]) -> dict[tuple[str, str], list[RejectedRow]]:
    grouped: dict[tuple[str, str], list[RejectedRow]] = {}
    for row in rows:
        grouped.setdefault((row.file, row.sheet), []).append(row)
    return grouped


def _unique_title(name: str, taken: set[str]) -> str:
    """A valid, unused sheet title (Excel: 31 characters, no []:*?/\\)."""
    base = _BAD_TITLE_CHARS.sub("-", name).strip("'") or "Trang"
    title = base[:_MAX_TITLE]
    number = 2
    while title in taken:
        suffix = f" ({number})"
        title = base[:_MAX_TITLE - len(suffix)] + suffix
        number += 1
    taken.add(title)
    return title


def _safe(sheet, value: object) -> object:
    """A cell openpyxl can write: text kept as a text cell, never run as a formula."""
    value = plain(value)
    if value is None or isinstance(value, (int, float, bool, datetime, date, time)):
        return value
    return xlsx_cell(sheet, str(value))


def _date_formats(sheet) -> None:
    """Show date cells day-first, as staff typed them."""
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, (datetime, date)):
                cell.number_format = "DD/MM/YYYY"
