"""Samples and results: the list (filters: result, day, site; phones masked), the entry form,
a sample's page with its result form (a positive asks for confirmation), and the upload of
sampling teams' and labs' workbooks (preview, then import, with the error workbook).

Staff enter samples and results; supervisors see them. Every view goes through
`callengine.health` (the same services as the CLI and the API) and is audited. Sample codes
are personal: pages name samples by id, codes travel in POST bodies only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields import DateTimeLocalField
from wtforms.validators import InputRequired, Length, Optional

from callengine.casework.errors import CaseworkError, NotAllowedNow, NotFound
from callengine.health import uploads as record_uploads
from callengine.health.imports import RESULT_COUNT_LABELS, SAMPLE_COUNT_LABELS
from callengine.health.labels import RESULT_LABELS, SAMPLE_KIND_LABELS
from callengine.health.results import NewResult, enter_result
from callengine.health.samples import (
    NewSample,
    PersonRef,
    SampleFilters,
    get_sample,
    list_samples,
    pool_of_member,
    register_sample,
)
from callengine.importer.limits import UploadRefused
from callengine.importer.records import InvalidValue
from callengine.importer.service import UnreadableFiles
from callengine.paging import InvalidCursor
from callengine.phones import InvalidPhone, normalize_phone
from callengine.store.samples import IMPORT_RESULTS, IMPORT_SAMPLES, KIND_POOLED, RESULT_POSITIVE
from admin.access import roles_required
from admin.choices import labels, options
from admin.context import actor, audit_event, context
from admin.downloads import xlsx_download
from admin.forms import whole_number
from admin.imports import problems_of, refusal_status
from admin.record_links import RECORD_PAGES

bp = Blueprint("samples", __name__, url_prefix="/samples")
RECORD_PAGES["sample"] = ("samples.detail", "sample_id")  # a positive result's flag
RECORD_PAGES["pool-member"] = ("samples.member", "member_id")  # a re-test flag
SEE = roles_required("staff", "supervisor")
ENTER = roles_required("staff")
PAGE_SIZE = 50
UPLOAD_KEY = "samples.upload"  # the session keeps the id of the upload being previewed
RESULT_FILTERS = {**RESULT_LABELS, "none": "Chưa có kết quả"}


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    result = SelectField(_l("Result"), default="",
                         choices=options([("", _l("Every result"))] + list(RESULT_FILTERS.items())))
    day = DateField(_l("Day taken"), [Optional()])
    site = StringField(_l("Site"), [Optional(), Length(max=100)])


class SampleForm(FlaskForm):
    code = StringField(_l("Sample code"), [InputRequired(), Length(max=60)])
    kind = SelectField(_l("Type"), choices=options(SAMPLE_KIND_LABELS.items()))
    taken_at = DateTimeLocalField(_l("Taken at"), [InputRequired()], format="%Y-%m-%dT%H:%M")
    person_id = StringField(_l("Person number (if already known)"), [Optional(),
                                                                      Length(max=19)])
    phone = StringField(_l("Phone"), [Optional(), Length(max=40)])
    full_name = StringField(_l("Full name"), [Optional(), Length(max=200)])
    members = TextAreaField(_l("Pooled sample: one person per line, “phone, full name”"),
                            [Optional(), Length(max=4000)])
    site = StringField(_l("Sampling site"), [Optional(), Length(max=200)])
    team = StringField(_l("Sampling team"), [Optional(), Length(max=100)])


class ResultForm(FlaskForm):
    result = SelectField(_l("Result"), choices=options(RESULT_LABELS.items()))
    ct_value = StringField(_l("Ct value"), [Optional(), Length(max=10)])
    result_at = DateTimeLocalField(_l("Reported at"), [Optional()], format="%Y-%m-%dT%H:%M")
    confirmed = BooleanField(_l("I have checked: this sample is positive"))


class UploadForm(FlaskForm):
    kind = SelectField(_l("Workbook"), choices=options([
        (IMPORT_SAMPLES, _l("Samples (sampling team)")),
        (IMPORT_RESULTS, _l("Results (laboratory)"))]))
    file = FileField(_l("File (.xlsx, .xls, .csv)"))


class CommitForm(FlaskForm):
    upload = HiddenField(validators=[InputRequired()])


def _zone() -> ZoneInfo:
    return ZoneInfo(context().settings.timezone)


def _aware(local: datetime | None) -> datetime | None:
    return local.replace(tzinfo=_zone()) if local else None


def _labels() -> dict:
    return {"kind": SAMPLE_KIND_LABELS, "result": RESULT_FILTERS,
            "local": lambda moment: moment.astimezone(_zone()).strftime("%d/%m/%Y %H:%M")}


@bp.get("")
@SEE
def index():
    """Samples, newest first, filtered by result, day and site."""
    form = FilterForm(request.args)
    form.validate()
    filters = SampleFilters(
        result=form.result.data or None, day=form.day.data if not form.day.errors else None,
        site=(form.site.data or "").strip() or None)
    try:
        page = list_samples(context().db, filters, context().settings.timezone,
                            cursor=request.args.get("after") or None, limit=PAGE_SIZE)
    except InvalidCursor:
        abort(400)
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "after" and v}
    audit_event("samples.list", shown=len(page.items))
    return render_template(
        "samples/index.html", form=form, rows=page.items, labels=_labels(),
        next_url=url_for("samples.index", after=page.next, **args) if page.next else None)


def _person_ref(phone: str, full_name: str, person_id: str = "") -> PersonRef | None:
    if person_id:
        number = whole_number(person_id)
        if number is None:
            raise InvalidValue(_("The person number is not a number."))
        return PersonRef(person_id=number)
    if not phone:
        return None
    return PersonRef(phone=normalize_phone(phone), full_name=full_name)


def _members(text: str) -> tuple[PersonRef, ...]:
    refs = []
    for line in (text or "").splitlines():
        phone, _sep, name = line.partition(",")
        if phone.strip() and (ref := _person_ref(phone.strip(), name.strip())) is not None:
            refs.append(ref)  # always: a phone was given
    return tuple(refs)


def _new_sample(form: SampleForm) -> NewSample:
    pooled = form.kind.data == KIND_POOLED
    taken_at = _aware(form.taken_at.data)
    assert taken_at is not None  # the field is InputRequired
    return NewSample(
        code=form.code.data or "", kind=form.kind.data,
        taken_at=taken_at,
        person=None if pooled else _person_ref((form.phone.data or "").strip(),
                                               form.full_name.data or "",
                                               (form.person_id.data or "").strip()),
        members=_members(form.members.data) if pooled else (),
        site=form.site.data, team=form.team.data)


@bp.route("/new", methods=["GET", "POST"])
@ENTER
def new():
    """Register one sample."""
    form = SampleForm()
    if request.method == "GET":
        return render_template("samples/new.html", form=form)
    if not form.validate_on_submit():
        return render_template("samples/new.html", form=form), 422
    try:
        sample = register_sample(context().db, _new_sample(form), actor=actor().username,
                                 now=context().clock.now())
    except (InvalidValue, InvalidPhone, CaseworkError) as error:
        status = 409 if isinstance(error, NotAllowedNow) else 422
        return render_template("samples/new.html", form=form, error=str(error)), status
    audit_event("sample.create", object_type="sample", object_id=sample.id, kind=sample.kind)
    flash(_("The sample was registered."), "success")
    return redirect(url_for("samples.detail", sample_id=sample.id), 303)


def _sample_page(sample_id: int, form: ResultForm | None = None, status: int = 200,
                 error: str | None = None, confirm: bool = False):
    try:
        sample = get_sample(context().db, sample_id)
    except NotFound:
        abort(404)
    return render_template("samples/detail.html", sample=sample, form=form or ResultForm(),
                           labels=_labels(), error=error, confirm=confirm), status


@bp.get("/<int:sample_id>")
@SEE
def detail(sample_id: int):
    """A sample, its result (or the form to enter it) and a pool's members."""
    page = _sample_page(sample_id)
    audit_event("sample.view", object_type="sample", object_id=sample_id)
    return page


@bp.get("/members/<int:member_id>")
@SEE
def member(member_id: int):
    """A member of a pooled sample (a re-test flag's record): the pool's page."""
    try:
        pool_id = pool_of_member(context().db, member_id)
    except NotFound:
        abort(404)
    return redirect(url_for("samples.detail", sample_id=pool_id))


def _ct(text: str | None) -> float | None:
    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidValue(_("The Ct value must be a number.")) from None


@bp.post("/<int:sample_id>/result")
@ENTER
def record_result(sample_id: int):
    """Enter a result; a positive one only once confirmed (it makes the person F0)."""
    form = ResultForm()
    if not form.validate_on_submit():
        return _sample_page(sample_id, form, 422)
    if form.result.data == RESULT_POSITIVE and not form.confirmed.data:
        return _sample_page(sample_id, form, 200, confirm=True)
    ctx = context()
    try:
        new = NewResult(form.result.data, _ct(form.ct_value.data), _aware(form.result_at.data))
        outcome = enter_result(ctx.db, sample_id, new, actor=actor().username,
                               now=ctx.clock.now(), settings=ctx.settings)
    except NotFound:
        abort(404)
    except (InvalidValue, CaseworkError) as error:
        status = 409 if isinstance(error, NotAllowedNow) else 422
        return _sample_page(sample_id, form, status, str(error))
    audit_event("sample.result", object_type="sample", object_id=sample_id,
                result=outcome.result, became_f0=outcome.became_f0, retests=outcome.retests)
    flash(_result_message(outcome), "success")
    return redirect(url_for("samples.detail", sample_id=sample_id), 303)


def _result_message(outcome) -> str:
    if outcome.became_f0:
        return _("Result recorded. The person is now F0: %(count)d pending call(s) cancelled "
                 "and an urgent flag raised.", count=outcome.calls_cancelled)
    if outcome.retests:
        return _("Result recorded. %(count)d member(s) of the pool must be re-tested and were "
                 "flagged.", count=outcome.retests)
    return _("Result recorded.")


# --- workbook uploads -----------------------------------------------------------------------


def _upload_page(form: UploadForm, staged=None, problems=(), status: int = 200):
    counts = None
    if staged is not None:
        names = SAMPLE_COUNT_LABELS if staged.kind == IMPORT_SAMPLES else RESULT_COUNT_LABELS
        counts = [(names.get(k, k), v) for k, v in staged.report.counts.items()]
    return render_template("samples/upload.html", form=form, staged=staged, counts=counts,
                           problems=problems, commit_form=CommitForm(
                               upload=staged.id if staged else ""), kinds=labels(
                               form.kind.choices)), status


@bp.get("/upload")
@ENTER
def upload_form():
    """The upload form for sample and result workbooks."""
    return _upload_page(UploadForm())


@bp.post("/upload")
@ENTER
def upload():
    """Keep the workbook and show what importing it would do (nothing written yet)."""
    form = UploadForm()
    data = form.file.data
    if not form.validate_on_submit() or not data or not data.filename:
        form.file.errors = [_("Choose a file.")]
        return _upload_page(form, status=400)
    ctx = context()
    try:
        staged = record_uploads.stage(ctx.db, ctx.settings, form.kind.data,
                                      [(data.filename, data.read())], now=ctx.clock.now(),
                                      actor=actor().username)
    except (UploadRefused, UnreadableFiles) as error:
        return _upload_page(form, problems=problems_of(error), status=refusal_status(error))
    session[UPLOAD_KEY] = staged.id
    audit_event("samples.upload_stage", object_type="record_upload", object_id=staged.id,
                kind=staged.kind, rows=staged.report.rows, rejected=staged.report.rejected)
    return _upload_page(form, staged)


@bp.post("/upload/commit")
@ENTER
def upload_commit():
    """Import the previewed workbook in one transaction."""
    form = CommitForm()
    upload_id = form.upload.data if form.validate_on_submit() else None
    if not upload_id or session.get(UPLOAD_KEY) != upload_id:
        abort(400)
    ctx = context()
    try:
        staged = record_uploads.commit(ctx.db, ctx.settings, upload_id, now=ctx.clock.now(),
                                       actor=actor().username)
    except NotFound:
        abort(404)
    except NotAllowedNow as error:
        return _upload_page(UploadForm(), problems=[str(error)], status=409)
    audit_event("samples.upload_commit", object_type="record_upload", object_id=upload_id,
                kind=staged.kind, **staged.report.counts,  # type: ignore[arg-type]  # no "who"
                rejected=staged.report.rejected)
    flash(_("The workbook was imported."), "success")
    return _upload_page(UploadForm(kind=staged.kind), staged)


@bp.get("/upload/<upload_id>/errors.xlsx")
@ENTER
def upload_errors(upload_id: str):
    """The rejected rows as they were, with a reason column."""
    if session.get(UPLOAD_KEY) != upload_id:
        abort(404)
    try:
        data = record_uploads.error_workbook(context().settings, upload_id)
    except NotFound:
        abort(404)
    audit_event("samples.upload_errors", object_type="record_upload", object_id=upload_id)
    return xlsx_download(data, "so-loi-mau-xet-nghiem.xlsx")
