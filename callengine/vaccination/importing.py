"""Dose workbooks (`callengine vaccinations import`, the upload page): the record-import
machinery (importer/records.py) with the dose columns; every row passes the same rules as
the entry form, against the person's stored doses and the rows before it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Iterable

from sqlalchemy.orm import Session

from callengine.clock import to_db
from callengine.importer.dates import parse_date
from callengine.importer.limits import Limits
from callengine.importer.records import (
    Column,
    InvalidValue,
    ParsedRow,
    RecordReport,
    RecordSpec,
    RecordValidation,
    import_records,
    read_records,
    text_value,
)
from callengine.importer.rows import RowError
from callengine.importer.service import ImportSource
from callengine.importer.text import cell_text
from callengine.phones import parse_phone_cell
from callengine.settings import Settings
from callengine.store.db import Database
from callengine.store.models import ImportBatch
from callengine.vaccination.doses import add_dose, intervals, local_today, prior_doses
from callengine.vaccination.identity import NoSuchPerson, find_person
from callengine.vaccination.rules import (
    FIELD_LABELS,
    MAX_DOSE_NUMBER,
    DoseEntry,
    DoseRefused,
    PriorDose,
    check_dose,
)
from callengine.vaccines import UnknownProduct, load_catalogue

COUNT_LABELS = {"created": "Mũi tiêm mới"}
FIRST_VACCINATIONS = date(2020, 12, 1)  # no COVID-19 dose is older


def _phone(raw: object) -> str:
    parsed = parse_phone_cell(raw)
    if parsed.primary is None:
        raise InvalidValue(f"'{cell_text(raw)}' không phải số điện thoại Việt Nam")
    return parsed.primary.e164


def _dose_number(raw: object) -> int:
    text = cell_text(raw).lower().removeprefix("mũi").strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_DOSE_NUMBER:
        raise InvalidValue(f"'{cell_text(raw)}' không phải số mũi (1 đến {MAX_DOSE_NUMBER})")
    return int(text)


def _product(raw: object) -> str:
    try:
        return load_catalogue().find(cell_text(raw)).code
    except UnknownProduct as error:
        raise InvalidValue(str(error).rstrip(".")) from None


def _given_on(today: date):
    """A dose's date: from the first COVID-19 vaccinations to a month ahead (a later date is
    refused by the rules, which say it is in the future)."""
    bounds = (FIRST_VACCINATIONS, today + timedelta(days=31))
    return lambda raw: parse_date(raw, today, bounds=bounds)


def dose_spec(today: date) -> RecordSpec:
    return RecordSpec(noun="mũi tiêm", columns=(
        Column("full_name", ("họ và tên", "họ tên", "tên người được tiêm"), required=True,
               parse=text_value(200), missing="thiếu họ tên"),
        Column("phone", ("số điện thoại", "điện thoại", "sđt", "sdt"), parse=_phone),
        Column("national_id", ("số cccd", "cccd", "cmnd", "cccd cmnd", "căn cước",
                               "số định danh"), parse=text_value(20)),
        Column("product", ("tên vắc xin", "loại vắc xin", "vắc xin", "vaccine", "vacxin"),
               required=True, parse=_product, missing="thiếu tên vắc xin"),
        Column("dose_number", ("mũi số", "mũi thứ", "mũi tiêm", "mũi"), required=True,
               parse=_dose_number, missing="thiếu số mũi"),
        Column("given_on", ("ngày tiêm",), required=True, parse=_given_on(today),
               missing="thiếu ngày tiêm"),
        Column("lot", ("số lô", "lô vắc xin", "lô"), parse=text_value(60)),
        Column("site", ("điểm tiêm", "nơi tiêm", "cơ sở tiêm"), parse=text_value(200)),
    ))


def _refuse(validation: RecordValidation, record: ParsedRow, field: str, reason: str) -> None:
    """Reject an accepted row for a rule that needs the database (the person, the order)."""
    column = validation.spec.column(field if field != "person" else "full_name")
    label = column.synonyms[0][:1].upper() + column.synonyms[0][1:]
    value = cell_text(record.get(column.field, ""))
    validation.reject(record, RowError(label, value, f"{FIELD_LABELS[field]}: {reason}"))


@dataclass
class _Writer:
    settings: Settings
    now: datetime
    actor: str | None

    def __call__(self, session: Session, validation: RecordValidation) -> dict[str, int]:
        batches = self._batches(session, validation)
        people = self._people(session, validation)
        catalogue, gaps = load_catalogue(), intervals(self.settings)
        today, known = local_today(self.now, self.settings), {}
        created = 0
        for record in sorted(list(validation.records),
                             key=lambda r: (people[id(r)], r.get("dose_number"))):
            person_id = people[id(record)]
            if person_id not in known:
                known[person_id] = prior_doses(session, person_id)
            prior = known[person_id]
            entry = DoseEntry(str(record.get("product")), int(record.get("dose_number")),
                              record.get("given_on"), str(record.get("lot") or ""),
                              str(record.get("site") or ""))
            try:
                product = check_dose(entry, prior, today, catalogue, gaps)
            except DoseRefused as refused:
                _refuse(validation, record, refused.field, str(refused))
                continue
            add_dose(session, person_id, product, entry, actor=self.actor, now=self.now,
                     batch_id=batches[record.file].id)
            prior.append(PriorDose(entry.dose_number, entry.given_on, product.code))
            created += 1
        for summary in validation.files:
            batches[summary.name].rejected = summary.rejected
            batches[summary.name].created = sum(
                1 for r in validation.records if r.file == summary.name)
        return {"created": created}

    def _people(self, session: Session, validation: RecordValidation) -> dict[int, int]:
        found: dict[int, int] = {}
        for record in list(validation.records):
            try:
                person = find_person(session, full_name=str(record.get("full_name")),
                                     phone=record.get("phone"),
                                     national_id=record.get("national_id") or None)
            except NoSuchPerson as missing:
                _refuse(validation, record, "person", str(missing))
                continue
            found[id(record)] = person.id
        return found

    def _batches(self, session: Session, validation: RecordValidation
                 ) -> dict[str, ImportBatch]:
        today = local_today(self.now, self.settings)
        batches = {f.name: ImportBatch(file_name=f.name[:300], sha256=f.sha256, list_date=today,
                                       sheets=f.sheets, rows=f.rows, skipped=f.skipped,
                                       created_at=to_db(self.now), created_by=self.actor)
                   for f in validation.files}
        session.add_all(batches.values())
        session.flush()
        return batches


def import_doses(db: Database, sources: Iterable[ImportSource | Path | str], *,
                 settings: Settings, now: datetime, actor: str | None = None,
                 dry_run: bool = False) -> RecordReport:
    """Read every file (UnreadableFiles if one cannot be read), then store the doses that
    pass, in one transaction; the report lists the rows refused and why."""
    validation = read_records(sources, dose_spec(local_today(now, settings)),
                              limits=Limits.from_settings(settings))
    return import_records(db, validation, _Writer(settings, now, actor), dry_run=dry_run)
