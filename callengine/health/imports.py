"""Importing sampling teams' sample workbooks and labs' result workbooks, through the record
import machinery (importer/records.py): header synonyms, Vietnamese row errors, the error
workbook, one transaction; one sample_imports row per file.

Samples: one row per person sampled. Rows of a pooled sample share its code (Loại mẫu
"Gộp"), each row naming one member. A code already stored for the same person is unchanged
(a workbook imported twice changes nothing); for anyone else it is refused.

Results: matched by sample code. An unknown code, or a result different from the one already
stored, is refused row by row; the same result again is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Mapping, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from callengine.casework.errors import CaseworkError
from callengine.clock import to_db
from callengine.health.labels import KIND_SPELLINGS, RESULT_SPELLINGS
from callengine.health.people import identify_person
from callengine.health.results import RESULT_SET, NewResult, conflict, set_result
from callengine.health.samples import (
    FUTURE_TOLERANCE,
    MAX_SITE,
    MAX_TEAM,
    NewSample,
    PersonRef,
    add_member,
    add_sample,
    normalise_code,
)
from callengine.importer.limits import Limits
from callengine.importer.records import (
    Column,
    InvalidValue,
    ParsedRow,
    RecordReport,
    RecordSpec,
    RecordValidation,
    choice_value,
    datetime_value,
    import_records,
    number_value,
    read_records,
    text_value,
)
from callengine.importer.rows import RowError
from callengine.importer.service import ImportSource
from callengine.phones import InvalidPhone, normalize_phone
from callengine.store.db import Database
from callengine.store.samples import (
    IMPORT_RESULTS,
    IMPORT_SAMPLES,
    KIND_POOLED,
    KIND_RT_PCR,
    RecordImport,
    Sample,
)

CODE_HEADERS = ("mã mẫu", "mã xét nghiệm", "mã số mẫu", "mã mẫu xét nghiệm", "mã ống mẫu",
                "barcode", "mã vạch")


def _phone(raw: object):
    try:
        return normalize_phone(raw if isinstance(raw, (int, float)) else str(raw))
    except InvalidPhone as exc:
        raise InvalidValue(str(exc)) from None


def _code_column(required_text: str) -> Column:
    return Column("code", CODE_HEADERS, required=True, parse=normalise_code,
                  missing=required_text)


def samples_spec(today: date, not_after: datetime) -> RecordSpec:
    """The columns of a sampling team's workbook; times are local (not_after: local now)."""
    return RecordSpec(noun="mẫu xét nghiệm", columns=(
        _code_column("thiếu mã mẫu"),
        Column("full_name", ("họ và tên", "họ tên", "tên người được lấy mẫu"), required=True,
               parse=text_value(200), missing="thiếu họ tên"),
        Column("phone", ("số điện thoại", "sđt", "điện thoại", "số đt", "di động"),
               exact=("đt",), required=True, parse=_phone, missing="thiếu số điện thoại"),
        Column("taken_at", ("thời gian lấy mẫu", "ngày lấy mẫu", "ngày giờ lấy mẫu",
                            "thời điểm lấy mẫu"), required=True,
               parse=datetime_value(today, not_after=not_after), missing="thiếu ngày lấy mẫu"),
        Column("kind", ("loại mẫu", "loại xét nghiệm", "phương pháp", "kỹ thuật xét nghiệm",
                        "hình thức lấy mẫu"),
               parse=choice_value(KIND_SPELLINGS, "RT-PCR, Test nhanh hoặc Gộp")),
        Column("site", ("nơi lấy mẫu", "địa điểm lấy mẫu", "điểm lấy mẫu"),
               parse=text_value(MAX_SITE)),
        Column("team", ("tổ lấy mẫu", "đội lấy mẫu", "nhóm lấy mẫu", "người lấy mẫu"),
               parse=text_value(MAX_TEAM)),
    ))


def results_spec(today: date, not_after: datetime) -> RecordSpec:
    """The columns of a lab's result workbook."""
    return RecordSpec(noun="kết quả xét nghiệm", columns=(
        _code_column("thiếu mã mẫu"),
        Column("result", ("kết quả", "kết quả xét nghiệm", "kq", "kq xét nghiệm"),
               required=True, missing="thiếu kết quả",
               parse=choice_value(RESULT_SPELLINGS, "Dương tính, Âm tính hoặc Không xác "
                                                    "định; DT, AT, +, -")),
        Column("ct_value", ("giá trị ct", "chỉ số ct", "ct"), parse=number_value(0, 50,
                                                                                 "giá trị Ct")),
        Column("result_at", ("thời gian trả kết quả", "ngày trả kết quả",
                             "thời gian có kết quả", "ngày có kết quả", "ngày xét nghiệm"),
               parse=datetime_value(today, not_after=not_after)),
    ))


@dataclass(frozen=True)
class ImportRequest:
    sources: Sequence[ImportSource | Path | str]
    now: datetime  # aware
    actor: str | None = None
    dry_run: bool = False


def _local(now: datetime, settings) -> tuple[date, datetime, ZoneInfo]:
    zone = ZoneInfo(settings.timezone)
    local = now.astimezone(zone)
    return local.date(), (local + FUTURE_TOLERANCE).replace(tzinfo=None), zone


def import_samples(db: Database, request: ImportRequest, settings) -> RecordReport:
    """Validate, then store every accepted sample row in one transaction."""
    today, not_after, zone = _local(request.now, settings)
    validation = read_records(request.sources, samples_spec(today, not_after),
                              limits=Limits.from_settings(settings))

    def write(s: Session, v: RecordValidation) -> Mapping[str, int]:
        imports = _import_rows(s, v, IMPORT_SAMPLES, request)
        return _SampleWriter(s, v, request, zone, imports).run()

    return import_records(db, validation, write, dry_run=request.dry_run)


def import_results(db: Database, request: ImportRequest, settings) -> RecordReport:
    """Validate, then record every accepted result (with a positive's effects) at once."""
    today, not_after, zone = _local(request.now, settings)
    validation = read_records(request.sources, results_spec(today, not_after),
                              limits=Limits.from_settings(settings))

    def write(s: Session, v: RecordValidation) -> Mapping[str, int]:
        imports = _import_rows(s, v, IMPORT_RESULTS, request)
        return _write_results(s, v, request, zone, imports, settings)

    return import_records(db, validation, write, dry_run=request.dry_run)


def _import_rows(s: Session, v: RecordValidation, kind: str,
                 request: ImportRequest) -> dict[str, RecordImport]:
    """One audit row per file (counts filled in once the rows are written)."""
    rows = {}
    for summary in v.files:
        row = RecordImport(kind=kind, file_name=summary.name[:300], sha256=summary.sha256,
                           rows=summary.rows, accepted=0, rejected=0,
                           created_at=to_db(request.now),
                           created_by=(request.actor or None) and request.actor[:100])
        s.add(row)
        rows[summary.name] = row
    s.flush()
    return rows


def _finish_import_rows(v: RecordValidation, imports: dict[str, RecordImport]) -> None:
    for summary in v.files:
        row = imports[summary.name]
        row.rejected = summary.rejected
        row.accepted = sum(1 for r in v.records if r.file == summary.name)


def _reject(v: RecordValidation, record: ParsedRow, field_name: str, reason: str) -> None:
    """Refuse a row for a reason only the database shows, naming the field's column."""
    label = record.label(field_name)
    value = str(record.get(field_name, ""))
    v.reject(record, RowError(label, value, f"Cột '{label}': {reason}"))


def _local_moment(moment: datetime, zone: ZoneInfo) -> datetime:
    """A naive local time from a workbook, made aware in the engine's time zone."""
    return moment.replace(tzinfo=zone)


class _SampleWriter:
    """Phase 2 of a samples import: rows -> samples (pools gathered by code)."""

    def __init__(self, s: Session, v: RecordValidation, request: ImportRequest,
                 zone: ZoneInfo, imports: dict[str, RecordImport]) -> None:
        self.s, self.v, self.request, self.zone, self.imports = s, v, request, zone, imports
        self.counts = {"created": 0, "members_added": 0, "unchanged": 0}
        self.first_row: dict[str, ParsedRow] = {}

    def run(self) -> Mapping[str, int]:
        for record in list(self.v.records):
            self._row(record)
        _finish_import_rows(self.v, self.imports)
        return self.counts

    def _row(self, record: ParsedRow) -> None:
        code, kind = str(record.get("code")), str(record.get("kind") or KIND_RT_PCR)
        first = self.first_row.get(code)
        if first is not None and (kind != KIND_POOLED or first.get("kind") != KIND_POOLED):
            _reject(self.v, record, "code", f"mã mẫu '{code}' lặp lại (đã có ở dòng "
                                           f"{first.row}); chỉ mẫu gộp mới dùng chung mã")
            return
        self.first_row.setdefault(code, record)
        ref = PersonRef(phone=record.get("phone"), full_name=str(record.get("full_name")))
        stored = self.s.scalars(select(Sample).where(Sample.code == code)).first()
        if stored is None:
            self._create(record, code, kind, ref)
        else:
            self._existing(record, stored, kind, ref)

    def _create(self, record: ParsedRow, code: str, kind: str, ref: PersonRef) -> None:
        pooled = kind == KIND_POOLED
        new = NewSample(code=code, kind=kind,
                        taken_at=_local_moment(record.get("taken_at"), self.zone),
                        person=None if pooled else ref, members=(ref,) if pooled else (),
                        site=record.get("site"), team=record.get("team"))
        try:
            add_sample(self.s, new, actor=self.request.actor, now=self.request.now,
                       import_id=self.imports[record.file].id)
        except CaseworkError as exc:
            _reject(self.v, record, "code", str(exc).rstrip("."))
            return
        self.counts["created"] += 1

    def _existing(self, record: ParsedRow, stored: Sample, kind: str, ref: PersonRef) -> None:
        if stored.kind != kind:
            _reject(self.v, record, "code", f"mã mẫu '{stored.code}' đã được đăng ký là loại "
                                           "mẫu khác")
            return
        assert ref.phone is not None  # a required column
        person = identify_person(self.s, ref.phone, ref.full_name, self.request.now)
        if kind == KIND_POOLED:
            added = add_member(self.s, stored, person)
            self.counts["members_added" if added else "unchanged"] += 1
        elif stored.person_id == person.id:
            self.counts["unchanged"] += 1
        else:
            _reject(self.v, record, "code", f"mã mẫu '{stored.code}' đã được đăng ký cho người "
                                           "khác")


def _write_results(s: Session, v: RecordValidation, request: ImportRequest, zone: ZoneInfo,
                   imports: dict[str, RecordImport], settings) -> Mapping[str, int]:
    counts = {"updated": 0, "unchanged": 0, "positive": 0, "retests": 0}
    seen: dict[str, ParsedRow] = {}
    for record in list(v.records):
        code = str(record.get("code"))
        sample = s.scalars(select(Sample).where(Sample.code == code)
                           .with_for_update()).first()
        if sample is None:
            _reject(v, record, "code", f"không có mẫu nào mã '{code}' (kiểm tra lại mã, hoặc "
                                      "nhập danh sách mẫu trước)")
            continue
        earlier = seen.setdefault(code, record)
        result_at = record.get("result_at")
        new = NewResult(str(record.get("result")), record.get("ct_value"),
                        _local_moment(result_at, zone) if result_at else None)
        if earlier is not record and earlier.get("result") != new.result:
            _reject(v, record, "result", f"mẫu '{code}' có kết quả khác ở dòng {earlier.row}")
            continue
        reason = conflict(sample, new)
        if reason is not None:
            _reject(v, record, "result", reason)
            continue
        outcome = set_result(s, sample, new, actor=request.actor, now=request.now,
                             settings=settings, import_id=imports[record.file].id)
        counts["updated" if outcome.done == RESULT_SET else "unchanged"] += 1
        counts["positive"] += outcome.became_f0
        counts["retests"] += outcome.retests
    _finish_import_rows(v, imports)
    return counts


SAMPLE_COUNT_LABELS = {"created": "Mẫu mới", "members_added": "Thêm người vào mẫu gộp",
                       "unchanged": "Không thay đổi"}
RESULT_COUNT_LABELS = {"updated": "Kết quả mới ghi", "unchanged": "Không thay đổi",
                       "positive": "Người dương tính (thành F0)",
                       "retests": "Người cần xét nghiệm lại (mẫu gộp dương tính)"}
