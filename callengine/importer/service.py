"""Importing list files in two phases: validate everything, then write everything at once.

Phase 1 (`validate_files`) reads every file and sheet and turns each row into a record, a
rejection or a skip, without touching the database. A file that cannot be read at all stops
the whole import (`UnreadableFiles`). Phase 2 (`write_records`) looks people up in bulk,
merges every appearance in memory, and writes people, monitoring periods and one audit row per
file in ONE transaction: a failure writes nothing, and importing the same file again changes
nothing (no new person, no new period, no field changed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Sequence, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from callengine.clock import SystemClock, to_db
from callengine.errors import CallengineError
from callengine.importer import headers as h
from callengine.importer.categories import DEFAULT_PERIOD_DAYS, RETURNEE, infer_category
from callengine.importer.fingerprint import state_fingerprint
from callengine.importer.headers import DuplicateHeaders, HeaderNotFound, find_header
from callengine.importer.limits import Limits
from callengine.importer.merge import PERSON_COLUMNS, Merger, PersonState, classify
from callengine.importer.progress import Listener, Progress, note
from callengine.importer.reader import Sheet, UnreadableFile, Workbook, read_file
from callengine.importer.rows import PersonRecord, Rejected, SheetContext, validate_row
from callengine.importer.text import cell_text, word_key
from callengine.store.db import Database
from callengine.store.models import ImportBatch, MonitoringPeriod, Person

LOOKUP_CHUNK = 2000  # values per IN (...) when looking people up
IMPORT_LOCK_KEY = 0x63656E67696D70  # PostgreSQL advisory lock held by a writing import
# First row of the summary sheet of our own error workbook: skipped when it is re-imported.
ERROR_SUMMARY_HEADER = ("Tệp", "Trang", "Dòng", "Cột", "Giá trị", "Lý do")
_DISTRICT_SHEET = re.compile(r"^(?:huyen|thi xa|thanh pho|tp|tx|quan)\b")
BarFactory = Callable[[str, int], Progress]  # (label, rows) -> the sheet's progress


class UnreadableFiles(CallengineError):
    """One or more files cannot be imported at all; nothing was imported."""

    def __init__(self, problems: Sequence[UnreadableFile]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class ImportSource:
    """A file to import and the name staff know it by (an upload keeps its original name)."""

    path: Path
    name: str | None = None


@dataclass(frozen=True)
class ImportIssue:
    """A rejected row (row, column, value set) or a sheet that was not imported (all None)."""

    file: str
    sheet: str
    row: int | None
    column: str | None
    value: str | None
    reason: str

    def to_dict(self) -> dict:
        return {"file": self.file, "sheet": self.sheet, "row": self.row,
                "column": self.column, "value": self.value, "reason": self.reason}


@dataclass(frozen=True)
class RejectedRow:
    """A rejected row as it was in the file, for the error workbook."""

    file: str
    sheet: str
    row: int
    cells: list[object]
    header: list[object]  # the sheet's header as it was (sub-headers such as 'Nam' merged)
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class InferredClass:
    """A sheet without a class column whose title block or columns say what it lists."""

    file: str
    sheet: str
    category: str
    evidence: str  # the title or the columns it was read from, as the file writes them

    def to_dict(self) -> dict:
        return {"file": self.file, "sheet": self.sheet, "category": self.category,
                "evidence": self.evidence}


@dataclass(frozen=True, slots=True)
class Located:
    """An accepted record and where it came from."""

    file_index: int
    sheet: str
    record: PersonRecord


@dataclass
class FileSummary:
    """One file's counts (created/updated: people first named in this file)."""

    name: str
    sha256: str
    sheets: int = 0  # sheets holding data
    rows: int = 0
    rejected: int = 0
    skipped: int = 0
    created: int = 0
    updated: int = 0


class FileTotals:
    """Rows, rejected and skipped rows over `self.files` (a validation's counts)."""

    files: list

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def skipped(self) -> int:
        return sum(f.skipped for f in self.files)


@dataclass
class Validation(FileTotals):
    """Phase 1's result: accepted records, rejections and counts. Nothing written yet."""

    list_date: date
    category: str | None
    files: list[FileSummary] = field(default_factory=list)
    records: list[Located] = field(default_factory=list)
    issues: list[ImportIssue] = field(default_factory=list)
    rejected_rows: list[RejectedRow] = field(default_factory=list)
    inferred: list[InferredClass] = field(default_factory=list)


@dataclass(frozen=True)
class WriteCounts:
    """People created, updated and unchanged; what the lookup saw; the audit rows written."""

    created: int
    updated: int
    unchanged: int
    fingerprint: str = ""  # of the stored rows the records matched (fingerprint.py)
    batch_ids: tuple[int, ...] = ()  # one per file, in file order (none in a dry run)


@dataclass
class ImportReport:
    """What an import did (or, with dry_run, would do)."""

    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    skipped: int
    errors: list[ImportIssue]
    files: list[FileSummary]
    rejected_rows: list[RejectedRow]
    dry_run: bool = False
    inferred: list[InferredClass] = field(default_factory=list)

    def to_json(self) -> dict:
        """The machine-readable summary printed by `callengine import --json` (with the
        classes inferred from sheet titles, when there are any)."""
        summary = {"rows": self.rows, "created": self.created, "updated": self.updated,
                   "rejected": self.rejected, "skipped": self.skipped,
                   "errors": [e.to_dict() for e in self.errors]}
        if self.inferred:
            summary["inferred"] = [i.to_dict() for i in self.inferred]
        return summary


def build_report(validation: Validation, counts: WriteCounts, dry_run: bool) -> ImportReport:
    """The report of phase 1's validation and phase 2's counts."""
    return ImportReport(
        rows=validation.rows, created=counts.created, updated=counts.updated,
        unchanged=counts.unchanged, rejected=validation.rejected, skipped=validation.skipped,
        errors=validation.issues, files=validation.files,
        rejected_rows=validation.rejected_rows, dry_run=dry_run,
        inferred=validation.inferred,
    )


def import_files(
    db: Database,
    sources: Iterable[ImportSource | Path | str],
    *,
    list_date: date,
    category: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    period_days: Mapping[str, int] | None = None,
    progress: bool = False,
    limits: Limits | None = None,
) -> ImportReport:
    """Validate every file, then (unless dry_run) write everything in one transaction."""
    validation = validate_files(sources, list_date=list_date, category=category,
                                progress=progress, limits=limits)
    if progress and not dry_run:
        note(f"Đang ghi {len(validation.records)} dòng vào cơ sở dữ liệu...",
             len(validation.records))
    counts = write_records(db, validation, now=now or SystemClock().now(),
                           period_days=period_days, dry_run=dry_run)
    return build_report(validation, counts, dry_run)


# --- phase 1: validation --------------------------------------------------------------------


def validate_files(
    sources: Iterable[ImportSource | Path | str],
    *,
    list_date: date,
    category: str | None = None,
    progress: bool = False,
    listener: Listener | None = None,
    limits: Limits | None = None,
) -> Validation:
    """Read and validate every file; raise UnreadableFiles if any cannot be imported at all.

    `progress` draws a bar on a terminal; `listener` is told each sheet's progress; `limits`
    are the import_max_* settings (their defaults when None)."""
    validation = Validation(list_date=list_date, category=category)

    def bars(label: str, total: int) -> Progress:
        return Progress(label, total, enabled=progress, listener=listener)

    problems: list[UnreadableFile] = []
    for source in sources:
        source = source if isinstance(source, ImportSource) else ImportSource(Path(source))
        try:
            book = read_file(source.path, source.name, limits=limits)
            _validate_book(book, validation, bars)
        except UnreadableFile as exc:
            problems.append(exc)
    if problems:
        raise UnreadableFiles(problems)
    return validation


class UncachedFormulas(HeaderNotFound):
    """Formula cells saved without their values (the file was not calculated)."""


def _validate_book(book: Workbook, validation: Validation, bars: BarFactory) -> None:
    """Validate every sheet of one file into `validation`."""
    summary = FileSummary(book.name, book.sha256)
    file_index = len(validation.files)
    issues: list[ImportIssue] = []
    usable = phone_headers = 0
    refusals: list[str] = []  # sheets with a header that cannot be read as it stands
    for sheet in book.sheets:
        if not sheet.rows:
            continue
        try:
            header = find_header(sheet.rows)
            _refuse_uncached_formulas(sheet)
        except HeaderNotFound as exc:
            phone_headers += exc.has_phone
            if isinstance(exc, (DuplicateHeaders, UncachedFormulas)):
                refusals.append(f"trang '{sheet.name}': {exc}")
            if sheet.visible and not _is_error_summary(sheet):
                issues.append(ImportIssue(book.name, sheet.name, None, None, None,
                                          f"Trang '{sheet.name}': {exc}"))
            continue
        usable += 1
        category = validation.category
        if h.CATEGORY not in header.fields and category is None:
            category = _inferred_class(book, sheet, header, validation)
        _validate_sheet(book, file_index, sheet, header, category, validation, summary, bars)
    if not usable:
        _refuse_book(book, refusals, phone_headers)
    validation.files.append(summary)
    validation.issues.extend(issues)


def _refuse_uncached_formulas(sheet: Sheet) -> None:
    if sheet.uncached_count:
        shown = ", ".join(sheet.uncached_formulas)
        more = sheet.uncached_count - len(sheet.uncached_formulas)
        raise UncachedFormulas(
            f"{sheet.uncached_count} ô công thức chưa có giá trị ({shown}"
            f"{f' và {more} ô khác' if more > 0 else ''}), có thể tệp được tạo bằng chương "
            "trình không tính công thức; hãy mở bằng Excel, lưu lại rồi nhập lại; trang này "
            "không được nhập")


def _refuse_book(book: Workbook, refusals: list[str], phone_headers: int) -> None:
    """UnreadableFile for a file none of whose sheets can be imported."""
    if refusals:
        raise UnreadableFile(book.name, "; ".join(refusals))
    if phone_headers:
        raise UnreadableFile(book.name, "có cột số điện thoại nhưng không có cột họ tên ở "
                                        "trang nào; không nhập được")
    raise UnreadableFile(book.name, f"không tìm thấy cột số điện thoại (và họ tên) trong "
                                    f"{h.HEADER_SEARCH_ROWS} dòng đầu của trang nào")


def _inferred_class(book: Workbook, sheet: Sheet, header: h.HeaderMatch,
                    validation: Validation) -> str:
    """The class a sheet's title block (or name, or columns) names; UnreadableFile if none."""
    titles = [cell_text(c) for row in sheet.rows[:header.row] if not _has_header_cell(row)
              for c in row if cell_text(c)]
    category = infer_category([*titles, sheet.name])
    evidence = next((t for t in [*titles, sheet.name] if infer_category([t]) == category), "")
    if category is None and {h.ARRIVAL_DATE, h.ORIGIN} <= set(header.fields) \
            and h.CONTACT_DATE not in header.fields:
        category = RETURNEE
        evidence = ", ".join(header.label(header.fields[f]) for f in (h.ARRIVAL_DATE, h.ORIGIN))
    if category is None:
        raise UnreadableFile(
            book.name, f"trang '{sheet.name}' không có cột phân loại (Phân loại/Đối tượng) và "
                       "tiêu đề không nói rõ là danh sách gì; hãy ghi rõ phân loại cho cả tệp "
                       "bằng --category (F0, F1, F2, returnee)")
    validation.inferred.append(InferredClass(book.name, sheet.name, category, evidence[:200]))
    return category


def _is_error_summary(sheet: Sheet) -> bool:
    """The first sheet of an error workbook (fixed rows are in the sheets after it)."""
    first = tuple(cell_text(c) for c in sheet.rows[0][:len(ERROR_SUMMARY_HEADER)])
    return first == ERROR_SUMMARY_HEADER


def _has_header_cell(row: list[object]) -> bool:
    """True for the first row of a two-row header (not a title)."""
    return any(h.match_header(cell_text(c)) is not None for c in row)


def _validate_sheet(book: Workbook, file_index: int, sheet: Sheet, header: h.HeaderMatch,
                    category: str | None, validation: Validation, summary: FileSummary,
                    bars: BarFactory) -> None:
    """Validate the data rows below the header of one sheet (`category`: for rows without
    one, from --category or the sheet's title)."""
    district = None if h.DISTRICT in header.fields else district_from_sheet(sheet.name)
    ctx = SheetContext(header, validation.list_date, category, district)
    rows = sheet.rows
    first = header.row + 1
    summary.sheets += 1
    summary.rows += len(rows) - first
    bar = bars(f"{book.name} › {sheet.name}", len(rows) - first)
    width = max(header.labels, default=-1) + 1
    header_cells: list[object] = [header.labels.get(c, "") for c in range(width)]
    records = validation.records
    for index in range(first, len(rows)):
        outcome = validate_row(rows[index], index + 1, ctx)
        if outcome is None:
            summary.skipped += 1
        elif isinstance(outcome, Rejected):
            summary.rejected += 1
            _reject(validation, book.name, sheet.name, index + 1, rows[index], header_cells,
                    outcome)
        else:
            records.append(Located(file_index, sheet.name, outcome))
        if bar.active:
            bar.advance()
    bar.close()
    sheet.rows = []  # free the raw cells; rejected rows were copied


def _reject(validation: Validation, file: str, sheet: str, row: int, cells: list[object],
            header_cells: list[object], outcome: Rejected) -> None:
    for error in outcome.errors:
        validation.issues.append(
            ImportIssue(file, sheet, row, error.column, error.value, error.reason))
    validation.rejected_rows.append(RejectedRow(
        file, sheet, row, list(cells), header_cells, tuple(e.reason for e in outcome.errors)))


def district_from_sheet(name: str) -> str | None:
    """A sheet named after a district ('Huyện Nga Sơn', 'TX Nghi Sơn') gives the district."""
    return name.strip()[:100] if _DISTRICT_SHEET.match(word_key(name)) else None


# --- phase 2: merging and writing -----------------------------------------------------------


def write_records(
    db: Database,
    validation: Validation,
    *,
    now: datetime,
    period_days: Mapping[str, int] | None = None,
    dry_run: bool = False,
    actor: str | None = None,
) -> WriteCounts:
    """Merge the records with the stored people and write everything in one transaction."""
    with db.session() as session:
        return write_in_session(session, validation, now=now, period_days=period_days,
                                dry_run=dry_run, actor=actor)


def write_in_session(
    session: Session,
    validation: Validation,
    *,
    now: datetime,
    period_days: Mapping[str, int] | None = None,
    dry_run: bool = False,
    actor: str | None = None,
    preview_id: str | None = None,
) -> WriteCounts:
    """write_records inside the caller's transaction (which may write more, or roll back).

    The audit rows name `actor` (who imported) and `preview_id` (the stored preview, if any).
    """
    days = {**DEFAULT_PERIOD_DAYS, **(period_days or {})}
    stamp = to_db(now)
    if not dry_run:
        _one_import_at_a_time(session)
    merger = Merger(validation.list_date, days)
    stored = _load_existing(session, merger, [loc.record for loc in validation.records])
    files = validation.files
    for located in validation.records:
        merger.add(located.record, located.file_index,
                   _source(files[located.file_index].name, located))
    merger.finish()
    created, changed, unchanged = classify(merger.touched.values())
    for summary in files:
        summary.created = summary.updated = 0
    for person in created:
        files[person.file_index].created += 1
    for person in changed:
        files[person.file_index].updated += 1
    batch_ids: list[int] = []
    if not dry_run:
        batch_ids = _write_batches(session, validation, stamp, actor, preview_id)
        _insert_people(session, created, stamp)
        _update_people(session, changed, stamp)
        _write_periods(session, [*created, *changed], batch_ids, stamp)
    return WriteCounts(len(created), len(changed), len(unchanged),
                       state_fingerprint(*stored, days), tuple(batch_ids))


def _one_import_at_a_time(session: Session) -> None:
    """On PostgreSQL, wait for any other import to commit before looking people up, so that
    two imports of overlapping lists cannot both create the same person. (SQLite has one
    writer at a time anyway; its lock is taken at the first write, after the lookups.)"""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(IMPORT_LOCK_KEY)))


def _source(file: str, located: Located) -> str:
    return f"{file} › {located.sheet} › dòng {located.record.row}"[:300]


def _chunks(values: Sequence, size: int = LOOKUP_CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _load_existing(session: Session, merger: Merger, records: list[PersonRecord],
                   ) -> tuple[list[Mapping], list[Mapping]]:
    """Look up, in bulk, everyone the records may refer to (by ID and by any of their phones).

    Returns the stored people and periods that were loaded."""
    people = cast(Table, Person.__table__)
    ids = sorted({r.national_id for r in records if r.national_id})
    phones = sorted({n.e164 for r in records for n in (r.phone, *r.alt_phones)})
    rows: dict[int, Mapping] = {}
    for column, values in ((people.c.national_id, ids), (people.c.phone, phones)):
        for chunk in _chunks(values):
            for row in session.execute(select(people).where(_among(column, chunk))).mappings():
                rows[row["id"]] = row
    periods = cast(Table, MonitoringPeriod.__table__)
    period_rows: list[Mapping] = []
    for chunk in _chunks(sorted(rows)):
        period_rows += session.execute(
            select(periods).where(_among(periods.c.person_id, chunk))).mappings().all()
    person_rows = [rows[k] for k in sorted(rows)]
    merger.load(person_rows, period_rows)
    return person_rows, period_rows


def _among(column, values: Sequence):
    """column IN (values), the values written into the SQL as literals.

    With bound parameters PostgreSQL soon switches to a generic plan that compares each row
    with every value (no hashing, and no index while a freshly imported table has no
    statistics): 1.8 s per lookup on 100,000 people. Literal lists get a custom plan with a
    hashed IN. The values are E.164 numbers, identity numbers and ids, quoted by SQLAlchemy.
    """
    return column.in_(bindparam(f"among_{column.name}", value=list(values), expanding=True,
                                literal_execute=True))


def _write_batches(session: Session, validation: Validation, stamp: datetime,
                   actor: str | None, preview_id: str | None) -> list[int]:
    """One audit row per file; returns their ids in file order."""
    rows = [{"file_name": f.name[:300], "sha256": f.sha256, "list_date": validation.list_date,
             "category": validation.category, "sheets": f.sheets, "rows": f.rows,
             "created": f.created, "updated": f.updated, "rejected": f.rejected,
             "skipped": f.skipped, "created_at": stamp,
             "created_by": actor[:100] if actor else None, "preview_id": preview_id}
            for f in validation.files]
    return _insert_returning_ids(session, cast(Table, ImportBatch.__table__), rows)


def _insert_returning_ids(session: Session, table, rows: list[dict]) -> list[int]:
    """INSERT ... RETURNING id, ids in the order of `rows`."""
    if not rows:
        return []
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.execute(statement, rows).scalars())


def _insert_people(session: Session, people: list[PersonState], stamp: datetime) -> None:
    """Bulk INSERT of new people with ids chosen beforehand, so that periods can refer to them.

    A batched INSERT ... RETURNING in parameter order is slow on PostgreSQL (4-10x a plain
    one) and row-by-row on SQLite, so the ids are allocated first (see _allocate_ids).
    """
    if not people:
        return
    table = cast(Table, Person.__table__)
    ids = _allocate_ids(session, table, len(people))
    rows = [{**p.values, "id": i, "created_at": stamp, "updated_at": stamp}
            for p, i in zip(people, ids)]
    session.execute(insert(table), rows)
    for person, new_id in zip(people, ids):
        person.id = new_id


def _allocate_ids(session: Session, table, count: int) -> list[int]:
    """`count` unused ids of `table`.

    PostgreSQL: from the table's own sequence, so concurrent inserts never collide.
    SQLite: after the largest id; the audit rows were written first, so this transaction
    already holds SQLite's only write lock and no other writer can take an id in between.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        sequence = func.pg_get_serial_sequence(table.name, "id")
        return list(session.execute(
            select(func.nextval(sequence)).select_from(func.generate_series(1, count))
        ).scalars())
    start = (session.execute(select(func.max(table.c.id))).scalar() or 0) + 1
    return list(range(start, start + count))


def _update_people(session: Session, people: list[PersonState], stamp: datetime) -> None:
    rows = [{"b_id": p.id, **p.values, "updated_at": stamp} for p in people
            if p.values != p.stored]
    if rows:
        table = cast(Table, Person.__table__)
        statement = update(table).where(table.c.id == bindparam("b_id")).values(
            {c: bindparam(c) for c in (*PERSON_COLUMNS, "updated_at")})
        session.execute(statement, rows)


def _write_periods(session: Session, people: list[PersonState], batch_ids: list[int],
                   stamp: datetime) -> None:
    """New periods in bulk; stored periods only ever get a later end."""
    new_rows, longer = [], []
    for person in people:
        for period in person.periods.values():
            if period.id is None:
                new_rows.append({
                    "person_id": person.id, "category": period.category,
                    "start_date": period.start, "end_date": period.end,
                    "source": period.source, "list_date": period.list_date,
                    "batch_id": batch_ids[period.file_index] if period.file_index is not None
                    and batch_ids else None,
                    "created_at": stamp,
                })
            elif period.stored_end is not None and period.end > period.stored_end:
                longer.append({"b_id": period.id, "end_date": period.end})
    table = cast(Table, MonitoringPeriod.__table__)
    if new_rows:
        session.execute(insert(table), new_rows)
    if longer:
        session.execute(update(table).where(table.c.id == bindparam("b_id"))
                        .values(end_date=bindparam("end_date")), longer)
