"""The vaccination API: record a dose, a person's certificate, the document signer.

    POST /api/v1/vaccinations               {"person_id", "product", "lot", "dose_number",
                                             "date", "site"} -> the dose (201)
    GET  /api/v1/people/{id}/certificate    -> {"hc1": "HC1:..."}
    GET  /api/v1/certificates/signer        -> the document-signer certificate (PEM; public)

`product` is the EU DCC `mp` code (EU/1/20/1528) or a short name of callengine/vaccines.yaml
(AZ, Pfizer, Moderna, Vero Cell, Sinovac, Sputnik, Abdala, Janssen).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, jsonify
from flask_babel import gettext as _

from callengine.casework.errors import NotAllowedNow, NotFound
from callengine.certificates.keyfiles import SignerUnavailable
from callengine.vaccination.certificate import certificate_payload, sign_certificate
from callengine.vaccination.doses import DoseView, record_dose
from callengine.vaccination.rules import MAX_DOSE_NUMBER, DoseEntry, DoseRefused
from callengine.vaccines import load_catalogue
from admin.access import public, roles_required
from admin.api import bp
from admin.api.errors import ApiError, invalid, json_body
from admin.api.openapi import operation
from admin.context import actor, audit_event, context
from admin.vaccinations import signer, signer_pem

STAFF = roles_required("staff", "supervisor")
_TEXT = {"type": "string"}
_FIELDS = ("person_id", "product", "lot", "dose_number", "date", "site")
DOSE_REQUEST = {
    "type": "object", "additionalProperties": False,
    "required": ["person_id", "product", "dose_number", "date"],
    "properties": {
        "person_id": {"type": "integer", "minimum": 1},
        "product": {"type": "string", "maxLength": 60, "description": "EU DCC mp code or a "
                    "short name: " + ", ".join(p.names[0] if p.names else p.code
                                               for p in load_catalogue().products)},
        "lot": {"type": "string", "maxLength": 60},
        "dose_number": {"type": "integer", "minimum": 1, "maximum": MAX_DOSE_NUMBER},
        "date": {"type": "string", "format": "date"},
        "site": {"type": "string", "maxLength": 200},
    }}
DOSE = {"type": "object", "required": ["id", "person_id", "product", "manufacturer",
                                       "dose_number", "date", "lot", "site"],
        "properties": {"id": {"type": "integer"}, "person_id": {"type": "integer"},
                       "product": _TEXT, "product_name": _TEXT, "manufacturer": _TEXT,
                       "dose_number": {"type": "integer"},
                       "date": {"type": "string", "format": "date"}, "lot": _TEXT,
                       "site": _TEXT}}
CERTIFICATE = {"type": "object", "required": ["hc1"], "properties": {
    "hc1": {"type": "string", "pattern": "^HC1:",
            "description": "EU DCC: HC1: + Base45(zlib(COSE_Sign1(CWT)))"}}}
SCHEMAS = {"DoseRequest": DOSE_REQUEST, "Dose": DOSE, "Certificate": CERTIFICATE}


def dose_json(dose: DoseView) -> dict[str, Any]:
    return {"id": dose.id, "person_id": dose.person_id, "product": dose.product,
            "product_name": dose.product_name, "manufacturer": dose.manufacturer,
            "dose_number": dose.dose_number, "date": dose.given_on.isoformat(),
            "lot": dose.lot, "site": dose.site}


def _text(body: dict, name: str, required: bool = False) -> str:
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise invalid(name, _("%(name)s must be a string.", name=name))
    return value


def _whole(body: dict, name: str) -> int:
    value = body.get(name)
    if type(value) is not int or value < 1:
        raise invalid(name, _("%(name)s must be a whole number from 1.", name=name))
    return value


def _entry(body: dict) -> tuple[int, DoseEntry]:
    for name in body:
        if name not in _FIELDS:
            raise invalid(name, _("Unknown field %(name)s.", name=name))
    try:
        day = date.fromisoformat(_text(body, "date", required=True))
    except ValueError:
        raise invalid("date", _("date must be a day written YYYY-MM-DD.")) from None
    return _whole(body, "person_id"), DoseEntry(
        _text(body, "product", required=True), _whole(body, "dose_number"), day,
        _text(body, "lot"), _text(body, "site"))


@bp.post("/vaccinations")
@STAFF
@operation("Ghi một mũi tiêm (kiểm tra thứ tự mũi, khoảng cách tối thiểu, ngày không ở "
           "tương lai, vắc xin có trong danh mục)", response="Dose", status=201,
           schemas=SCHEMAS, request_body="DoseRequest",
           errors={400: "Thân yêu cầu không phải JSON", 404: "Không có người này",
                   422: "Mũi tiêm không hợp lệ (trường field nói trường nào)"})
def record_vaccination():
    person_id, entry = _entry(json_body())
    ctx = context()
    try:
        dose = record_dose(ctx.db, person_id, entry, actor=actor().username,
                           now=ctx.clock.now(), settings=ctx.settings)
    except NotFound as error:
        raise ApiError(404, "not_found", str(error)) from None
    except DoseRefused as refused:
        field = "date" if refused.field == "given_on" else refused.field
        raise invalid(field, str(refused)) from None
    audit_event("vaccination.record", object_type="person", object_id=person_id,
                dose_id=dose.id, dose_number=dose.dose_number, product=dose.product,
                via="api")
    return jsonify(dose_json(dose)), 201


@bp.get("/people/<int:person_id>/certificate")
@STAFF
@operation("Chứng nhận tiêm chủng EU DCC của mũi gần nhất", response="Certificate",
           schemas=SCHEMAS, errors={409: "Người này chưa có mũi tiêm hoặc chưa có họ tên "
                                         "(no_dose), hoặc chưa có khóa ký (signer_unavailable)"})
def person_certificate_api(person_id: int):
    ctx = context()
    try:
        body, dose_id = certificate_payload(ctx.db, person_id, ctx.settings)
    except NotFound as error:
        raise ApiError(404, "not_found", str(error)) from None
    except NotAllowedNow as error:
        raise ApiError(409, "no_dose", str(error)) from None
    try:
        made = sign_certificate(body, dose_id, signer(), ctx.clock.now(), ctx.settings)
    except SignerUnavailable:
        raise ApiError(409, "signer_unavailable", _(
            "No signing key is set up: an administrator must run "
            "`callengine certificates keygen`.")) from None
    audit_event("certificate.issue", object_type="person", object_id=person_id,
                dose_id=made.dose_id, via="api")
    return jsonify({"hc1": made.hc1})


@bp.get("/certificates/signer")
@public
@operation("Chứng thư của khóa ký chứng nhận (PEM), cho ứng dụng kiểm tra",
           errors={404: "Chưa có khóa ký"})
def certificate_signer():
    try:
        pem = signer_pem()
    except SignerUnavailable as error:
        raise ApiError(404, "not_found", str(error)) from None
    return Response(pem, mimetype="application/x-pem-file")
