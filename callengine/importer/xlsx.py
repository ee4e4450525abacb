"""Streaming an .xlsx sheet by sheet, with memory bounded by the cells really there.

openpyxl reads the workbook's parts (shared strings, styles, the sheet list); each sheet's XML
is streamed through expat here, row by row, so that a sheet whose declared size (its
`<dimension>`) lies is caught at the first row or column beyond the limits, and no padding
is made for what a file only claims. Formula cells without a cached value (a workbook saved
by a program that does not calculate) are collected so that the importer can report them
instead of reading blanks.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from xml.parsers import expat

from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils import column_index_from_string, get_column_letter, range_boundaries
from openpyxl.utils.datetime import from_excel, from_ISO8601

from callengine.cells import storable
from callengine.importer.limits import Limits

_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Za-z0-9:$]+)"')
_HEAD_BYTES = 2**16  # the <dimension> comes before the cells, after a few small elements
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


_NAMESPACES = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main",
               "http://purl.oclc.org/ooxml/spreadsheetml/main")  # transitional, strict
_TAGS = {f"{ns} {tag}": tag for ns in _NAMESPACES
         for tag in ("row", "c", "v", "f", "is", "t", "rPh")}
_CHUNK = 2**16


class _SheetParser:
    """Rows of one sheet's XML, fed in chunks to expat (what openpyxl's parser would give,
    without building an element per cell: 5-10x faster)."""

    def __init__(self, title: str, strings: list, dates: set[int], durations: set[int],
                 epoch, limits: Limits) -> None:
        self.title, self.strings, self.limits = title, strings, limits
        self.dates, self.durations, self.epoch = dates, durations, epoch
        self.rows: list[list[object]] = []
        self.uncached: list[str] = []
        self.uncached_count = 0
        self._cells: list[tuple[int, object]] = []
        self._row = self._column = self._widest = self._read = 0
        self._text: list[str] | None = None
        self._inline: list[str] = []
        self._in_inline = self._in_phonetic = False
        self._ref: str | None = None
        self._type: str | None = None
        self._style: str | None = None
        self._raw: str | None = None
        self._formula = False

    def feed(self, source) -> list[list[object]]:
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._chars
        while chunk := source.read(_CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
        return self.rows

    def _start(self, name: str, attrs: dict) -> None:
        tag = _TAGS.get(name)
        if tag == "c":
            self._ref, self._type, self._style = attrs.get("r"), attrs.get("t"), attrs.get("s")
            self._raw, self._formula, self._inline = None, False, []
        elif tag == "v" or tag == "t" and self._in_inline and not self._in_phonetic:
            self._text = []
        elif tag == "row":
            number = attrs.get("r")
            self._row = int(number) if number else self._row + 1
            self._column, self._cells = 0, []
        elif tag == "f":
            self._formula = True
        elif tag == "is":
            self._in_inline = True
        elif tag == "rPh":
            self._in_phonetic = True

    def _chars(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def _end(self, name: str) -> None:
        tag = _TAGS.get(name)
        if tag == "c":
            self._cell()
        elif tag == "v" and self._text is not None:
            self._raw, self._text = "".join(self._text) or None, None
        elif tag == "t" and self._text is not None:
            self._inline.append("".join(self._text))
            self._text = None
        elif tag == "row":
            self._end_row()
        elif tag == "is":
            self._in_inline = False
        elif tag == "rPh":
            self._in_phonetic = False

    def _cell(self) -> None:
        ref = self._ref
        column = _column_number(ref.rstrip("0123456789")) if ref else self._column + 1
        self._column = column
        value = self._value()
        if self._formula and self._raw is None:
            self.uncached_count += 1
            if len(self.uncached) < MAX_UNCACHED_SHOWN:
                self.uncached.append(ref or f"{get_column_letter(column)}{self._row}")
        if value is not None:
            self._cells.append((column, value))

    def _value(self) -> object:
        kind, raw = self._type, self._raw
        if kind == "inlineStr":
            return storable("".join(self._inline)) if self._inline else None
        if raw is None:
            return None
        if kind is None or kind == "n":
            number = float(raw) if "." in raw or "E" in raw or "e" in raw else int(raw)
            style = int(self._style) if self._style else 0
            if style in self.dates:
                return from_excel(number, self.epoch, timedelta=style in self.durations)
            return number
        if kind == "s":
            return self.strings[int(raw)]
        if kind == "b":
            return raw == "1"
        if kind == "d":
            return from_ISO8601(raw)
        return storable(raw)  # str (a formula's text) and e (#N/A)

    def _end_row(self) -> None:
        cells = self._cells
        if not cells:
            return
        width = max(column for column, _value in cells)
        self._widest = max(self._widest, width)
        self._read += width
        check_read_size(self.title, self._row, self._widest, self._read, self.limits)
        values: list[object] = [None] * width
        for column, value in cells:
            values[column - 1] = value
        rows = self.rows
        while len(rows) < self._row - 1:
            rows.append([])
        if self._row <= len(rows):
            rows[self._row - 1] = values  # a row written twice: the later one, as Excel shows
        else:
            rows.append(values)


@lru_cache(maxsize=4096)
def _column_number(letters: str) -> int:
    return column_index_from_string(letters)


def read_xlsx(data: bytes, limits: Limits) -> list[StreamedSheet]:
    """Every worksheet (chart sheets have no cells); raises SheetTooLarge, or openpyxl's and
    zipfile's own errors for a damaged file.

    The workbook parts (strings, styles, sheet list) are read with openpyxl's ExcelReader, but
    not its read-only worksheets: they parse a whole sheet just to size it when the file has
    no <dimension>, which doubled the time of reading.
    """
    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    try:
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        strings = [storable(s) if isinstance(s, str) else s for s in reader.shared_strings]
        return [_read_sheet(reader, sheet.name, sheet.state, rel.target, strings, limits)
                for sheet, rel in reader.parser.find_sheets()
                if rel.target in reader.valid_files and "chartsheet" not in rel.Type]
    finally:
        reader.archive.close()


def _read_sheet(reader: ExcelReader, title: str, state: str | None, path: str, strings: list,
                limits: Limits) -> StreamedSheet:
    with reader.archive.open(path) as source:
        found = _DIMENSION.search(source.read(_HEAD_BYTES))
    if found is not None:
        _min_col, _min_row, max_col, max_row = range_boundaries(found.group(1).decode())
        check_declared_size(title, max_row, max_col, limits)
    book = reader.wb
    # openpyxl's private format tables (the stubs do not declare them); its reader fills them
    parser = _SheetParser(title, strings,
                          book._date_formats, book._timedelta_formats,  # type: ignore[attr-defined]
                          book.epoch, limits)
    with reader.archive.open(path) as source:
        rows = parser.feed(source)
    return StreamedSheet(title, rows, (state or "visible") == "visible", parser.uncached,
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


def _n(number: int) -> str:
    return f"{number:,}".replace(",", ".")
