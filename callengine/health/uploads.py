"""Sample and result workbooks uploaded in the admin: checked against the upload limits, kept
in a private folder (`<data_dir>/record-uploads/<id>/`, importer/uploads.py), previewed with a
dry run, then committed once. The id is an unguessable token; the folder also holds the
manifest (kind, names, who) and the latest error workbook.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Sequence

from callengine.casework.errors import NotAllowedNow, NotFound
from callengine.health.imports import ImportRequest, import_results, import_samples
from callengine.importer.error_book import write_error_workbook
from callengine.importer.limits import Limits
from callengine.importer.records import RecordReport
from callengine.importer.uploads import (
    PREVIEW_ID,
    Source,
    checked_uploads,
    remove_folder,
    save_uploads,
    stored_sources,
)
from callengine.store.db import Database
from callengine.store.samples import IMPORT_RESULTS, IMPORT_SAMPLES

KINDS = (IMPORT_SAMPLES, IMPORT_RESULTS)
MANIFEST, COMMITTED, ERRORS = "manifest.json", "committed", "errors.xlsx"


@dataclass(frozen=True)
class Staged:
    id: str
    kind: str
    report: RecordReport
    committed: bool = False


def _folder(settings, upload_id: str) -> Path:
    if not PREVIEW_ID.match(upload_id or ""):
        raise NotFound("Không tìm thấy tệp đã tải lên; hãy tải lên lại.")
    return Path(settings.data_dir) / "record-uploads" / upload_id


def _run(db: Database, settings, kind: str, folder: Path, now: datetime, actor: str | None,
         dry_run: bool) -> RecordReport:
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    request = ImportRequest(stored_sources(folder, manifest["names"]), now, actor, dry_run)
    report = (import_samples if kind == IMPORT_SAMPLES else import_results)(db, request,
                                                                             settings)
    write_error_workbook(report, folder / ERRORS)
    return report


def _keep(settings, kind: str, uploads: Sequence[tuple[str, Source]],
          actor: str | None) -> tuple[str, Path]:
    """Check an upload against the limits (UploadRefused) and keep it in a new folder."""
    if kind not in KINDS:
        raise NotFound("Loại tệp không hợp lệ.")
    named = checked_uploads(uploads, Limits.from_settings(settings))
    upload_id = secrets.token_urlsafe(16)
    folder = _folder(settings, upload_id)
    save_uploads(folder, named)
    (folder / MANIFEST).write_text(json.dumps({"kind": kind, "names": [n for n, _ in named],
                                               "actor": actor}), encoding="utf-8")
    return upload_id, folder


def stage(db: Database, settings, kind: str, uploads: Sequence[tuple[str, Source]], *,
          now: datetime, actor: str | None) -> Staged:
    """Check, keep and dry-run an upload (UploadRefused, UnreadableFiles: nothing kept)."""
    upload_id, folder = _keep(settings, kind, uploads, actor)
    try:
        report = _run(db, settings, kind, folder, now, actor, dry_run=True)
    except BaseException:
        remove_folder(folder)
        raise
    return Staged(upload_id, kind, report)


def import_now(db: Database, settings, kind: str, uploads: Sequence[tuple[str, Source]], *,
               now: datetime, actor: str | None, dry_run: bool = False) -> RecordReport:
    """Check and import an upload at once (the API); the files are not kept."""
    _upload_id, folder = _keep(settings, kind, uploads, actor)
    try:
        return _run(db, settings, kind, folder, now, actor, dry_run=dry_run)
    finally:
        remove_folder(folder)


def commit(db: Database, settings, upload_id: str, *, now: datetime,
           actor: str | None) -> Staged:
    """Import a staged upload for real, once (NotAllowedNow the second time)."""
    folder = _folder(settings, upload_id)
    if not (folder / MANIFEST).is_file():
        raise NotFound("Không tìm thấy tệp đã tải lên; hãy tải lên lại.")
    marker = folder / COMMITTED
    try:
        marker.touch(exist_ok=False)
    except FileExistsError:
        raise NotAllowedNow("Tệp này đã được nhập rồi.") from None
    kind = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["kind"]
    try:
        report = _run(db, settings, kind, folder, now, actor, dry_run=False)
    except BaseException:
        marker.unlink(missing_ok=True)
        raise
    return Staged(upload_id, kind, report, committed=True)


def error_workbook(settings, upload_id: str) -> bytes:
    """The latest error workbook of an upload."""
    path = _folder(settings, upload_id) / ERRORS
    if not path.is_file():
        raise NotFound("Không có sổ lỗi cho tệp này.")
    return path.read_bytes()
