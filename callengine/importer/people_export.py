"""`callengine people export`: everyone stored, one row per person, as CSV or Excel."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Iterator

from sqlalchemy import select

from callengine.results import neutralise
from callengine.store.db import Database
from callengine.store.models import Person

COLUMNS = (
    "full_name", "phone", "alt_phones", "national_id", "category", "monitoring_start",
    "monitoring_end", "commune", "district", "status", "village", "address", "birth_year",
    "sex", "origin", "carrier", "notes", "id",
)
FREE_TEXT = ("full_name", "national_id", "commune", "district", "village", "address", "sex",
             "origin", "notes")  # typed by people; the rest is validated or ours
FORMATS = ("csv", "xlsx")
_FETCH = 2000


def people_rows(db: Database) -> Iterator[dict]:
    """Every person in id order, streamed (1M people do not sit in memory)."""
    table = Person.__table__
    with db.session() as session:
        result = session.execute(select(*(table.c[c] for c in COLUMNS)).order_by(table.c.id)
                                 .execution_options(yield_per=_FETCH))
        for row in result.mappings():
            yield {c: _safe(c, row[c]) for c in COLUMNS}


def _safe(column: str, value: object) -> object:
    if value is None:
        return ""
    return neutralise(value) if column in FREE_TEXT else value


def export_people(db: Database, fmt: str, path: Path) -> int:
    """Write everyone to `path` as csv or xlsx; returns the number of people."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {FORMATS}")
    return _write_csv(db, path) if fmt == "csv" else _write_xlsx(db, path)


def _write_csv(db: Database, path: Path) -> int:
    count = 0
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in people_rows(db):
            writer.writerow({k: v.isoformat() if isinstance(v, date) else v
                             for k, v in row.items()})
            count += 1
    return count


def _write_xlsx(db: Database, path: Path) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Người theo dõi")
    sheet.append(COLUMNS)
    count = 0
    for row in people_rows(db):
        cells = []
        for column in COLUMNS:
            value = row[column]
            if isinstance(value, date):
                cell = WriteOnlyCell(sheet, value)
                cell.number_format = "DD/MM/YYYY"
                value = cell
            cells.append(value)
        sheet.append(cells)
        count += 1
    book.save(path)
    return count
