"""`callengine people export` and the admin's export: everyone stored (or those matching the
filters), one row per person, as CSV or Excel."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Iterator

from sqlalchemy import select

from callengine.cells import csv_value, storable, xlsx_cell
from callengine.private_files import private_output
from callengine.store.db import Database
from callengine.store.models import Person

COLUMNS = (
    "full_name", "phone", "alt_phones", "national_id", "category", "monitoring_start",
    "monitoring_end", "commune", "district", "status", "village", "address", "birth_year",
    "sex", "origin", "carrier", "notes", "id",
)
FORMATS = ("csv", "xlsx")
_FETCH = 2000


@dataclass(frozen=True)
class ExportFilters:
    """Which people to export; None: any. Values are compared as stored."""

    category: str | None = None  # F1 / F2 / returnee / F0
    district: str | None = None
    commune: str | None = None
    status: str | None = None

    def to_dict(self) -> dict:
        """The filters that are set (for the audit log)."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


def people_rows(db: Database, filters: ExportFilters = ExportFilters()) -> Iterator[dict]:
    """Every person (matching the filters) in id order, streamed (1M people do not sit in
    memory)."""
    table = Person.__table__
    query = select(*(table.c[c] for c in COLUMNS)).order_by(table.c.id)
    for column, value in filters.to_dict().items():
        query = query.where(table.c[column] == value)
    with db.session() as session:
        result = session.execute(query.execution_options(yield_per=_FETCH))
        for row in result.mappings():
            yield {c: _stored(row[c]) for c in COLUMNS}


def _stored(value: object) -> object:
    """A stored value as exported: '' for none, text without what Excel cannot store (rows
    imported before the importer removed it), not yet made safe for a format."""
    if value is None:
        return ""
    return storable(value) if isinstance(value, str) else value


def export_people(db: Database, fmt: str, path: Path | IO[bytes],
                  filters: ExportFilters = ExportFilters()) -> int:
    """Write everyone (matching the filters) to `path` as csv or xlsx (an xlsx also to a
    binary stream); returns the number of people."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {FORMATS}")
    if isinstance(path, (str, Path)):
        private_output(Path(path))  # health data: readable by its owner only
    if fmt == "csv":
        return _write_csv(db, Path(path), filters)  # type: ignore[arg-type]
    return _write_xlsx(db, path, filters)


def _write_csv(db: Database, path: Path, filters: ExportFilters) -> int:
    count = 0
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in people_rows(db, filters):
            writer.writerow({k: v.isoformat() if isinstance(v, date) else csv_value(v)
                             for k, v in row.items()})
            count += 1
    return count


def _write_xlsx(db: Database, path: Path | IO[bytes], filters: ExportFilters) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Người theo dõi")
    sheet.append(COLUMNS)
    count = 0
    for row in people_rows(db, filters):
        cells = []
        for column in COLUMNS:
            value = row[column]
            if isinstance(value, date):
                cell = WriteOnlyCell(sheet, value)  # type: ignore[arg-type]  # stubs omit date
                cell.number_format = "DD/MM/YYYY"
                value = cell
            cells.append(xlsx_cell(sheet, value))
        sheet.append(cells)
        count += 1
    book.save(path)
    return count
