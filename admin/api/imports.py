"""/api/v1/imports: stage an upload (a preview), read it, commit it; the history of imports.

The same service calls as the /imports pages (`admin.imports`), so both audit alike.
"""

from __future__ import annotations

from datetime import date

from flask import jsonify, request
from flask_babel import gettext as _

from callengine.importer import staged
from callengine.importer.categories import CATEGORIES, parse_category
from callengine.importer.history import history
from callengine.importer.limits import UploadRefused
from callengine.importer.service import UnreadableFiles
from admin.access import roles_required
from admin.api import bp, day_arg, limit_arg
from admin.api.errors import ApiError, invalid
from admin.api.openapi import operation
from admin.context import context
from admin.converters import MAX_ROW_ID
from admin.imports import commit_preview, problems_of, refusal_status, stage_upload

STAFF = roles_required("staff", "supervisor")  # staff, supervisors and admins
_NULLABLE_STRING = {"type": ["string", "null"]}
_COUNT = {"type": "integer", "minimum": 0}
COUNT_FIELDS = ("rows", "created", "updated", "unchanged", "rejected", "skipped")
ISSUE = {"type": "object", "required": ["file", "sheet", "row", "column", "value", "reason"],
         "properties": {"file": {"type": "string"}, "sheet": {"type": "string"},
                        "row": {"type": ["integer", "null"]}, "column": _NULLABLE_STRING,
                        "value": _NULLABLE_STRING, "reason": {"type": "string"}}}
REPORT_PROPERTIES = {**{k: _COUNT for k in COUNT_FIELDS},
                     "errors": {"type": "array", "items": {"$ref": "#/components/schemas/"
                                                                    "ImportIssue"}},
                     "id": {"type": "string"}, "status": {"type": "string"}}
PREVIEW = {"type": "object",
           "required": [*COUNT_FIELDS, "errors", "id", "status", "files", "list_date",
                        "category", "created_by", "created_at", "expires_at", "batch_ids"],
           "properties": {**REPORT_PROPERTIES,
                          "files": {"type": "array", "items": {"type": "object"}},
                          "list_date": {"type": "string", "format": "date"},
                          "category": _NULLABLE_STRING, "created_by": {"type": "string"},
                          "created_at": {"type": "string", "format": "date-time"},
                          "expires_at": {"type": "string", "format": "date-time"},
                          "batch_ids": {"type": "array", "items": {"type": "integer"}}}}
REPORT = {"type": "object", "required": [*COUNT_FIELDS, "errors", "id", "status"],
          "properties": REPORT_PROPERTIES}
UPLOAD = {"type": "object", "required": ["files"],
          "properties": {"files": {"type": "array",
                                   "items": {"type": "string", "format": "binary"}},
                         "date": {"type": "string", "format": "date"},
                         "category": {"type": "string", "enum": list(CATEGORIES)}}}
HISTORY_ITEM = {"type": "object",
                "required": ["id", "file_name", "list_date", "created_at", "created_by",
                             "uploaded_by", "rows", "created", "updated", "rejected"],
                "properties": {"id": {"type": "integer"}, "file_name": {"type": "string"},
                               "list_date": {"type": "string", "format": "date"},
                               "category": _NULLABLE_STRING,
                               "created_at": {"type": "string", "format": "date-time"},
                               "created_by": _NULLABLE_STRING, "uploaded_by": _NULLABLE_STRING,
                               "preview_id": _NULLABLE_STRING,
                               **{k: _COUNT for k in COUNT_FIELDS if k != "unchanged"}}}
SCHEMAS = {"ImportIssue": ISSUE, "ImportPreview": PREVIEW, "ImportReport": REPORT,
           "ImportUpload": UPLOAD, "ImportHistoryItem": HISTORY_ITEM}
NOT_FOUND = {404: "Không có bản xem trước này"}
STALE = {409: "Bản xem trước đã được nhập, đã huỷ, hết hạn hoặc không còn đúng"}


def _list_date() -> date:
    return day_arg(request.form.get("date"),
                   lambda message: ApiError(400, "bad_date", message, field="date"))


def _category() -> str | None:
    raw = request.form.get("category", "").strip()
    if not raw:
        return None
    category = raw if raw in CATEGORIES else parse_category(raw)
    if category is None:
        raise invalid("category", _("category must be one of %(names)s.",
                                    names=", ".join(CATEGORIES)))
    return category


def _refused(error: UploadRefused | UnreadableFiles) -> ApiError:
    code = error.code if isinstance(error, UploadRefused) else "unreadable"
    problems = problems_of(error)
    return ApiError(refusal_status(error), code, "\n".join(problems), problems=problems)


@bp.post("/imports")
@STAFF
@operation("Tải danh sách lên và xem trước (chưa nhập gì)", response="ImportPreview",
           status=201, schemas=SCHEMAS, request_body="ImportUpload",
           request_media="multipart/form-data",
           errors={400: "Chưa có tệp hoặc ngày sai", 413: "Tệp quá lớn",
                   422: "Tệp không đọc được, sai loại hoặc phân loại sai"})
def create_import():
    """Stage the files: the preview of what committing them would do."""
    uploads = [(f.filename or "", f.read()) for f in request.files.getlist("files")
               if f.filename]
    if not uploads:
        raise ApiError(400, "no_files", _("Send one or more files in the field files."),
                       field="files")
    list_date, category = _list_date(), _category()
    try:
        preview = stage_upload(uploads, list_date=list_date, category=category)
    except (UploadRefused, UnreadableFiles) as error:
        raise _refused(error) from None
    return jsonify(preview.to_dict()), 201


def _preview(preview_id: str) -> staged.Preview:
    try:
        return staged.get_preview(context().db, preview_id)
    except staged.PreviewNotFound as error:
        raise ApiError(404, error.code, str(error)) from None


@bp.get("/imports/<preview_id>")
@STAFF
@operation("Một bản xem trước", response="ImportPreview", schemas=SCHEMAS, errors=NOT_FOUND)
def get_import(preview_id: str):
    """A stored preview and its state."""
    return jsonify(_preview(preview_id).to_dict())


@bp.post("/imports/<preview_id>/commit")
@STAFF
@operation("Nhập bản xem trước vào hệ thống (một giao dịch)", response="ImportReport",
           schemas=SCHEMAS, errors={**NOT_FOUND, **STALE})
def commit_import(preview_id: str):
    """Import the preview, or 409 when it can no longer be (nothing is written)."""
    try:
        report = commit_preview(preview_id)
    except staged.PreviewNotFound as error:
        raise ApiError(404, error.code, str(error)) from None
    except staged.StalePreview as error:
        raise ApiError(409, error.code, str(error)) from None
    return jsonify({**report.to_json(), "unchanged": report.unchanged, "id": preview_id,
                    "status": "committed"})


@bp.get("/imports")
@STAFF
@operation("Lịch sử nhập danh sách (mới nhất trước)", response="ImportHistoryItem",
           list_of=True, schemas=SCHEMAS,
           errors={400: "Con trỏ không hợp lệ", 422: "limit không hợp lệ"},
           parameters=[{"name": "cursor", "in": "query", "schema": {"type": "string"}},
                       {"name": "limit", "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 200}}])
def list_imports():
    """Imported files, newest first, paged by keyset."""
    raw = request.args.get("cursor") or ""
    if raw and not (raw.isascii() and raw.isdigit() and int(raw) <= MAX_ROW_ID):
        raise ApiError(400, "bad_cursor", _("This cursor was not given by this list."))
    page = history(context().db, after=int(raw) if raw else None, limit=limit_arg())
    return jsonify({"items": [item.to_dict() for item in page.items],
                    "next": str(page.next) if page.next is not None else None})
