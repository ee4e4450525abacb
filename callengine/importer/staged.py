"""Two-phase import for the web: stage an upload as a stored preview, then commit it.

`stage` refuses files that break the upload limits (limits.py) before any parser sees them,
keeps the files in a private folder (uploads.py), validates them with the import service's
`validate_files` and counts what an import would do with a dry run of `write_records`. The
preview row keeps that report and the fingerprint of the stored people it matched
(fingerprint.py).

`commit` validates the stored files again and writes through `write_in_session`, in one
transaction that also marks the preview committed. It refuses (StalePreview, in Vietnamese)
a preview that expired, was already committed or discarded, or whose outcome changed: the
fingerprint taken inside the writing transaction differs from the preview's (someone changed
or created one of its people meanwhile), or the counts do. Then nothing is written.

Progress: `stage(..., on_progress=f)` calls f(label, rows done, rows in all) while each sheet
is validated (progress.Listener); a web request runs stage in a worker and shows the latest.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from io import BytesIO
from typing import Sequence, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, or_, select, update
from sqlalchemy.orm import Session

from callengine.clock import from_db, to_db
from callengine.errors import CallengineError
from callengine.importer.error_book import write_error_workbook
from callengine.importer.limits import Limits
from callengine.importer.progress import Listener
from callengine.importer.service import (
    ImportReport,
    UnreadableFiles,
    Validation,
    WriteCounts,
    build_report,
    validate_files,
    write_in_session,
    write_records,
)
from callengine.importer.uploads import (
    PREVIEW_ID,
    Source,
    checked_uploads,
    imports_root,
    preview_folder,
    remove_folder,
    save_uploads,
    stored_sources,
)
from callengine.settings import Settings
from callengine.store.db import Database
from callengine.store.models import (
    PREVIEW_COMMITTED,
    PREVIEW_DISCARDED,
    PREVIEW_EXPIRED,
    PREVIEW_REFUSED,
    PREVIEW_STAGED,
    ImportBatch,
    ImportPreview,
)

log = logging.getLogger(__name__)

COUNT_KEYS = ("rows", "created", "updated", "unchanged", "rejected", "skipped")
FILE_KEYS = ("name", "sha256", "sheets", "rows", "created", "updated", "rejected", "skipped")


class PreviewNotFound(CallengineError):
    """No preview has this id."""

    code = "not_found"  # HTTP 404

    def __init__(self) -> None:
        super().__init__("Không tìm thấy bản xem trước này; hãy tải tệp lên lại")


class StalePreview(CallengineError):
    """The preview can no longer be committed (or discarded); the message says why."""

    def __init__(self, message: str, code: str) -> None:
        self.code = code  # expired, committed, discarded, refused, changed (HTTP 409)
        super().__init__(message)


@dataclass(frozen=True)
class Preview:
    """A stored preview: what committing the upload would do, and its state."""

    id: str
    status: str
    list_date: date
    category: str | None
    created_by: str
    created_at: datetime  # aware UTC
    expires_at: datetime
    report: dict  # ImportReport.to_json() plus "unchanged"
    files: list[dict] = field(default_factory=list)  # per file: FILE_KEYS
    batch_ids: tuple[int, ...] = ()  # import_batches written by its commit

    def to_dict(self) -> dict:
        """The importer's JSON object plus the preview's id, files and state."""
        return {**self.report, "id": self.id, "status": self.status, "files": self.files,
                "list_date": self.list_date.isoformat(), "category": self.category,
                "created_by": self.created_by, "created_at": self.created_at.isoformat(),
                "expires_at": self.expires_at.isoformat(), "batch_ids": list(self.batch_ids)}


# --- stage ------------------------------------------------------------------------------------


def stage(db: Database, uploads: Sequence[tuple[str, Source]], *, list_date: date,
          category: str | None, actor: str, now: datetime, settings: Settings,
          on_progress: Listener | None = None) -> Preview:
    """Check, store and validate an upload; record and return its preview (nothing imported)."""
    limits = Limits.from_settings(settings)
    named = checked_uploads(uploads, limits)
    preview_id = secrets.token_urlsafe(16)
    folder = preview_folder(settings.data_dir, preview_id)
    sources = save_uploads(folder, named)
    try:
        validation = validate_files(sources, list_date=list_date, category=category,
                                    listener=on_progress, limits=limits)
        counts = write_records(db, validation, now=now, period_days=settings.monitoring_days(),
                               dry_run=True)
        row = _preview_row(preview_id, validation, counts, actor, now, settings)
        with db.session() as session:
            session.add(row)
    except BaseException:
        remove_folder(folder)
        raise
    log.info("import preview %s staged: %d file(s), %d row(s)", preview_id,
             len(named), validation.rows)
    return _to_preview(row, ())


def _preview_row(preview_id: str, validation: Validation, counts: WriteCounts, actor: str,
                 now: datetime, settings: Settings) -> ImportPreview:
    report = build_report(validation, counts, dry_run=True)
    stored = {"report": {**report.to_json(), "unchanged": report.unchanged},
              "files": [{k: getattr(f, k) for k in FILE_KEYS} for f in report.files]}
    return ImportPreview(
        id=preview_id, created_by=actor[:100], created_at=to_db(now),
        expires_at=to_db(now + timedelta(seconds=settings.import_preview_ttl)),
        status=PREVIEW_STAGED, list_date=validation.list_date, category=validation.category,
        report=json.dumps(stored, ensure_ascii=False), fingerprint=counts.fingerprint)


def _to_preview(row: ImportPreview, batch_ids: Sequence[int]) -> Preview:
    stored = json.loads(row.report)
    return Preview(row.id, row.status, row.list_date, row.category, row.created_by,
                   from_db(row.created_at), from_db(row.expires_at), stored["report"],
                   stored["files"], tuple(batch_ids))


def get_preview(db: Database, preview_id: str) -> Preview:
    """A stored preview, with the batches its commit wrote."""
    with db.session() as session:
        row = _row(session, preview_id)
        ids = session.scalars(select(ImportBatch.id).where(ImportBatch.preview_id == row.id)
                              .order_by(ImportBatch.id))
        return _to_preview(row, list(ids))


def _row(session: Session, preview_id: str) -> ImportPreview:
    row = session.get(ImportPreview, preview_id) if PREVIEW_ID.match(preview_id) else None
    if row is None:
        raise PreviewNotFound()
    return row


# --- commit -----------------------------------------------------------------------------------


def commit(db: Database, preview_id: str, *, actor: str, now: datetime,
           settings: Settings) -> ImportReport:
    """Import a staged preview in one transaction, or refuse it (StalePreview) writing nothing."""
    row = _open_row(db, preview_id, now, settings)
    preview = _to_preview(row, ())
    validation = _revalidate(db, row, preview, now, settings)
    try:
        with db.session() as session:
            _claim(session, row.id, PREVIEW_COMMITTED, actor, now)
            counts = write_in_session(session, validation, now=now,
                                      period_days=settings.monitoring_days(), actor=actor,
                                      preview_id=row.id)
            report = build_report(validation, counts, dry_run=False)
            _same_outcome(row, preview, report, counts)
    except StalePreview as exc:
        if exc.code == "changed":
            _refuse(db, row.id, now, str(exc))
        raise
    log.info("import preview %s committed: %d created, %d updated", row.id, report.created,
             report.updated)
    return report


def _open_row(db: Database, preview_id: str, now: datetime, settings: Settings
              ) -> ImportPreview:
    """The preview if it can still be committed, else StalePreview (an expiry is recorded)."""
    with db.session() as session:
        row = _row(session, preview_id)
    if row.status == PREVIEW_STAGED and from_db(row.expires_at) <= now:
        _mark(db, row.id, PREVIEW_EXPIRED)
        row.status = PREVIEW_EXPIRED
    if row.status != PREVIEW_STAGED:
        raise _closed(row, settings)
    return row


def _closed(row: ImportPreview, settings: Settings) -> StalePreview:
    """Why a preview that is no longer staged cannot be used."""
    if row.status == PREVIEW_COMMITTED:
        return StalePreview(f"Danh sách này đã được nhập lúc {_local(row.closed_at, settings)}"
                            f" bởi {row.closed_by}; không nhập lại lần nữa", "committed")
    if row.status == PREVIEW_EXPIRED:
        minutes = round(settings.import_preview_ttl / 60)
        return StalePreview(f"Bản xem trước đã hết hạn (quá {minutes} phút); hãy tải tệp lên "
                            "lại để xem trước lần nữa", "expired")
    if row.status == PREVIEW_DISCARDED:
        return StalePreview("Bản xem trước này đã bị huỷ; hãy tải tệp lên lại", "discarded")
    return StalePreview(row.reason or "Bản xem trước không còn đúng; hãy tải tệp lên lại",
                        "refused")


def _local(moment: datetime | None, settings: Settings) -> str:
    if moment is None:
        return "?"
    return from_db(moment).astimezone(ZoneInfo(settings.timezone)).strftime("%H:%M %d/%m/%Y")


def _revalidate(db: Database, row: ImportPreview, preview: Preview, now: datetime,
                settings: Settings) -> Validation:
    """The stored files validated again, or StalePreview if they cannot be (then refused)."""
    try:
        return _stored_validation(row, preview, settings)
    except UnreadableFiles:
        message = "Không đọc lại được các tệp của bản xem trước; hãy tải tệp lên lại"
        _refuse(db, row.id, now, message)
        raise StalePreview(message, "refused") from None


def _stored_validation(row: ImportPreview, preview: Preview, settings: Settings) -> Validation:
    """The preview's stored files validated as they were staged (UnreadableFiles if gone)."""
    folder = preview_folder(settings.data_dir, row.id)
    return validate_files(stored_sources(folder, [f["name"] for f in preview.files]),
                          list_date=row.list_date, category=row.category)


def _claim(session: Session, preview_id: str, status: str, actor: str, now: datetime,
           live_only: bool = True) -> None:
    """Move a staged (and, if live_only, unexpired) preview to `status`, or StalePreview."""
    table = cast(Table, ImportPreview.__table__)
    condition = [table.c.id == preview_id, table.c.status == PREVIEW_STAGED]
    if live_only:
        condition.append(table.c.expires_at > to_db(now))
    result = session.execute(update(table).where(*condition).values(
        status=status, closed_by=actor[:100], closed_at=to_db(now)))
    if result.rowcount != 1:  # type: ignore[attr-defined]  # DML gives a CursorResult
        raise StalePreview("Bản xem trước vừa được người khác nhập hoặc huỷ, hoặc đã hết hạn; "
                           "hãy tải lại trang", "committed")


def _same_outcome(row: ImportPreview, preview: Preview, report: ImportReport,
                  counts: WriteCounts) -> None:
    """StalePreview('changed') unless the commit does what the preview showed."""
    sums = [f["sha256"] for f in preview.files]
    if counts.fingerprint != row.fingerprint or [f.sha256 for f in report.files] != sums:
        raise StalePreview("Trong lúc chờ, một lần nhập khác hoặc một chỉnh sửa đã thay đổi "
                           "những người có trong danh sách này, nên bản xem trước không còn "
                           "đúng; hãy tải tệp lên lại để xem trước lần nữa", "changed")
    now_counts = {**report.to_json(), "unchanged": report.unchanged}
    if any(now_counts[k] != preview.report[k] for k in COUNT_KEYS):
        raise StalePreview("Kết quả kiểm tra lại khác với bản xem trước; hãy tải tệp lên lại "
                           "để xem trước lần nữa", "changed")


def _refuse(db: Database, preview_id: str, now: datetime, reason: str) -> None:
    """Record that a commit found the preview stale (if nobody closed it meanwhile)."""
    table = cast(Table, ImportPreview.__table__)
    with db.session() as session:
        session.execute(update(table).where(table.c.id == preview_id,
                                            table.c.status == PREVIEW_STAGED)
                        .values(status=PREVIEW_REFUSED, reason=reason[:300],
                                closed_at=to_db(now)))


def _mark(db: Database, preview_id: str, status: str) -> None:
    table = cast(Table, ImportPreview.__table__)
    with db.session() as session:
        session.execute(update(table).where(table.c.id == preview_id,
                                            table.c.status == PREVIEW_STAGED)
                        .values(status=status))


# --- error workbook, discard, clean-up ----------------------------------------------------------


def error_workbook(db: Database, preview_id: str, *, settings: Settings) -> bytes:
    """The error workbook (.xlsx bytes) of a preview: its rejected rows plus a reason column."""
    with db.session() as session:
        row = _row(session, preview_id)
    preview = _to_preview(row, ())
    try:
        validation = _stored_validation(row, preview, settings)
    except UnreadableFiles:
        raise StalePreview("Các tệp của bản xem trước đã được xoá (hết hạn); hãy tải tệp lên "
                           "lại", "expired") from None
    counts = WriteCounts(*(preview.report[k] for k in ("created", "updated", "unchanged")))
    out = BytesIO()
    write_error_workbook(build_report(validation, counts, dry_run=True), out)
    return out.getvalue()


def discard(db: Database, preview_id: str, *, actor: str, now: datetime,
            settings: Settings) -> None:
    """Withdraw a staged preview and delete its files."""
    with db.session() as session:
        row = _row(session, preview_id)
        if row.status != PREVIEW_STAGED:
            raise _closed(row, settings)
        _claim(session, row.id, PREVIEW_DISCARDED, actor, now, live_only=False)
    remove_folder(preview_folder(settings.data_dir, row.id))
    log.info("import preview %s discarded", row.id)


def cleanup(db: Database, *, now: datetime, settings: Settings) -> int:
    """Expire previews past their time and delete the files no preview needs; for the daily job.

    Files are kept while a preview is staged and, after a commit, until it would have expired
    (for its error workbook). A folder without a row is deleted once it is older than the
    preview lifetime (a stage that crashed; a younger one may be a stage in progress).
    """
    table = cast(Table, ImportPreview.__table__)
    with db.session() as session:
        session.execute(update(table).where(table.c.status == PREVIEW_STAGED,
                                            table.c.expires_at <= to_db(now))
                        .values(status=PREVIEW_EXPIRED))
    root = imports_root(settings.data_dir)
    folders = {f.name: f for f in root.iterdir() if f.is_dir()} if root.is_dir() else {}
    with db.session() as session:
        known = set(session.scalars(select(table.c.id).where(table.c.id.in_(list(folders)))))
        keep = set(session.scalars(select(table.c.id).where(
            table.c.id.in_(list(folders)), table.c.expires_at > to_db(now),
            or_(table.c.status == PREVIEW_STAGED, table.c.status == PREVIEW_COMMITTED))))
    young = now.timestamp() - settings.import_preview_ttl
    removed = 0
    for name, folder in folders.items():
        if name in keep or (name not in known and folder.stat().st_mtime > young):
            continue
        removed += remove_folder(folder)
    if removed:
        log.info("import previews: %d folder(s) of uploaded files deleted", removed)
    return removed
