"""Vaccinations in the admin: a person's doses and the dose form ("Tiêm chủng"), their
certificate page (QR code and what it holds), the dose workbook upload, the coverage export,
and the certificate verify page (public: any checker may use it).

Views parse input and call callengine.vaccination and callengine.certificates, the services
the command line calls. The person's id (a row number, not personal) is the only thing a URL
says; a pasted certificate is posted.
"""

from __future__ import annotations

import base64
import io
import secrets
import shutil
import time
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _

from callengine.casework.errors import CaseworkError, NotFound
from callengine.casework.person_detail import person_detail
from callengine.certificates import hc1
from callengine.certificates.keyfiles import (
    SignerUnavailable,
    load_signer,
    read_certificate,
    trusted_keys,
)
from callengine.certificates.signer import DocumentSigner, certificate_pem
from callengine.certificates.verify import verify
from callengine.importer.error_book import write_error_workbook
from callengine.importer.limits import Limits, UploadRefused, check_archive, check_request
from callengine.importer.records import RecordReport
from callengine.importer.service import UnreadableFiles
from callengine.importer.uploads import display_name, save_uploads
from callengine.vaccination.certificate import certificate_payload, sign_certificate
from callengine.vaccination.coverage import AGE_BAND_LABELS, AGE_BANDS, coverage_by_commune
from callengine.vaccination.doses import person_doses, record_dose
from callengine.vaccination.export import FORMATS, write_coverage
from callengine.vaccination.importing import import_doses
from callengine.vaccination.rules import FIELD_LABELS, DoseEntry, DoseRefused
from admin.access import public, roles_required
from admin.context import actor, audit_event, context, local_today, questionnaire
from admin.downloads import xlsx_download
from admin.vaccination_forms import DoseForm, DoseUploadForm, VerifyForm

bp = Blueprint("vaccinations", __name__)
STAFF = roles_required("staff", "supervisor")  # and admins: everyone signed in
ERRORS_FOLDER = "vaccination-errors"
QR_SCALE = 4


def signer() -> DocumentSigner:
    settings = context().settings
    return load_signer(settings.certificate_key_path, settings.certificate_signer_path)


def signer_pem() -> str:
    """The deployment's document-signer certificate, PEM (SignerUnavailable without one)."""
    return certificate_pem(read_certificate(context().settings.certificate_signer_path))


def _person(person_id: int):
    try:
        return person_detail(context().db, person_id, questionnaire()).identity
    except NotFound:
        abort(404)


def _doses_page(person_id: int, form: DoseForm | None = None, status: int = 200):
    who = _person(person_id)
    form = form or DoseForm(given_on=local_today())
    doses = person_doses(context().db, person_id)
    if form.dose_number.data is None and request.method == "GET":
        form.dose_number.data = len(doses) + 1
    return render_template("vaccinations/person.html", who=who, doses=doses, form=form), status


@bp.get("/people/<int:person_id>/vaccinations")
@STAFF
def person(person_id: int):
    """A person's doses and the form for the next one."""
    page = _doses_page(person_id)
    audit_event("vaccination.view", object_type="person", object_id=person_id)
    return page


@bp.post("/people/<int:person_id>/vaccinations")
@STAFF
def record(person_id: int):
    """Record a dose: the rules' refusal shows on the form, nothing is written."""
    form = DoseForm()
    if not form.validate_on_submit():
        return _doses_page(person_id, form, 422)
    entry = DoseEntry(form.product.data, form.dose_number.data, form.given_on.data,
                      form.lot.data or "", form.site.data or "")
    ctx = context()
    try:
        dose = record_dose(ctx.db, person_id, entry, actor=actor().username,
                           now=ctx.clock.now(), settings=ctx.settings)
    except NotFound:
        abort(404)
    except DoseRefused as refused:
        getattr(form, refused.field, form.product).errors = [str(refused)]
        return _doses_page(person_id, form, 422)
    audit_event("vaccination.record", object_type="person", object_id=person_id,
                dose_id=dose.id, dose_number=dose.dose_number, product=dose.product)
    flash(_("Dose %(number)d recorded.", number=dose.dose_number), "success")
    return redirect(url_for("vaccinations.person", person_id=person_id), 303)


@bp.get("/people/<int:person_id>/certificate")
@STAFF
def certificate(person_id: int):
    """The certificate of the person's latest dose: its QR code and what it holds."""
    who = _person(person_id)
    ctx = context()
    try:
        body, dose_id = certificate_payload(ctx.db, person_id, ctx.settings)
        made = sign_certificate(body, dose_id, signer(), ctx.clock.now(), ctx.settings)
    except (SignerUnavailable, CaseworkError) as error:
        return render_template("vaccinations/certificate.html", who=who, error=str(error)), \
            503 if isinstance(error, SignerUnavailable) else 409
    audit_event("certificate.issue", object_type="person", object_id=person_id,
                dose_id=made.dose_id)
    qr = base64.b64encode(hc1.qr_png(made.hc1, QR_SCALE)).decode("ascii")
    return render_template("vaccinations/certificate.html", who=who, made=made, qr=qr,
                           dose=made.hcert["v"][0])


@bp.route("/certificates/verify", methods=["GET", "POST"])
@public
def verify_page():
    """Paste a certificate's text: valid or not, why, and what it holds."""
    form = VerifyForm()
    result = None
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("vaccinations/verify.html", form=form), 422
        ctx = context()
        try:
            trusted = trusted_keys(ctx.settings.certificate_signer_path)
        except SignerUnavailable as error:
            return render_template("vaccinations/verify.html", form=form,
                                   error=str(error)), 503
        result = verify(form.hc1.data, trusted, ctx.clock.now())
        audit_event("certificate.verify", result=result.reason)
    return render_template("vaccinations/verify.html", form=form, result=result)


@bp.get("/certificates/signer.pem")
@public
def signer_certificate():
    """The document-signer certificate (public), for verifiers."""
    try:
        pem = signer_pem()
    except SignerUnavailable:
        abort(404)
    return Response(pem, mimetype="application/x-pem-file",
                    headers={"Content-Disposition": "attachment; filename=callengine-dsc.pem"})


# --- workbook upload -------------------------------------------------------------------------

def _errors_root() -> Path:
    return context().settings.data_dir / "imports" / ERRORS_FOLDER


def _forget_old_error_books() -> None:
    """Error workbooks hold personal data: kept only as long as an import preview."""
    root, ttl = _errors_root(), context().settings.import_preview_ttl
    for folder in root.glob("*") if root.is_dir() else ():
        if time.time() - folder.stat().st_mtime > ttl:
            shutil.rmtree(folder, ignore_errors=True)


def _import_upload(upload) -> tuple[RecordReport, str | None]:
    """Check, store (privately, for the read), import; the error workbook's token, if any."""
    ctx = context()
    data = upload.read()
    name = display_name(upload.filename or "")
    limits = Limits.from_settings(ctx.settings)
    check_request([(name, len(data))], limits)
    check_archive(name, data, limits)
    token = secrets.token_urlsafe(16)
    folder = _errors_root() / token
    sources = save_uploads(folder, [(name, data)])
    try:
        report = import_doses(ctx.db, sources, settings=ctx.settings, now=ctx.clock.now(),
                              actor=actor().username)
    finally:
        for source in sources:
            source.path.unlink(missing_ok=True)
    if not report.errors:
        shutil.rmtree(folder, ignore_errors=True)
        return report, None
    write_error_workbook(report, folder / "errors.xlsx")
    return report, token


@bp.route("/vaccinations/import", methods=["GET", "POST"])
@STAFF
def upload():
    """Upload a dose workbook: imported at once (one transaction), then the report."""
    form = DoseUploadForm()
    if request.method == "GET":
        return render_template("vaccinations/import.html", form=form)
    _forget_old_error_books()
    if not form.validate_on_submit() or not form.file.data:
        problems = [_("Choose a workbook to import.")]
        return render_template("vaccinations/import.html", form=form, problems=problems), 422
    try:
        report, token = _import_upload(form.file.data)
    except UploadRefused as refused:
        status = 413 if refused.code == "too_large" else 422
        return render_template("vaccinations/import.html", form=form,
                               problems=refused.problems), status
    except UnreadableFiles as unreadable:
        return render_template("vaccinations/import.html", form=form,
                               problems=[str(p) for p in unreadable.problems]), 422
    audit_event("vaccination.import", created=report.counts.get("created", 0),
                rejected=report.rejected)
    return render_template("vaccinations/import.html", form=DoseUploadForm(), report=report,
                           token=token)


@bp.get("/vaccinations/import/<token>/errors.xlsx")
@STAFF
def error_workbook(token: str):
    """The rejected rows of an upload, as they were, with the reasons."""
    path = _errors_root() / token / "errors.xlsx"
    if not token.replace("-", "").replace("_", "").isalnum() or not path.is_file():
        abort(404)
    audit_event("vaccination.errors_download")
    return xlsx_download(path.read_bytes(), "loi-tiem-chung.xlsx")


@bp.get("/vaccinations/coverage.<fmt>")
@STAFF
def coverage_export(fmt: str):
    """Coverage by commune and age band, today, as xlsx or CSV."""
    if fmt not in FORMATS:
        abort(404)
    day = local_today()
    out = io.BytesIO()
    write_coverage(coverage_by_commune(context().db, day), day, fmt, out)
    audit_event("vaccination.coverage_export", format=fmt)
    name = f"tiem-chung-{day.isoformat()}.{fmt}"
    if fmt == "xlsx":
        return xlsx_download(out, name)
    out.seek(0)
    return send_file(out, mimetype="text/csv", as_attachment=True, download_name=name,
                     max_age=0)


@bp.app_context_processor
def _vaccination_helpers():
    return {"age_bands": AGE_BANDS, "age_band_labels": AGE_BAND_LABELS,
            "dose_field_labels": FIELD_LABELS}
