"""Importing record workbooks (samples, lab results, vaccine doses) with the list importer's
machinery: the same reader, header matching, Vietnamese row errors and error workbook.

A domain describes its columns once (`Column`: field, Vietnamese header synonyms, required or
not, a parser returning the value or raising `InvalidValue` with the reason). Then:

    validation = read_records(sources, spec)          # phase 1: no database
    report = import_records(db, validation, write)    # phase 2: ONE transaction

`write(session, validation)` stores the accepted records and returns counts by name
({"created": 3, "updated": 1}); it may reject a record it cannot store (an unknown sample
code) with `validation.reject(record, RowError(...))`. A file that cannot be read refuses the
whole import (`UnreadableFiles`), and an exception inside `write` writes nothing.

Headers are compared as headers.py compares them: accent-, case-, punctuation- and
spacing-insensitively; a header that starts with a synonym followed by more words also
matches ("Kết quả xét nghiệm"), the longest synonym first. The header row is the first of the
first 20 rows that holds every required column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from sqlalchemy.orm import Session

from callengine.importer.dates import InvalidDate, parse_date
from callengine.importer.headers import HEADER_SEARCH_ROWS
from callengine.importer.limits import Limits
from callengine.importer.reader import Sheet, UnreadableFile, Workbook, read_file
from callengine.importer.rows import RowError
from callengine.importer.service import (
    ERROR_SUMMARY_HEADER,
    FileTotals,
    ImportIssue,
    ImportSource,
    RejectedRow,
    UnreadableFiles,
)
from callengine.importer.text import cell_text, plain, word_key
from callengine.store.db import Database


class InvalidValue(ValueError):
    """A cell's value cannot be used; the message (Vietnamese) says why, without the column."""


Parser = Callable[[object], object]  # a non-blank cell -> its value, or InvalidValue


def text_value(max_length: int) -> Parser:
    """Cleaned text, refused when longer than its column holds."""
    def parse(raw: object) -> str:
        text = cell_text(raw)
        if len(text) > max_length:
            raise InvalidValue(f"'{text[:40]}…' dài quá {max_length} ký tự")
        return text
    return parse


@dataclass(frozen=True)
class Column:
    """One field of a record and the headers that name it."""

    field: str
    synonyms: tuple[str, ...]  # Vietnamese headers, as staff write them
    required: bool = False  # the header row must have it, and every row must fill it
    parse: Parser = text_value(200)
    missing: str = "ô này bắt buộc"  # the reason when a required cell is blank
    exact: tuple[str, ...] = ()  # short synonyms that must be the whole header ("DT")


@dataclass(frozen=True)
class RecordSpec:
    """The columns of one kind of record workbook."""

    columns: tuple[Column, ...]
    noun: str  # what a row is, in Vietnamese ("mẫu xét nghiệm"), for messages

    def __post_init__(self) -> None:
        keys: dict[str, tuple[str, bool]] = {}
        for column in self.columns:
            for synonym in column.synonyms:
                keys[word_key(synonym)] = (column.field, False)
            for synonym in column.exact:
                keys[word_key(synonym)] = (column.field, True)
        object.__setattr__(self, "_keys", keys)
        object.__setattr__(self, "_by_length", sorted(keys, key=len, reverse=True))

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)

    def column(self, field_name: str) -> Column:
        return next(c for c in self.columns if c.field == field_name)

    def match(self, header: str) -> str | None:
        """The field a header names, or None."""
        key = word_key(header)
        if not key:
            return None
        hit = self._keys.get(key)  # type: ignore[attr-defined]
        if hit is not None:
            return hit[0]
        for synonym in self._by_length:  # type: ignore[attr-defined]
            field_name, exact = self._keys[synonym]  # type: ignore[attr-defined]
            if not exact and key.startswith(synonym + " "):
                return field_name
        return None


@dataclass(frozen=True)
class RecordHeader:
    """Where a sheet's header is and which column holds which field (the first one wins)."""

    row: int  # 0-based
    fields: dict[str, int]
    labels: dict[int, str]

    def label(self, column: int) -> str:
        return self.labels.get(column, f"cột {column + 1}")


class RecordHeaderNotFound(ValueError):
    """No row within the first 20 holds every required column; the message names them."""


def find_record_header(rows: list[list[object]], spec: RecordSpec) -> RecordHeader:
    """The first row within the first 20 naming every required column."""
    needed = {c.field for c in spec.required}
    best_found: set[str] = set()
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        fields: dict[str, int] = {}
        for col, cell in enumerate(row):
            field_name = spec.match(cell_text(cell))
            if field_name is not None and field_name not in fields:
                fields[field_name] = col
        if needed <= set(fields):
            labels = {c: cell_text(v) for c, v in enumerate(row) if cell_text(v)}
            return RecordHeader(index, fields, labels)
        if len(set(fields) & needed) > len(best_found):
            best_found = set(fields) & needed
    missing = [spec.column(f).synonyms[0] for f in sorted(needed - best_found,
               key=[c.field for c in spec.columns].index)]
    names = ", ".join(f"'{m[:1].upper()}{m[1:]}'" for m in missing)
    raise RecordHeaderNotFound(f"không tìm thấy dòng tiêu đề có cột {names} trong "
                               f"{HEADER_SEARCH_ROWS} dòng đầu; trang này không được nhập")


@dataclass(frozen=True)
class ParsedRow:
    """An accepted row: its values by field, and where it came from."""

    file: str
    sheet: str
    row: int  # as Excel shows it (1-based)
    values: dict[str, object]
    cells: list[object]
    header_cells: list[object]
    labels: Mapping[str, str] = field(default_factory=dict)  # field -> header as written

    def get(self, field_name: str, default: object = None) -> Any:
        """A field's parsed value: its type is the one the field's parser gives."""
        return self.values.get(field_name, default)

    def label(self, field_name: str) -> str:
        """The header of a field's column as the file writes it (for row errors)."""
        return self.labels.get(field_name, field_name)

    @property
    def source(self) -> str:
        return f"{self.file} › {self.sheet} › dòng {self.row}"[:300]


def parse_row(cells: list[object], header: RecordHeader,
              spec: RecordSpec) -> dict[str, object] | list[RowError] | None:
    """A row's values, its errors, or None for a row with nothing in the spec's columns."""
    present = {f: cells[c] for f, c in header.fields.items()
               if c < len(cells) and cell_text(cells[c])}
    if not present:
        return None
    values: dict[str, object] = {}
    errors: list[RowError] = []
    for column in spec.columns:
        position = header.fields.get(column.field)
        label = header.label(position) if position is not None else column.synonyms[0]
        raw = present.get(column.field)
        if raw is None:
            if column.required:
                errors.append(RowError(label, "", f"Cột '{label}' để trống: {column.missing}"))
            continue
        try:
            values[column.field] = column.parse(plain(raw))
        except (InvalidValue, InvalidDate) as exc:
            errors.append(RowError(label, cell_text(raw), f"Cột '{label}': {exc}"))
    return errors or values


@dataclass
class RecordFile:
    """One file's counts."""

    name: str
    sha256: str
    sheets: int = 0
    rows: int = 0
    rejected: int = 0
    skipped: int = 0

    def to_dict(self) -> dict:
        return {"name": self.name, "sha256": self.sha256, "sheets": self.sheets,
                "rows": self.rows, "rejected": self.rejected, "skipped": self.skipped}


@dataclass
class RecordValidation(FileTotals):
    """Phase 1's result (and phase 2's rejections): nothing is written by it."""

    spec: RecordSpec
    files: list[RecordFile] = field(default_factory=list)
    records: list[ParsedRow] = field(default_factory=list)
    errors: list[ImportIssue] = field(default_factory=list)
    rejected_rows: list[RejectedRow] = field(default_factory=list)

    def reject(self, record: ParsedRow, *errors: RowError) -> None:
        """Move an accepted record to the rejected rows (a check that needs the database)."""
        self.records.remove(record)
        self._file(record.file).rejected += 1
        self._add_rejection(record.file, record.sheet, record.row, record.cells,
                            record.header_cells, errors)

    def _file(self, name: str) -> RecordFile:
        return next(f for f in self.files if f.name == name)

    def _add_rejection(self, file: str, sheet: str, row: int, cells: list[object],
                       header_cells: list[object], errors: Sequence[RowError]) -> None:
        for error in errors:
            self.errors.append(ImportIssue(file, sheet, row, error.column, error.value,
                                           error.reason))
        self.rejected_rows.append(RejectedRow(file, sheet, row, list(cells), header_cells,
                                              tuple(e.reason for e in errors)))



def read_records(sources: Iterable[ImportSource | Path | str], spec: RecordSpec, *,
                 limits: Limits | None = None) -> RecordValidation:
    """Read and parse every file within `limits` (the import_max_* settings); UnreadableFiles
    if any cannot be imported at all."""
    validation = RecordValidation(spec)
    problems: list[UnreadableFile] = []
    for source in sources:
        source = source if isinstance(source, ImportSource) else ImportSource(Path(source))
        try:
            _read_book(read_file(source.path, source.name, limits=limits), validation)
        except UnreadableFile as exc:
            problems.append(exc)
    if problems:
        raise UnreadableFiles(problems)
    return validation


def _read_book(book: Workbook, validation: RecordValidation) -> None:
    summary = RecordFile(book.name, book.sha256)
    sheet_errors: list[ImportIssue] = []
    first_reason = None
    for sheet in book.sheets:
        if not sheet.rows or _is_error_summary(sheet):
            continue
        try:
            header = find_record_header(sheet.rows, validation.spec)
        except RecordHeaderNotFound as exc:
            first_reason = first_reason or str(exc)
            if sheet.visible:
                sheet_errors.append(ImportIssue(book.name, sheet.name, None, None, None,
                                                f"Trang '{sheet.name}': {exc}"))
            continue
        if summary not in validation.files:
            validation.files.append(summary)
        _read_sheet(book.name, sheet, header, validation, summary)
    if summary not in validation.files:
        raise UnreadableFile(book.name, first_reason or "tệp không có trang nào có dữ liệu")
    validation.errors.extend(sheet_errors)


def _is_error_summary(sheet: Sheet) -> bool:
    """The first sheet of our own error workbook (its fixed rows are in the sheets after)."""
    first = tuple(cell_text(c) for c in sheet.rows[0][:len(ERROR_SUMMARY_HEADER)])
    return first == ERROR_SUMMARY_HEADER


def _read_sheet(file: str, sheet: Sheet, header: RecordHeader,
                validation: RecordValidation, summary: RecordFile) -> None:
    width = max(header.labels, default=-1) + 1
    header_cells: list[object] = [header.labels.get(c, "") for c in range(width)]
    labels = {f: header.label(c) for f, c in header.fields.items()}
    first = header.row + 1
    summary.sheets += 1
    summary.rows += len(sheet.rows) - first
    for index in range(first, len(sheet.rows)):
        cells = sheet.rows[index]
        outcome = parse_row(cells, header, validation.spec)
        if outcome is None:
            summary.skipped += 1
        elif isinstance(outcome, list):
            summary.rejected += 1
            validation._add_rejection(file, sheet.name, index + 1, cells, header_cells, outcome)
        else:
            validation.records.append(ParsedRow(file, sheet.name, index + 1, outcome,
                                                list(cells), header_cells, labels))


@dataclass
class RecordReport:
    """What a record import did (or, with dry_run, would do); error_book writes its rows."""

    rows: int
    accepted: int
    rejected: int
    skipped: int
    counts: dict[str, int]
    errors: list[ImportIssue]
    rejected_rows: list[RejectedRow]
    files: list[RecordFile]
    dry_run: bool = False

    def to_json(self) -> dict:
        """The JSON the CLI's --json and the API return, like the list import's."""
        return {"rows": self.rows, "accepted": self.accepted, **self.counts,
                "rejected": self.rejected, "skipped": self.skipped, "dry_run": self.dry_run,
                "files": [f.to_dict() for f in self.files],
                "errors": [e.to_dict() for e in self.errors]}

    @property
    def exit_code(self) -> int:
        """0: everything imported; 1: imported, some rows or sheets rejected."""
        return 1 if self.errors else 0


Writer = Callable[[Session, RecordValidation], Mapping[str, int]]


def import_records(db: Database, validation: RecordValidation, write: Writer, *,
                   dry_run: bool = False) -> RecordReport:
    """Phase 2: `write` the accepted records in ONE transaction (rolled back by dry_run)."""
    with db.session() as session:
        counts = dict(write(session, validation))
        if dry_run:
            session.rollback()
    files = {f.name: index for index, f in enumerate(validation.files)}

    def in_file_order(item) -> tuple[int, int]:  # phase 2's rejections among phase 1's
        return files.get(item.file, len(files)), item.row or 0

    return RecordReport(
        rows=validation.rows, accepted=len(validation.records), rejected=validation.rejected,
        skipped=validation.skipped, counts=counts,
        errors=sorted(validation.errors, key=in_file_order),
        rejected_rows=sorted(validation.rejected_rows, key=in_file_order),
        files=validation.files, dry_run=dry_run)


def format_report(report: RecordReport, title: str, labels: Mapping[str, str],
                  errors_out: str | None = None) -> str:
    """The Vietnamese summary a CLI prints; `labels` names each count ("created": "Mẫu mới")."""
    from callengine.importer.commands import issue_lines

    lines = [f"{title}: đã đọc {_n(report.rows)} dòng từ {len(report.files)} tệp."]
    rows = [(labels.get(k, k), v) for k, v in report.counts.items()]
    rows += [("Dòng bị từ chối", report.rejected), ("Dòng trống bỏ qua", report.skipped)]
    width = max(len(label) for label, _ in rows) + 1
    lines += [f"  {label + ':':<{width}} {_n(value)}" for label, value in rows]
    return "\n".join(lines + issue_lines(report, errors_out))


def _n(number: int) -> str:
    return f"{number:,}".replace(",", ".")


# --- parsers shared by record kinds ----------------------------------------------------------


def choice_value(choices: Mapping[str, str], expected: str) -> Parser:
    """One of a few values, matched accent- and case-insensitively ("Dương tính", "DT")."""
    keys = {word_key(k) if word_key(k) else k.strip(): v for k, v in choices.items()}

    def parse(raw: object) -> str:
        text = cell_text(raw)
        value = keys.get(word_key(text)) if word_key(text) else keys.get(text.strip())
        if value is None:
            raise InvalidValue(f"không nhận ra '{text}' (dùng {expected})")
        return value
    return parse


def number_value(low: float, high: float, what: str) -> Parser:
    """A number within [low, high]; a decimal comma is read ("24,5")."""
    def parse(raw: object) -> float:
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            number = float(raw)
        else:
            try:
                number = float(cell_text(raw).replace(",", "."))
            except ValueError:
                raise InvalidValue(f"'{cell_text(raw)}' không phải số ({what})") from None
        if not low <= number <= high:
            raise InvalidValue(f"{what} '{cell_text(raw)}' phải từ {low:g} đến {high:g}")
        return number
    return parse


def date_value(today: date) -> Parser:
    """A day (day-first text or a date cell), near `today` as list dates are."""
    return lambda raw: parse_date(raw, today)


def datetime_value(today: date, *, not_after: datetime | None = None) -> Parser:
    """A local date and time ('12/08/2021 14:30', '14h30 12/08/2021', a date-time cell, or a
    day alone = 00:00), naive (the caller applies the time zone); refused when later than
    `not_after`."""
    def parse(raw: object) -> datetime:
        if isinstance(raw, datetime):
            moment = raw.replace(tzinfo=None)
        elif isinstance(raw, str):
            text = cell_text(raw)
            clock = _TIME.search(text)
            day_text = (text[:clock.start()] + " " + text[clock.end():]) if clock else text
            day = parse_date(day_text.replace("lúc", " ").strip(), today)
            moment = datetime.combine(day, _clock_time(clock) if clock else time())
        else:
            moment = datetime.combine(parse_date(raw, today), time())
        if not_after is not None and moment > not_after:
            raise InvalidValue(f"thời điểm '{cell_text(raw)}' ở tương lai")
        return moment
    return parse


_TIME = re.compile(r"(?<![\d/.-])(\d{1,2})\s*(?::|h|giờ)\s*(\d{2})?(?::(\d{2}))?(?:\s*phút)?"
                   r"(?![\d/.-])", re.IGNORECASE)


def _clock_time(match: re.Match) -> time:
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        raise InvalidValue(f"giờ '{match.group(0).strip()}' không hợp lệ (ghi giờ:phút)")
    return time(hour, minute)
