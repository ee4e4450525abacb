"""/api/v1/samples and /api/v1/lab-results: register a sample, read one by id, import a lab's
result workbook. Sample codes are personal (with a phone they open a resident's result), so a
sample is read by its id only; a code goes in a request body.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import jsonify, request
from flask_babel import gettext as _

from callengine.casework.errors import CaseworkError, NotAllowedNow, NotFound
from callengine.health import uploads as record_uploads
from callengine.health.samples import (
    NewSample,
    PersonRef,
    get_sample,
    normalise_code,
    register_sample,
)
from callengine.importer.limits import UploadRefused
from callengine.importer.records import InvalidValue
from callengine.importer.service import UnreadableFiles
from callengine.phones import InvalidPhone, normalize_phone
from callengine.store.samples import IMPORT_RESULTS, KIND_POOLED, RESULTS, SAMPLE_KINDS
from admin.access import roles_required
from admin.api import bp
from admin.api.errors import ApiError, invalid, json_body
from admin.api.imports import ISSUE
from admin.api.imports import _refused as refused
from admin.api.openapi import operation
from admin.context import actor, audit_event, context
from admin.converters import MAX_ROW_ID

ENTER = roles_required("staff")  # and admins
SEE = roles_required("staff", "supervisor")
_TEXT_OR_NULL = {"type": ["string", "null"]}
PERSON_REF: dict[str, Any] = {"type": "object", "properties": {
    "person_id": {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID},
    "phone": {"type": "string"},
    "full_name": {"type": "string"}}}
NEW_SAMPLE = {"type": "object", "required": ["sample_code", "type", "taken_at"], "properties": {
    **PERSON_REF["properties"],
    "sample_code": {"type": "string", "maxLength": 40},
    "type": {"type": "string", "enum": list(SAMPLE_KINDS)},
    "taken_at": {"type": "string", "format": "date-time",
                 "description": "ISO 8601; without an offset, local time"},
    "site": _TEXT_OR_NULL, "team": _TEXT_OR_NULL,
    "members": {"type": "array", "items": PERSON_REF, "description": "pooled samples only"}}}
SAMPLE = {"type": "object", "required": ["id", "sample_code", "type", "taken_at", "person_id",
                                         "result", "ct_value", "result_at", "members"],
          "properties": {
              "id": {"type": "integer"}, "sample_code": {"type": "string"},
              "type": {"type": "string", "enum": list(SAMPLE_KINDS)},
              "taken_at": {"type": "string", "format": "date-time"},
              "site": _TEXT_OR_NULL, "team": _TEXT_OR_NULL,
              "person_id": {"type": ["integer", "null"]},
              "result": {"type": ["string", "null"], "enum": [*RESULTS, None]},
              "ct_value": {"type": ["number", "null"]},
              "result_at": {"type": ["string", "null"], "format": "date-time"},
              "members": {"type": "array", "items": {"type": "object", "properties": {
                  "person_id": {"type": "integer"}, "retest_requested": {"type": "boolean"}}}}}}
_COUNT = {"type": "integer", "minimum": 0}
RESULT_REPORT = {"type": "object",
                 "required": ["rows", "accepted", "updated", "unchanged", "positive", "retests",
                              "rejected", "skipped", "dry_run", "files", "errors"],
                 "properties": {**{k: _COUNT for k in (
                     "rows", "accepted", "updated", "unchanged", "positive", "retests",
                     "rejected", "skipped")},
                     "dry_run": {"type": "boolean"},
                     "files": {"type": "array", "items": {"type": "object"}},
                     "errors": {"type": "array", "items": {"$ref": "#/components/schemas/"
                                                                   "ImportIssue"}}}}
RESULT_UPLOAD = {"type": "object", "required": ["file"], "properties": {
    "file": {"type": "string", "format": "binary"},
    "dry_run": {"type": "string", "enum": ["true", "false"]}}}
SCHEMAS = {"NewSample": NEW_SAMPLE, "Sample": SAMPLE, "LabResultReport": RESULT_REPORT,
           "LabResultUpload": RESULT_UPLOAD, "ImportIssue": ISSUE}


def _text(body: dict[str, Any], name: str, size: int) -> str:
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > size:
        raise invalid(name, _("%(name)s must be text of at most %(size)d characters.",
                              name=name, size=size))
    return value.strip()


def _person(body: dict[str, Any], where: str) -> PersonRef:
    person_id = body.get("person_id")
    if person_id is not None:
        if not isinstance(person_id, int) or isinstance(person_id, bool) or \
                not 1 <= person_id <= MAX_ROW_ID:
            raise invalid(f"{where}person_id", _("person_id must be a positive whole number."))
        return PersonRef(person_id=person_id)
    phone = _text(body, "phone", 40)
    if not phone:
        raise invalid(f"{where}phone", _("Give person_id, or phone and full_name."))
    try:
        return PersonRef(phone=normalize_phone(phone), full_name=_text(body, "full_name", 200))
    except InvalidPhone as error:
        raise invalid(f"{where}phone", str(error)) from None


def _taken_at(raw: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(raw))
    except ValueError:
        raise invalid("taken_at", _("taken_at must be a date and time (ISO 8601).")) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(context().settings.timezone))
    return moment


def _new_sample(body: dict[str, Any]) -> NewSample:
    kind = body.get("type")
    if kind not in SAMPLE_KINDS:
        raise invalid("type", _("type must be one of %(names)s.", names=", ".join(SAMPLE_KINDS)))
    try:
        code = normalise_code(_text(body, "sample_code", 60))
    except InvalidValue as error:
        raise invalid("sample_code", str(error)) from None
    members = body.get("members") or []
    if not isinstance(members, list) or not all(isinstance(m, dict) for m in members):
        raise invalid("members", _("members must be a list of people."))
    pooled = kind == KIND_POOLED
    return NewSample(
        code=code, kind=kind, taken_at=_taken_at(body.get("taken_at")),
        person=None if pooled else _person(body, ""),
        members=tuple(_person(m, f"members[{i}].") for i, m in enumerate(members)),
        site=_text(body, "site", 200) or None, team=_text(body, "team", 100) or None)


@bp.post("/samples")
@ENTER
@operation("Đăng ký một mẫu xét nghiệm", response="Sample", status=201, schemas=SCHEMAS,
           request_body="NewSample",
           errors={400: "Thân yêu cầu không phải JSON", 404: "Không có người này",
                   409: "Mã mẫu đã được đăng ký", 422: "Giá trị không hợp lệ"})
def create_sample():
    """Register a sample for a person (by id, or phone and name) or a pool of people."""
    new = _new_sample(json_body())
    ctx = context()
    try:
        sample = register_sample(ctx.db, new, actor=actor().username, now=ctx.clock.now())
    except NotFound as error:
        raise ApiError(404, error.code, str(error)) from None
    except NotAllowedNow as error:
        raise ApiError(409, "conflict", str(error)) from None
    except CaseworkError as error:
        raise ApiError(422, error.code, str(error)) from None
    audit_event("sample.create", object_type="sample", object_id=sample.id, kind=sample.kind)
    return jsonify(sample.to_dict()), 201


@bp.get("/samples/<int:sample_id>")
@SEE
@operation("Một mẫu xét nghiệm (theo số, không theo mã mẫu)", response="Sample",
           schemas=SCHEMAS, errors={404: "Không có mẫu này"})
def sample(sample_id: int):
    """A sample and its result."""
    try:
        view = get_sample(context().db, sample_id)
    except NotFound as error:
        raise ApiError(404, error.code, str(error)) from None
    audit_event("sample.view", object_type="sample", object_id=sample_id)
    return jsonify(view.to_dict())


@bp.post("/lab-results")
@ENTER
@operation("Nhập sổ kết quả xét nghiệm của phòng xét nghiệm (một giao dịch)",
           response="LabResultReport", schemas=SCHEMAS, request_body="LabResultUpload",
           request_media="multipart/form-data",
           errors={400: "Chưa có tệp", 413: "Tệp quá lớn",
                   422: "Tệp không đọc được hoặc sai loại"})
def import_lab_results():
    """Import a result workbook: row errors in the answer, positives made F0 at once."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError(400, "no_files", _("Send the workbook in the field file."), field="file")
    dry_run = request.form.get("dry_run", "").lower() == "true"
    ctx = context()
    try:
        report = record_uploads.import_now(
            ctx.db, ctx.settings, IMPORT_RESULTS, [(upload.filename, upload.read())],
            now=ctx.clock.now(), actor=actor().username, dry_run=dry_run)
    except (UploadRefused, UnreadableFiles) as error:
        raise refused(error) from None
    audit_event("lab_results.import", object_type="record_upload", dry_run=dry_run,
                **report.counts, rejected=report.rejected)  # type: ignore[arg-type]  # no "who"
    return jsonify(report.to_json())
