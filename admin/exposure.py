"""The supervisor's review of a case's contacts: the window, the venues, the candidates to
tick and edit, household members to add, then a confirmation step and the enrolment.

Reached from the case's person page and from the positive result's flag. Review ids only in
URLs; names and phones travel in POST bodies. Confirming carries the review's version: of two
supervisors at once, the second is refused (HTTP 409).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from callengine.casework.errors import CaseworkError, InvalidRequest, NotFound
from callengine.casework.labels import CATEGORY_LABELS, PERSON_STATUS_LABELS, label
from callengine.clock import to_db
from callengine.health.confirm import confirm_exposure
from callengine.health.exposure import (
    ReviewConflict,
    case_and_review,
    change_window,
    exposure_of_review,
    get_review,
    open_manual_review,
    review_for_flag,
)
from callengine.store.exposure import REVIEW_OPEN
from admin.access import roles_required
from admin.context import audit_event, context
from admin.exposure_form import (
    BLANK_F2_ROWS,
    Draft,
    contacts_by_ref,
    draft_from_form,
    draft_of,
)
from admin.forms import whole_number

bp = Blueprint("exposure", __name__, url_prefix="/exposure")
SUPERVISOR = roles_required("supervisor")
_LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # <input type="datetime-local">


def _local(moment: datetime) -> str:
    """A stored (naive UTC) moment as a datetime-local input's value."""
    tz = ZoneInfo(context().settings.timezone)
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(tz).strftime(_LOCAL_INPUT)


def _stored(text: str | None, what: str) -> datetime:
    """A datetime-local input's value (local time) as the database stores it."""
    try:
        local = datetime.strptime((text or "").strip(), _LOCAL_INPUT)
    except ValueError:
        raise InvalidRequest(_("%(what)s: not a date and time (dd/mm/yyyy hh:mm).",
                               what=what)) from None
    return to_db(local.replace(tzinfo=ZoneInfo(context().settings.timezone)))


def _version() -> int:
    version = whole_number(request.form.get("version"))
    if version is None:
        abort(400)
    return version


def _page(review_id: int, draft: Draft | None = None, problem: str | None = None,
          status: int = 200, template: str = "exposure/review.html"):
    ctx = context()
    with ctx.db.session() as s:
        try:
            review = get_review(s, review_id)
        except NotFound:
            abort(404)
        exposure = exposure_of_review(s, review, ctx.settings)
        case = review.person
        draft = draft or draft_of(exposure, review.version)
    return render_template(
        template, review=review, exposure=exposure, case=case, draft=draft, problem=problem,
        by_ref=contacts_by_ref(exposure),
        is_open=review.status == REVIEW_OPEN, window_start=_local(review.window_start),
        window_end=_local(review.window_end),
        labels={"category": lambda c: label(CATEGORY_LABELS, c) if c else "",
                "status": lambda c: label(PERSON_STATUS_LABELS, c)}), status


@bp.get("/<int:review_id>")
@SUPERVISOR
def review(review_id: int):
    """The review: window, venues, candidates ticked by default, rows for household members."""
    page = _page(review_id)
    audit_event("exposure.view", object_type="exposure_review", object_id=review_id)
    return page


@bp.post("/<int:review_id>/window")
@SUPERVISOR
def window(review_id: int):
    """A supervisor's own window; the candidates are computed again for it."""
    ctx = context()
    try:
        with ctx.db.session() as s:
            start = _stored(request.form.get("start"), _("From"))
            end = _stored(request.form.get("end"), _("To"))
            change_window(s, get_review(s, review_id), start=start, end=end,
                          version=_version())
    except NotFound:
        abort(404)
    except ReviewConflict as error:
        return _page(review_id, problem=str(error), status=409)
    except InvalidRequest as error:
        return _page(review_id, problem=str(error), status=422)
    audit_event("exposure.window", object_type="exposure_review", object_id=review_id)
    flash(_("The window is changed; the candidates are computed for it."), "success")
    return redirect(url_for("exposure.review", review_id=review_id), 303)


@bp.post("/<int:review_id>/check")
@SUPERVISOR
def check(review_id: int):
    """More rows for household members, or the confirmation step: who will be enrolled."""
    draft = draft_from_form(request.form, _version())
    if request.form.get("action") == "more":
        return _page(review_id, draft.with_blank_rows(len(draft.f2) + BLANK_F2_ROWS))
    f1, f2 = draft.choices()
    if not f1 and not f2:
        return _page(review_id, draft.with_blank_rows(), _("Nobody is chosen."), 422)
    return _page(review_id, draft, template="exposure/check.html")


@bp.post("/<int:review_id>/confirm")
@SUPERVISOR
def confirm(review_id: int):
    """Enrol the chosen people like an imported list; they are called from tomorrow."""
    draft = draft_from_form(request.form, _version())
    f1, f2 = draft.choices()
    ctx = context()
    try:
        done = confirm_exposure(ctx.db, review_id, f1=f1, f2=f2, actor=current_user.username,
                                now=ctx.clock.now(), settings=ctx.settings,
                                version=draft.version)
    except NotFound:
        abort(404)
    except ReviewConflict as error:
        return _page(review_id, draft.with_blank_rows(), str(error), 409)
    except CaseworkError as error:
        return _page(review_id, draft.with_blank_rows(), str(error), 422)
    audit_event("exposure.confirm", object_type="exposure_review", object_id=review_id,
                batch_id=done.batch_id, f1=done.f1, f2=done.f2)
    flash(_("Confirmed: %(f1)d F1 and %(f2)d F2 are monitored and called from tomorrow "
            "morning (%(created)d new in the register).", f1=done.f1, f2=done.f2,
            created=done.created), "success")
    if done.skipped_cases:
        flash(_("Not enrolled, already F0: %(names)s", names=", ".join(done.skipped_cases)),
              "error")
    return redirect(url_for("exposure.review", review_id=review_id), 303)


@bp.get("/person/<int:person_id>")
@SUPERVISOR
def of_person(person_id: int):
    """The case's review (the open one, else the latest), or a page to open one."""
    ctx = context()
    with ctx.db.session() as s:
        try:
            person, found = case_and_review(s, person_id)
        except NotFound:
            abort(404)
    if found is not None:
        return _to_review(found, person_id)
    audit_event("exposure.view", object_type="person", object_id=person_id)
    return render_template("exposure/none.html", person=person)


@bp.post("/person/<int:person_id>/open")
@SUPERVISOR
def open_review(person_id: int):
    """Open a review by hand for a case (the window ends now)."""
    ctx = context()
    try:
        with ctx.db.session() as s:
            opened = open_manual_review(s, person_id, now=ctx.clock.now(),
                                        actor=current_user.username, settings=ctx.settings)
            review_id = opened.id
    except NotFound:
        abort(404)
    except InvalidRequest as error:
        flash(str(error), "error")
        return redirect(url_for("exposure.of_person", person_id=person_id), 303)
    audit_event("exposure.open", object_type="exposure_review", object_id=review_id)
    return redirect(url_for("exposure.review", review_id=review_id), 303)


@bp.get("/flag/<int:flag_id>")
@SUPERVISOR
def of_flag(flag_id: int):
    """From a positive result's flag to the review its result opened."""
    ctx = context()
    with ctx.db.session() as s:
        try:
            person_id, found = review_for_flag(s, flag_id)
        except NotFound:
            abort(404)
    return _to_review(found, person_id)


def _to_review(found, person_id: int):
    """To the review found, else to the person's page of reviews (where one can be opened)."""
    if found is not None:
        return redirect(url_for("exposure.review", review_id=found.id))
    return redirect(url_for("exposure.of_person", person_id=person_id))

