"""Reading list files: .xlsx (streamed, xlsx.py), .xls/.ods (pandas + python-calamine) and
.csv text.

Cells are returned raw (numbers, dates, text) with row and column positions as Excel shows
them: row 0 of a sheet is Excel row 1, even when the first rows are blank. Headers are not
interpreted here (see headers.py). Before anything is parsed, an archive is checked against
the limits (limits.py) and each sheet's size against the sheet limits, so that a hostile file
gets a one-line answer instead of the process's memory. Text cells lose the characters Excel
cannot store (cells.storable). Every failure is an UnreadableFile with a Vietnamese reason.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from callengine.cells import storable
from callengine.errors import CallengineError
from callengine.importer.limits import Limits, archive_problem
from callengine.importer.text import cell_text, plain
from callengine.importer.xlsx import SheetTooLarge, check_declared_size, check_read_size, read_xlsx

log = logging.getLogger(__name__)

CSV_ENCODINGS = ("utf-8-sig", "cp1258")  # UTF-8 (with or without BOM), then Windows-1258
CSV_DELIMITERS = (",", ";", "\t", "|")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
DAMAGED = "tệp Excel bị hỏng hoặc không đầy đủ (có thể tải về chưa xong)"


class UnreadableFile(CallengineError):
    """A file that cannot be imported at all; the reason is in Vietnamese for staff."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"{name}: {reason}")


@dataclass
class Sheet:
    """One sheet's cells, row by row (rows may differ in length)."""

    name: str
    rows: list[list[object]]
    visible: bool = True
    uncached_formulas: tuple[str, ...] = ()  # formula cells saved without a value (first few)
    uncached_count: int = 0  # all of them


@dataclass
class Workbook:
    """One source file."""

    name: str  # as shown to staff and stored in the audit table
    path: Path
    sha256: str
    kind: str  # xlsx, xls or csv
    sheets: list[Sheet]


def read_file(path: Path | str, name: str | None = None, *,
              limits: Limits | None = None) -> Workbook:
    """Every sheet of an Excel workbook, or the one table of a CSV file, within `limits`
    (the import_max_* settings; their defaults when None)."""
    path = Path(path)
    limits = limits or Limits()
    name = name or path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnreadableFile(name, "không tìm thấy tệp") from None
    except IsADirectoryError:
        raise UnreadableFile(name, "là một thư mục, không phải tệp") from None
    except OSError as exc:
        raise UnreadableFile(name, f"không mở được tệp ({exc.strerror})") from None
    if not data.strip():
        raise UnreadableFile(name, "tệp rỗng, không có dữ liệu")
    kind = _kind_of(data, path.suffix.lower(), name)
    try:
        if kind == "csv":
            sheets = [_read_csv(data, name, limits)]
        else:
            sheets = _read_excel(path, data, kind, name, limits)
    except SheetTooLarge as exc:
        raise UnreadableFile(name, str(exc)) from None
    except UnreadableFile:
        raise
    except MemoryError:
        raise UnreadableFile(name, "không đủ bộ nhớ để đọc tệp; hãy chia danh sách thành nhiều "
                                   "tệp nhỏ hơn") from None
    except Exception as exc:  # any other reader failure is a damaged file, never a traceback
        log.debug("cannot read %s: %r", name, exc)
        raise UnreadableFile(name, f"không đọc được tệp ({type(exc).__name__}); tệp bị hỏng "
                                   "hoặc không đúng định dạng") from None
    if not any(sheet.rows for sheet in sheets):
        raise UnreadableFile(name, "tệp không có dữ liệu (mọi trang đều trống)")
    return Workbook(name, path, hashlib.sha256(data).hexdigest(), kind, sheets)


def _kind_of(data: bytes, suffix: str, name: str) -> str:
    """xlsx, xls or csv from the content (not the name), or UnreadableFile."""
    if data.startswith(_ZIP_MAGIC):
        return "xlsx"
    if data.startswith(_OLE2_MAGIC):
        return "xls"
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml", b"<meta")):
        raise UnreadableFile(name, "tệp thực chất là trang web (HTML/XML), không phải bảng tính; "
                                   "hãy mở bằng Excel rồi lưu lại dạng .xlsx")
    if suffix in EXCEL_SUFFIXES:
        raise UnreadableFile(name, f"không phải tệp Excel ({suffix}) hợp lệ: tệp bị hỏng hoặc "
                                   "không phải bảng tính")
    head = data[:4096]
    if head.count(0) > len(head) // 10 and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # binary (a stray NUL in a text export is removed from its cell instead)
        raise UnreadableFile(name, "không phải bảng tính (.xlsx, .xls) hay tệp văn bản .csv")
    return "csv"


def _read_excel(path: Path, data: bytes, kind: str, name: str, limits: Limits) -> list[Sheet]:
    """Every sheet: .xlsx/.xlsm streamed (xlsx.py); .xls, .xlsb and .ods through pandas with
    the calamine engine (xlrd as a fallback for .xls), checked against the sheet limits once
    read."""
    if kind == "xlsx":
        problem = archive_problem(data, limits)
        if problem is not None:
            raise UnreadableFile(name, problem[0])
        if "xl/workbook.xml" in _zip_names(data, name):
            return _read_streamed(data, name, limits)
    try:
        return _checked_sizes(_read_with_pandas(path, "calamine"), limits)
    except SheetTooLarge:
        raise
    except Exception as exc:  # calamine raises its own error types for damaged files
        log.debug("calamine cannot read %s: %s", name, exc)
        first_error = exc
    if kind == "xls":
        try:
            with warnings.catch_warnings():  # pandas deprecates its xlrd engine
                warnings.simplefilter("ignore")
                return _checked_sizes(_read_with_pandas(path, "xlrd"), limits)
        except SheetTooLarge:
            raise
        except Exception as exc:
            log.debug("xlrd cannot read %s: %s", name, exc)
    if _ENCRYPTED in data:
        raise UnreadableFile(name, "tệp được đặt mật khẩu; hãy gỡ mật khẩu rồi lưu lại")
    raise UnreadableFile(name, DAMAGED) from first_error


def _read_streamed(data: bytes, name: str, limits: Limits) -> list[Sheet]:
    try:
        streamed = read_xlsx(data, limits)
    except (SheetTooLarge, MemoryError):
        raise
    except Exception as exc:  # openpyxl's, zipfile's and the XML parser's errors
        log.debug("openpyxl cannot read %s: %r", name, exc)
        raise UnreadableFile(name, DAMAGED) from None
    return [Sheet(s.name, _trimmed(s.rows), s.visible, tuple(s.uncached_formulas),
                  s.uncached_count) for s in streamed]


def _checked_sizes(sheets: list[Sheet], limits: Limits) -> list[Sheet]:
    """Sheets read whole (.xls is at most 65,536 x 256) checked against the sheet limits."""
    for sheet in sheets:
        check_declared_size(sheet.name, len(sheet.rows),
                            max((len(r) for r in sheet.rows), default=0), limits)
    return sheets


def _zip_names(data: bytes, name: str) -> set[str]:
    """The members of a .xlsx (a zip archive holding a workbook); say which of the two is
    wrong."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise UnreadableFile(name, DAMAGED) from None
    if not names & {"xl/workbook.xml", "xl/workbook.bin", "content.xml"}:
        raise UnreadableFile(name, "không phải bảng tính Excel (tệp nén của loại tài liệu khác)")
    return names


def _read_with_pandas(path: Path, engine: str) -> list[Sheet]:
    """All sheets as raw rows; cells are not converted (header=None, dtype=object)."""
    import pandas as pd

    with pd.ExcelFile(path, engine=engine) as book:
        visible = _visibility(book, engine)
        frames = pd.read_excel(book, sheet_name=None, header=None, dtype=object,
                               keep_default_na=False, na_values=[])
    sheets = []
    for title in list(frames):
        frame = frames.pop(title)  # each frame is freed once its rows are taken
        rows = [[storable(c) if type(c) is str else c for c in row]
                for row in frame.to_numpy(dtype=object).tolist()]
        sheets.append(Sheet(str(title), _trimmed(rows), visible.get(str(title), True)))
        del frame
    return sheets


def _visibility(book, engine: str) -> dict[str, bool]:
    """Sheet name -> visible, when the engine tells."""
    if engine != "calamine":
        return {}
    try:
        from python_calamine import SheetVisibleEnum

        return {m.name: m.visible == SheetVisibleEnum.Visible for m in book.book.sheets_metadata}
    except (AttributeError, ImportError):
        return {}


def _trimmed(rows: list[list[object]]) -> list[list[object]]:
    """Rows without trailing blank rows (formatted but empty rows at the end of a sheet)."""
    end = len(rows)
    while end and not any(_filled(cell) for cell in rows[end - 1]):
        end -= 1
    del rows[end:]
    return rows


def _filled(cell: object) -> bool:
    value = plain(cell)
    return value is not None and (not isinstance(value, str) or bool(value.strip()))


def _read_csv(data: bytes, name: str, limits: Limits) -> Sheet:
    """A CSV file as one sheet named like Excel names it (the name without extension; an
    upload's original name, not the name it is stored under).

    The standard csv module is used rather than pandas.read_csv, which fixes the column count
    from the first line and so fails on the title lines above a header.
    """
    text = storable(_decode(data, name))
    delimiter = _delimiter(text)
    stem = name.rpartition(".")[0] if "." in name else name  # a name is text, not a path
    title = stem[:31] or name
    rows = _csv_rows(text, delimiter, title, name, limits)
    if not any(any(cell.strip() for cell in row) for row in rows):
        raise UnreadableFile(name, "tệp không có dữ liệu")
    return Sheet(title, _trimmed(cast(list[list[object]], rows)))


def _csv_rows(text: str, delimiter: str, title: str, name: str,
              limits: Limits) -> list[list[str]]:
    """The rows, refused past the sheet limits; csv errors (a field over the csv module's
    limit, a broken quote) are an unreadable file."""
    rows: list[list[str]] = []
    widest = cells = 0
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            widest, cells = max(widest, len(row)), cells + len(row)
            rows.append(row)
            check_read_size(title, len(rows), widest, cells, limits)
    except csv.Error as exc:
        log.debug("csv cannot read %s: %s", name, exc)
        raise UnreadableFile(name, _csv_reason(exc, len(rows) + 1)) from None
    return rows


def _csv_reason(exc: csv.Error, line: int) -> str:
    if "field larger than field limit" in str(exc):
        return (f"không đọc được tệp CSV: một ô ở khoảng dòng {line} dài hơn "
                f"{csv.field_size_limit():,} ký tự (có thể thiếu dấu ngoặc kép đóng)"
                .replace(",", "."))
    return f"không đọc được tệp CSV (dòng {line}): tệp bị hỏng hoặc sai định dạng"


def _decode(data: bytes, name: str) -> str:
    """Text of a CSV: UTF-16 with BOM (Excel 'Unicode text'), UTF-8 (BOM or not), CP1258."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(name, "không đọc được bảng mã của tệp CSV (cần UTF-8 hoặc Windows-1258)")


def _delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most columns."""
    sample = "\n".join(text.splitlines()[:30])
    best, best_width = ",", 1
    for delimiter in CSV_DELIMITERS:
        try:
            width = max((len(r) for r in csv.reader(io.StringIO(sample), delimiter=delimiter)),
                        default=1)
        except csv.Error:
            continue
        if width > best_width:
            best, best_width = delimiter, width
    return best


def sheet_is_blank(sheet: Sheet) -> bool:
    """True if no cell of the sheet holds anything."""
    return not any(cell_text(cell) for row in sheet.rows for cell in row)
