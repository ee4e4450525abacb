"""Staff import the CDC's lists: upload, preview, error workbook, commit or discard, history.

Everything goes through `callengine.importer.staged` (the preview is stored; its commit is the
import service's one transaction) and `importer.history`. The preview's id is an unguessable
token, not personal data, so it may sit in the path.
"""

from __future__ import annotations

import secrets
from typing import Sequence

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from callengine.importer import staged
from callengine.importer.categories import CATEGORIES
from callengine.importer.history import history
from callengine.importer.limits import UploadRefused
from callengine.importer.service import UnreadableFiles
from admin import metrics as admin_metrics
from admin.access import roles_required
from admin.choices import options
from admin.context import actor, audit_event, context, local_today
from admin.downloads import xlsx_download
from admin.forms import CATEGORY_NAMES, ActionForm, UploadForm
from admin.upload_progress import upload_progress

bp = Blueprint("imports", __name__, url_prefix="/imports")
STAFF = roles_required("staff", "supervisor")  # staff, supervisors and admins
HISTORY_PAGE = 25
OBJECT = "import_preview"


def refusal_status(error: UploadRefused | UnreadableFiles) -> int:
    """413 for an upload over a size limit, 422 for a wrong type or an unreadable file."""
    return 413 if getattr(error, "code", "") == "too_large" else 422


def problems_of(error: UploadRefused | UnreadableFiles) -> list[str]:
    """One line per problem, in the importer's words."""
    if isinstance(error, UploadRefused):
        return error.problems
    return [str(problem) for problem in error.problems]


def stage_upload(uploads, *, list_date, category, on_progress=None) -> staged.Preview:
    """Stage an upload as the current user, and record it in the audit log."""
    ctx = context()
    preview = staged.stage(ctx.db, uploads, list_date=list_date, category=category,
                           actor=actor().username, now=ctx.clock.now(), settings=ctx.settings,
                           on_progress=on_progress)
    audit_event("import.stage", object_type=OBJECT, object_id=preview.id,
                files=len(preview.files), rows=preview.report["rows"],
                rejected=preview.report["rejected"])
    return preview


def commit_preview(preview_id: str):
    """Commit a preview as the current user (StalePreview, PreviewNotFound), audited."""
    ctx = context()
    report = staged.commit(ctx.db, preview_id, actor=actor().username, now=ctx.clock.now(),
                           settings=ctx.settings)
    audit_event("import.commit", object_type=OBJECT, object_id=preview_id,
                created=report.created, updated=report.updated, rejected=report.rejected)
    admin_metrics.current().imported(report.rows - report.rejected - report.skipped,
                                     report.rejected)
    return report


def _form() -> UploadForm:
    form = UploadForm(list_date=local_today())
    form.category.choices = options([("", _("From the sheet"))]
                                    + [(c, str(CATEGORY_NAMES[c])) for c in CATEGORIES])
    return form


def _with_new_job(form: UploadForm) -> UploadForm:
    form.job.data = secrets.token_urlsafe(16)  # a new progress key for each try
    return form


def _index_page(form: UploadForm, problems: Sequence[str] = (), status: int = 200):
    _with_new_job(form)
    try:
        after = int(request.args["after"]) if request.args.get("after") else None
    except ValueError:
        abort(400)
    page = history(context().db, after=after, limit=HISTORY_PAGE)
    next_url = url_for("imports.index", after=page.next, _anchor="history") if page.next \
        else None
    return render_template("imports/index.html", form=form, problems=problems,
                           imports=page.items, next_url=next_url, first=after is None,
                           categories=CATEGORY_NAMES), status


@bp.get("")
@STAFF
def index():
    """The upload form and the history of imports."""
    return _index_page(_form())


def _uploads(form: UploadForm) -> list[tuple[str, bytes]]:
    return [(f.filename or "", f.read()) for f in (form.files.data or []) if f.filename]


@bp.post("")
@STAFF
def upload():
    """Stage the uploaded files and show their preview; nothing is imported yet."""
    form = _form()
    uploads = _uploads(form)
    if not form.validate() or not uploads:
        if not uploads:
            form.files.errors = [_("Choose at least one file.")]
        return _index_page(form, status=400)
    job = form.job.data or None  # validated: a random key or nothing
    progress = upload_progress()
    listener = progress.listener(job, actor().user_id) if job else None
    try:
        preview = stage_upload(uploads, list_date=form.list_date.data,
                               category=form.category.data or None, on_progress=listener)
    except (UploadRefused, UnreadableFiles) as error:
        return _index_page(form, problems_of(error), refusal_status(error))
    finally:
        if job:
            progress.finish(job, actor().user_id)
    return redirect(url_for("imports.preview", preview_id=preview.id))


@bp.get("/progress/<job>")
@STAFF
def progress(job: str):
    """How far the server has read the upload with this key (for the waiting page's script)."""
    return jsonify(upload_progress().status(job, actor().user_id))


def _preview_or_404(preview_id: str) -> staged.Preview:
    try:
        return staged.get_preview(context().db, preview_id)
    except staged.PreviewNotFound:
        abort(404)


def _preview_page(preview_id: str, refusal: str | None = None, status: int = 200):
    preview = _preview_or_404(preview_id)
    audit_event("import.view", object_type=OBJECT, object_id=preview.id)
    return render_template("imports/preview.html", preview=preview, report=preview.report,
                           refusal=refusal, categories=CATEGORY_NAMES), status


@bp.get("/<preview_id>")
@STAFF
def preview(preview_id: str):
    """What committing the upload would do, with every rejected row and its reason."""
    return _preview_page(preview_id)


def _checked_button() -> None:
    if not ActionForm().validate_on_submit():
        abort(400)


@bp.post("/<preview_id>/commit")
@STAFF
def commit(preview_id: str):
    """Import the preview in one transaction, or say why it can no longer be (409)."""
    _checked_button()
    try:
        report = commit_preview(preview_id)
    except staged.PreviewNotFound:
        abort(404)
    except staged.StalePreview as error:
        return _preview_page(preview_id, str(error), 409)
    flash(_("The list is imported: %(created)d new, %(updated)d updated, %(unchanged)d "
            "unchanged, %(rejected)d rejected.", created=report.created,
            updated=report.updated, unchanged=report.unchanged, rejected=report.rejected),
          "success")
    return redirect(url_for("imports.index", _anchor="history"))


@bp.post("/<preview_id>/discard")
@STAFF
def discard(preview_id: str):
    """Withdraw the preview and delete its files."""
    _checked_button()
    ctx = context()
    try:
        staged.discard(ctx.db, preview_id, actor=actor().username, now=ctx.clock.now(),
                       settings=ctx.settings)
    except staged.PreviewNotFound:
        abort(404)
    except staged.StalePreview as error:
        return _preview_page(preview_id, str(error), 409)
    audit_event("import.discard", object_type=OBJECT, object_id=preview_id)
    flash(_("The preview was discarded; nothing was imported."), "success")
    return redirect(url_for("imports.index"))


@bp.get("/<preview_id>/errors.xlsx")
@STAFF
def errors(preview_id: str):
    """The error workbook: the rejected rows as they were, plus a reason column."""
    ctx = context()
    try:
        data = staged.error_workbook(ctx.db, preview_id, settings=ctx.settings)
        list_date = staged.get_preview(ctx.db, preview_id).list_date
    except staged.PreviewNotFound:
        abort(404)
    except staged.StalePreview as error:
        return _preview_page(preview_id, str(error), 409)
    audit_event("import.errors_download", object_type=OBJECT, object_id=preview_id)
    return xlsx_download(data, f"so-loi-{list_date.isoformat()}.xlsx")
