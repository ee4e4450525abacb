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
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from callengine.clock import SystemClock, to_db
from callengine.errors import CallengineError
from callengine.importer import headers as h
from callengine.importer.categories import DEFAULT_PERIOD_DAYS, F0, SEVERITY
from callengine.importer.headers import HeaderNotFound, find_header
from callengine.importer.progress import Progress
from callengine.importer.reader import Sheet, UnreadableFile, Workbook, read_file
from callengine.importer.rows import (
    MAX_ALT_PHONES_CHARS, PersonRecord, Rejected, SheetContext, join_notes, split_notes,
    validate_row,
)
from callengine.importer.text import fold, word_key
from callengine.store.db import Database
from callengine.store.models import ImportBatch, MonitoringPeriod, Person

STATUS_MONITORING = "monitoring"  # called every day until monitoring_end
STATUS_ENDED = "ended"  # monitoring over (set by the daily plan); a new exposure reopens it
STATUS_F0 = "F0"  # a patient: stored, never called

LOOKUP_CHUNK = 500  # values per IN (...) when looking people up
_DISTRICT_SHEET = re.compile(r"^(?:huyen|thi xa|thanh pho|tp|tx|quan)\b")


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


@dataclass(frozen=True, slots=True)
class Located:
    """An accepted record and where it came from."""

    file_index: int
    sheet: str
    record: PersonRecord


@dataclass
class FileSummary:
    name: str
    sha256: str
    sheets: int = 0  # sheets holding data
    rows: int = 0
    rejected: int = 0
    skipped: int = 0
    created: int = 0
    updated: int = 0


@dataclass
class Validation:
    """Phase 1's result: accepted records, rejections and counts. Nothing written yet."""

    list_date: date
    category: str | None
    files: list[FileSummary] = field(default_factory=list)
    records: list[Located] = field(default_factory=list)
    issues: list[ImportIssue] = field(default_factory=list)
    rejected_rows: list[RejectedRow] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def skipped(self) -> int:
        return sum(f.skipped for f in self.files)


@dataclass(frozen=True)
class WriteCounts:
    created: int
    updated: int
    unchanged: int


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

    def to_json(self) -> dict:
        """The machine-readable summary printed by `callengine import --json`."""
        return {"rows": self.rows, "created": self.created, "updated": self.updated,
                "rejected": self.rejected, "skipped": self.skipped,
                "errors": [e.to_dict() for e in self.errors]}


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
) -> ImportReport:
    """Validate every file, then (unless dry_run) write everything in one transaction."""
    validation = validate_files(sources, list_date=list_date, category=category,
                                progress=progress)
    counts = write_records(db, validation, now=now or SystemClock().now(),
                           period_days=period_days, dry_run=dry_run)
    return ImportReport(
        rows=validation.rows, created=counts.created, updated=counts.updated,
        unchanged=counts.unchanged, rejected=validation.rejected, skipped=validation.skipped,
        errors=validation.issues, files=validation.files,
        rejected_rows=validation.rejected_rows, dry_run=dry_run,
    )


# --- phase 1: validation --------------------------------------------------------------------


def validate_files(
    sources: Iterable[ImportSource | Path | str],
    *,
    list_date: date,
    category: str | None = None,
    progress: bool = False,
) -> Validation:
    """Read and validate every file; raise UnreadableFiles if any cannot be imported at all."""
    validation = Validation(list_date=list_date, category=category)
    problems: list[UnreadableFile] = []
    for source in sources:
        source = source if isinstance(source, ImportSource) else ImportSource(Path(source))
        try:
            book = read_file(source.path, source.name)
            _validate_book(book, validation, progress)
        except UnreadableFile as exc:
            problems.append(exc)
    if problems:
        raise UnreadableFiles(problems)
    return validation


def _validate_book(book: Workbook, validation: Validation, progress: bool) -> None:
    """Validate every sheet of one file into `validation`."""
    summary = FileSummary(book.name, book.sha256)
    file_index = len(validation.files)
    issues: list[ImportIssue] = []
    usable = phone_headers = 0
    for sheet in book.sheets:
        if not sheet.rows:
            continue
        try:
            header = find_header(sheet.rows)
        except HeaderNotFound as exc:
            phone_headers += exc.has_phone
            if sheet.visible:
                issues.append(ImportIssue(book.name, sheet.name, None, None, None,
                                          f"Trang '{sheet.name}': {exc}"))
            continue
        usable += 1
        if h.CATEGORY not in header.fields and validation.category is None:
            raise UnreadableFile(
                book.name, f"trang '{sheet.name}' không có cột phân loại (Phân loại/Đối tượng); "
                           "hãy ghi rõ phân loại cho cả tệp bằng --category (F0, F1, F2, returnee)")
        _validate_sheet(book, file_index, sheet, header, validation, summary, progress)
    if not usable:
        if phone_headers:
            raise UnreadableFile(book.name, "có cột số điện thoại nhưng không có cột họ tên ở "
                                            "trang nào; không nhập được")
        raise UnreadableFile(book.name, f"không tìm thấy cột số điện thoại (và họ tên) trong "
                                        f"{h.HEADER_SEARCH_ROWS} dòng đầu của trang nào")
    validation.files.append(summary)
    validation.issues.extend(issues)


def _validate_sheet(book: Workbook, file_index: int, sheet: Sheet, header: h.HeaderMatch,
                    validation: Validation, summary: FileSummary, progress: bool) -> None:
    """Validate the data rows below the header of one sheet."""
    district = None if h.DISTRICT in header.fields else district_from_sheet(sheet.name)
    ctx = SheetContext(header, validation.list_date, validation.category, district)
    rows = sheet.rows
    first = header.row + 1
    summary.sheets += 1
    summary.rows += len(rows) - first
    bar = Progress(f"{book.name} › {sheet.name}", len(rows) - first, enabled=progress)
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


_PERSON_COLUMNS = (
    "full_name", "name_key", "phone", "alt_phones", "carrier", "national_id", "category",
    "birth_year", "sex", "village", "commune", "district", "address", "origin", "notes",
    "status", "monitoring_start", "monitoring_end",
)
_FILLABLE = ("national_id", "birth_year", "sex", "village", "commune", "district", "address",
             "origin")


@dataclass(slots=True)
class _Period:
    id: int | None
    category: str
    start: date
    end: date
    list_date: date | None
    order: tuple[int, int]  # (0, id) for stored periods, (1, n) for new ones: later wins ties
    file_index: int | None = None
    source: str | None = None
    stored_end: date | None = None


@dataclass(slots=True, eq=False)
class _Person:
    id: int | None
    values: dict
    stored: dict | None  # values as loaded (None for a new person)
    periods: dict[tuple[str, date], _Period]
    file_index: int  # file that first named the person in this import

    @property
    def phones(self) -> list[str]:
        return [self.values["phone"], *self.values["alt_phones"].split()]


class _Merger:
    """Merges records into people, in memory, with the identity rules of the import."""

    def __init__(self, list_date: date, period_days: Mapping[str, int]) -> None:
        self.list_date = list_date
        self.period_days = period_days
        self.by_id: dict[str, _Person] = {}
        self.by_phone: dict[str, list[_Person]] = {}
        self.touched: dict[int, _Person] = {}  # id(person) -> person, in first-touch order
        self._sequence = 0

    def load(self, person_rows: Iterable[Mapping], period_rows: Iterable[Mapping]) -> None:
        """Register stored people and their periods."""
        people: dict[int, _Person] = {}
        for row in person_rows:
            values = {c: row[c] for c in _PERSON_COLUMNS}
            values["alt_phones"] = values["alt_phones"] or ""
            stored = dict(values)
            values["name_key"] = fold(values["full_name"] or "")  # whoever stored it
            person = _Person(row["id"], values, stored, {}, -1)
            people[row["id"]] = person
            self._index(person)
        for row in period_rows:
            person = people[row["person_id"]]
            person.periods[(row["category"], row["start_date"])] = _Period(
                row["id"], row["category"], row["start_date"], row["end_date"],
                row["list_date"], (0, row["id"]), stored_end=row["end_date"])

    def _index(self, person: _Person) -> None:
        if person.values["national_id"]:
            self.by_id.setdefault(person.values["national_id"], person)
        for phone in person.phones:
            bucket = self.by_phone.setdefault(phone, [])
            if not any(p is person for p in bucket):
                bucket.append(person)

    def add(self, located: Located, source: str) -> None:
        """Merge one record: find (or create) its person, then record the appearance."""
        record = located.record
        person = self._find(record)
        if person is None:
            person = self._new(record, located.file_index)
        else:
            self._fill(person, record)
        if id(person) not in self.touched:
            self.touched[id(person)] = person
            if person.file_index < 0:
                person.file_index = located.file_index
        self._index(person)
        self._appearance(person, record, located.file_index, source)

    def _find(self, record: PersonRecord) -> _Person | None:
        """By national ID; else by phone and folded name (a nameless side matches any name)."""
        if record.national_id and record.national_id in self.by_id:
            return self.by_id[record.national_id]
        fallback = None
        for number in (record.phone, *record.alt_phones):
            for person in self.by_phone.get(number.e164, ()):
                stored_id = person.values["national_id"]
                if record.national_id and stored_id and stored_id != record.national_id:
                    continue  # two different ID numbers: two people sharing a phone
                if person.values["name_key"] == record.name_key:
                    return person
                if fallback is None and (not person.values["name_key"] or not record.name_key):
                    fallback = person
        return fallback

    def _new(self, record: PersonRecord, file_index: int) -> _Person:
        values = {
            "full_name": record.full_name, "name_key": record.name_key,
            "phone": record.phone.e164, "alt_phones": "", "carrier": record.phone.carrier,
            "national_id": record.national_id, "category": None,
            "birth_year": record.birth_year, "sex": record.sex, "village": record.village,
            "commune": record.commune, "district": record.district, "address": record.address,
            "origin": record.origin, "notes": None, "status": STATUS_MONITORING,
            "monitoring_start": None, "monitoring_end": None,
        }
        person = _Person(None, values, None, {}, file_index)
        self._merge_phones(person, record)
        self._merge_notes(person, record)
        return person

    def _fill(self, person: _Person, record: PersonRecord) -> None:
        """A second appearance fills empty fields, adds phones and notes; it never erases."""
        values = person.values
        if not values["full_name"] and record.full_name:
            values["full_name"] = record.full_name
        values["name_key"] = fold(values["full_name"] or "")
        for name in _FILLABLE:
            new = getattr(record, name)
            if new is not None and values[name] in (None, ""):
                if name == "national_id" and new in self.by_id:
                    continue  # the ID belongs to someone else
                values[name] = new
        self._merge_phones(person, record)
        self._merge_notes(person, record)

    def _merge_phones(self, person: _Person, record: PersonRecord) -> None:
        values = person.values
        alternates = values["alt_phones"].split()
        for number in (record.phone, *record.alt_phones):
            e164 = number.e164
            if e164 == values["phone"] or e164 in alternates:
                continue
            if len(" ".join([*alternates, e164])) > MAX_ALT_PHONES_CHARS:
                values["notes"] = _with_note(values["notes"], f"Số khác: {number.national()}")
                continue
            alternates.append(e164)
        values["alt_phones"] = " ".join(alternates)
        if values["carrier"] in (None, "", "unknown"):
            values["carrier"] = record.phone.carrier if record.phone.e164 == values["phone"] \
                else values["carrier"]

    def _merge_notes(self, person: _Person, record: PersonRecord) -> None:
        for note in record.notes:
            person.values["notes"] = _with_note(person.values["notes"], note)

    def _appearance(self, person: _Person, record: PersonRecord, file_index: int,
                    source: str) -> None:
        """One monitoring period per (class, date); the same appearance again changes nothing."""
        key = (record.category, record.event_date)
        end = record.event_date + timedelta(days=self.period_days[record.category])
        period = person.periods.get(key)
        if period is not None:
            period.end = max(period.end, end)
            return
        self._sequence += 1
        person.periods[key] = _Period(None, record.category, record.event_date, end,
                                      self.list_date, (1, self._sequence), file_index, source)

    def finish(self) -> None:
        """Class, status and monitoring dates of every touched person, from all periods."""
        for person in self.touched.values():
            _derive(person, self.list_date)


def _with_note(notes: str | None, note: str) -> str | None:
    """Notes plus one fragment, unless it is already there (so re-imports change nothing)."""
    fragments = split_notes(notes)
    if note in fragments:
        return notes
    return join_notes([*fragments, note])


def _derive(person: _Person, list_date: date) -> None:
    values = person.values
    periods = list(person.periods.values())
    stored = person.stored or {}
    ranked = [(SEVERITY[p.category], p.list_date or date.min, p.start, p.order, p.category)
              for p in periods]
    if stored.get("category") in SEVERITY and not any(p.id for p in periods):
        ranked.append((SEVERITY[stored["category"]], date.min, date.min, (-1, 0),
                       stored["category"]))
    values["category"] = max(ranked)[-1]
    old_end = stored.get("monitoring_end")
    values["monitoring_start"] = min(
        [p.start for p in periods] + ([stored["monitoring_start"]]
                                      if stored.get("monitoring_start") else []))
    values["monitoring_end"] = max([p.end for p in periods] + ([old_end] if old_end else []))
    if values["category"] == F0:
        values["status"] = STATUS_F0
    elif person.id is not None and stored.get("status") == STATUS_ENDED and \
            values["monitoring_end"] > (old_end or date.min) and \
            values["monitoring_end"] >= list_date:
        values["status"] = STATUS_MONITORING  # exposed again after monitoring ended


def write_records(
    db: Database,
    validation: Validation,
    *,
    now: datetime,
    period_days: Mapping[str, int] | None = None,
    dry_run: bool = False,
) -> WriteCounts:
    """Merge the records with the stored people and write everything in one transaction."""
    days = {**DEFAULT_PERIOD_DAYS, **(period_days or {})}
    stamp = to_db(now)
    with db.session() as session:
        merger = _Merger(validation.list_date, days)
        _load_existing(session, merger, [loc.record for loc in validation.records])
        files = validation.files
        for located in validation.records:
            merger.add(located, _source(files[located.file_index].name, located))
        merger.finish()
        created, changed, unchanged = _classify(merger.touched.values())
        for person in created:
            files[person.file_index].created += 1
        for person in changed:
            files[person.file_index].updated += 1
        if not dry_run:
            batch_ids = _write_batches(session, validation, stamp)
            _insert_people(session, created, stamp)
            _update_people(session, changed, stamp)
            _write_periods(session, [*created, *changed], batch_ids, stamp)
        return WriteCounts(len(created), len(changed), len(unchanged))


def _source(file: str, located: Located) -> str:
    return f"{file} › {located.sheet} › dòng {located.record.row}"[:300]


def _chunks(values: Sequence, size: int = LOOKUP_CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _load_existing(session: Session, merger: _Merger, records: list[PersonRecord]) -> None:
    """Look up, in bulk, everyone the records may refer to (by ID and by any of their phones)."""
    people = Person.__table__
    ids = sorted({r.national_id for r in records if r.national_id})
    phones = sorted({n.e164 for r in records for n in (r.phone, *r.alt_phones)})
    rows: dict[int, Mapping] = {}
    for column, values in ((people.c.national_id, ids), (people.c.phone, phones)):
        for chunk in _chunks(values):
            for row in session.execute(select(people).where(column.in_(chunk))).mappings():
                rows[row["id"]] = row
    periods = MonitoringPeriod.__table__
    period_rows: list[Mapping] = []
    for chunk in _chunks(sorted(rows)):
        period_rows += session.execute(
            select(periods).where(periods.c.person_id.in_(chunk))).mappings().all()
    merger.load([rows[k] for k in sorted(rows)], period_rows)


def _classify(people: Iterable[_Person]) -> tuple[list[_Person], list[_Person], list[_Person]]:
    """New people, stored people whose row or periods changed, and the unchanged."""
    created, changed, unchanged = [], [], []
    for person in people:
        if person.id is None:
            created.append(person)
        elif person.values != person.stored or any(
                p.id is None or p.end != p.stored_end for p in person.periods.values()):
            changed.append(person)
        else:
            unchanged.append(person)
    return created, changed, unchanged


def _write_batches(session: Session, validation: Validation, stamp: datetime) -> list[int]:
    """One audit row per file; returns their ids in file order."""
    rows = [{"file_name": f.name[:300], "sha256": f.sha256, "list_date": validation.list_date,
             "category": validation.category, "sheets": f.sheets, "rows": f.rows,
             "created": f.created, "updated": f.updated, "rejected": f.rejected,
             "skipped": f.skipped, "created_at": stamp} for f in validation.files]
    if not rows:
        return []
    return list(session.scalars(
        insert(ImportBatch).returning(ImportBatch.id, sort_by_parameter_order=True), rows))


def _insert_people(session: Session, people: list[_Person], stamp: datetime) -> None:
    if not people:
        return
    rows = [{**p.values, "created_at": stamp, "updated_at": stamp} for p in people]
    ids = session.scalars(
        insert(Person).returning(Person.id, sort_by_parameter_order=True), rows).all()
    for person, new_id in zip(people, ids):
        person.id = new_id


def _update_people(session: Session, people: list[_Person], stamp: datetime) -> None:
    rows = [{"id": p.id, **p.values, "updated_at": stamp} for p in people
            if p.values != p.stored]
    if rows:
        session.execute(update(Person), rows)


def _write_periods(session: Session, people: list[_Person], batch_ids: list[int],
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
                longer.append({"id": period.id, "end_date": period.end})
    if new_rows:
        session.execute(insert(MonitoringPeriod), new_rows)
    if longer:
        session.execute(update(MonitoringPeriod), longer)
