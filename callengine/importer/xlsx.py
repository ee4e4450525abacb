"""Streaming an .xlsx sheet by sheet, with memory bounded by the cells really there.

openpyxl's read-only parser reads each sheet's XML as a stream of rows; the rows are built
here, not by openpyxl, so that a sheet whose declared size (its `<dimension>`) lies is caught
at the first row or column beyond the limits, and no padding is made for what a file only
claims. Formula cells without a cached value (a workbook saved by a program that does not
calculate) are collected so that the importer can report them instead of reading blanks.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG, WorkSheetParser

from callengine.importer.limits import Limits
from callengine.importer.text import storable

MAX_UNCACHED_SHOWN = 5  # formula cells named in a message; the rest are counted


class SheetTooLarge(ValueError):
    """A sheet breaks a size limit; the message (Vietnamese) names the limit."""


@dataclass
class StreamedSheet:
    """One sheet's rows (Excel row n is rows[n - 1]) and what could not be read."""

    name: str
    rows: list[list[object]]
    visible: bool
    uncached_formulas: list[str] = field(default_factory=list)  # the first few, as A12
    uncached_count: int = 0


class _Parser(WorkSheetParser):
    """openpyxl's sheet parser, noting formula cells that have no cached value."""

    uncached: list[str]
    uncached_count = 0

    def parse_row(self, row):
        index, cells = super().parse_row(row)
        if any(cell["value"] is None for cell in cells):
            for element, cell in zip(row, cells):
                if cell["value"] is None and element.find(FORMULA_TAG) is not None \
                        and element.find(VALUE_TAG) is None:
                    self._uncached(cell)
        return index, cells

    def _uncached(self, cell: dict) -> None:
        self.uncached_count += 1
        if len(self.uncached) < MAX_UNCACHED_SHOWN:
            self.uncached.append(f"{get_column_letter(cell['column'])}{cell['row']}")


def read_xlsx(data: bytes, limits: Limits) -> list[StreamedSheet]:
    """Every worksheet (chart sheets have no cells); raises SheetTooLarge, or openpyxl's and
    zipfile's own errors for a damaged file."""
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    try:
        strings = [storable(s) if isinstance(s, str) else s for s in book.shared_strings]
        return [_read_sheet(book, sheet, strings, limits) for sheet in book.worksheets]
    finally:
        book.close()


def _read_sheet(book, sheet, strings: list, limits: Limits) -> StreamedSheet:
    check_declared_size(sheet.title, sheet.max_row, sheet.max_column, limits)
    with sheet._get_source() as source:
        parser = _Parser(source, strings, data_only=True, epoch=book.epoch,
                         date_formats=book._date_formats,
                         timedelta_formats=book._timedelta_formats)
        parser.uncached = []
        rows = _rows(sheet.title, parser, limits)
    return StreamedSheet(sheet.title, rows, sheet.sheet_state == "visible", parser.uncached,
                         parser.uncached_count)


def check_declared_size(title: str, rows: int | None, columns: int | None,
                        limits: Limits) -> None:
    """Refuse a sheet whose used range, as declared or as read, is beyond the limits."""
    rows, columns = rows or 0, columns or 0
    if rows > limits.rows:
        raise SheetTooLarge(f"trang '{title}' có {_n(rows)} dòng, vượt giới hạn "
                            f"{_n(limits.rows)} dòng của một trang; hãy chia danh sách")
    if columns > limits.columns:
        raise SheetTooLarge(f"trang '{title}' có {_n(columns)} cột, vượt giới hạn "
                            f"{_n(limits.columns)} cột của một trang")
    if rows * columns > limits.cells:
        raise SheetTooLarge(f"trang '{title}' có vùng dữ liệu {_n(rows)} dòng × {_n(columns)} "
                            f"cột, vượt giới hạn {_n(limits.cells)} ô của một trang; hãy chia "
                            "danh sách")


def check_read_size(title: str, rows: int, widest: int, cells: int, limits: Limits) -> None:
    """Refuse a sheet once the rows, columns or cells read so far pass the limits."""
    if rows > limits.rows or widest > limits.columns:
        check_declared_size(title, rows, widest, limits)
    if cells > limits.cells:
        raise SheetTooLarge(f"trang '{title}' có hơn {_n(limits.cells)} ô, vượt giới hạn "
                            f"{_n(limits.cells)} ô của một trang; hãy chia danh sách")


def _rows(title: str, parser: _Parser, limits: Limits) -> list[list[object]]:
    rows: list[list[object]] = []
    widest = cells_read = 0
    for index, cells in parser.parse():
        if not cells:
            continue
        width = max(cell["column"] for cell in cells)
        widest = max(widest, width)
        cells_read += width
        check_read_size(title, index, widest, cells_read, limits)
        values: list[object] = [None] * width
        for cell in cells:
            value = cell["value"]
            values[cell["column"] - 1] = storable(value) if type(value) is str else value
        while len(rows) < index - 1:
            rows.append([])
        if index <= len(rows):
            rows[index - 1] = values  # a row written twice: the later one, as Excel shows
        else:
            rows.append(values)
    return rows


def _n(number: int) -> str:
    return f"{number:,}".replace(",", ".")
