"""The supervisors' flags: the queue (urgent first, then the oldest), one flag's page with
its call's answers and recordings, assigning, and recording what was done.

Filters are codes and places only (nothing personal goes in the query string); pages are
keyset cursors from the service. Every action carries the flag's version: of two
supervisors acting at once, the second is shown the flag as it is now (HTTP 409).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from callengine.casework.errors import (
    FlagConflict,
    InvalidRequest,
    NotAllowedNow,
    NotFound,
)
from callengine.casework.flag_actions import ACTIONS, MAX_NOTE, act, assign
from callengine.casework.flag_detail import flag_detail
from callengine.casework.flag_queue import FlagFilters, flag_counts, flag_queue
from callengine.casework.labels import (
    ACTION_LABELS,
    ANSWER_LABELS,
    EFFECT_LABELS,
    FLAG_KIND_LABELS,
    FLAG_STATUS_LABELS,
    SOURCE_LABELS,
    age_label,
    label,
)
from callengine.phones import InvalidPhone
from admin.access import roles_required
from admin.choices import options
from admin.context import audit_event, call_window, context, questionnaire
from admin.forms import whole_number
from admin.record_links import record_page

bp = Blueprint("flags", __name__, url_prefix="/flags")
SUPERVISOR = roles_required("supervisor")
PAGE_SIZE = 50
AGES = {"1h": timedelta(hours=1), "4h": timedelta(hours=4), "1d": timedelta(days=1),
        "3d": timedelta(days=3)}


class QueueFilterForm(FlaskForm):
    """The queue's filters, read from the query string (codes and places only)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), default="open", choices=options(
        [("open", _l("Open")), ("closed", _l("Closed"))]))
    kind = SelectField(_l("Type"), choices=options([("", _l("Every type"))]
                                                   + list(FLAG_KIND_LABELS.items())),
                       default="")
    district = StringField(_l("District"), [Length(max=100)])
    commune = StringField(_l("Commune"), [Length(max=100)])
    age = SelectField(_l("Older than"), default="", choices=options([
        ("", _l("Any age")), ("1h", _l("1 hour")), ("4h", _l("4 hours")),
        ("1d", _l("1 day")), ("3d", _l("3 days"))]))
    mine = BooleanField(_l("Assigned to me"))
    urgent = BooleanField(_l("Urgent only"))

    def filters(self, username: str) -> FlagFilters:
        """The service's filters; anything not a known choice counts as no filter."""
        return FlagFilters(
            status=self.status.data if self.status.data in ("open", "closed") else "open",
            kind=self.kind.data if self.kind.data in FLAG_KIND_LABELS else None,
            district=(self.district.data or "").strip() or None,
            commune=(self.commune.data or "").strip() or None,
            older_than=AGES.get(self.age.data or ""),
            assigned_to=username if self.mine.data else None,
            urgent=True if self.urgent.data else None)


class AssignForm(FlaskForm):
    version = HiddenField(validators=[InputRequired()])
    back = HiddenField()  # the queue's page to return to (a local /flags path)


class ActForm(FlaskForm):
    version = HiddenField(validators=[InputRequired()])
    action = SelectField(_l("What was done"), choices=options(
        (code, ACTION_LABELS[code]) for code in ACTIONS))
    note = TextAreaField(_l("Note"), [Optional(), Length(max=MAX_NOTE)])
    phone = StringField(_l("New phone number (only for “Number corrected”)"),
                        [Optional(), Length(max=40)])


def _safe_back(target: str | None) -> str:
    """A return address inside the queue, never another site."""
    if target and target.startswith("/flags") and "//" not in target and "\\" not in target:
        return target
    return url_for("flags.queue")


@bp.get("")
@SUPERVISOR
def queue():
    """One page of the queue: urgent flags first, then the oldest."""
    form = QueueFilterForm(request.args)
    ctx = context()
    try:
        page = flag_queue(ctx.db, form.filters(current_user.username),
                          after=request.args.get("after") or None, limit=PAGE_SIZE,
                          now=ctx.clock.now())
    except InvalidRequest:
        abort(400)  # a cursor or filter this page did not make
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "after" and v}
    return render_template(
        "flags/queue.html", form=form, rows=page.items, counts=flag_counts(ctx.db),
        next_url=url_for("flags.queue", after=page.next, **args) if page.next else None,
        first_url=url_for("flags.queue", **args) if request.args.get("after") else None,
        here=request.full_path.rstrip("?"), assign_form=AssignForm(), labels=_labels())


def _labels() -> dict:
    return {"kind": lambda code: label(FLAG_KIND_LABELS, code),
            "status": lambda code: label(FLAG_STATUS_LABELS, code),
            "action": lambda code: label(ACTION_LABELS, code),
            "effect": lambda code: label(EFFECT_LABELS, code),
            "answer": lambda code: label(ANSWER_LABELS, code),
            "source": lambda code: label(SOURCE_LABELS, code),
            "detail": questionnaire().describe,
            "age": age_label}


def _detail_or_404(flag_id: int):
    try:
        return flag_detail(context().db, flag_id, questionnaire())
    except NotFound:
        abort(404)


def _flag_page(flag_id: int, form: ActForm | None = None, status: int = 200,
               problem: str | None = None, conflict=None):
    flag = _detail_or_404(flag_id)
    form = form or ActForm()
    if conflict is not None or not form.is_submitted():
        form.version.data = str(flag.version)  # act on the flag as it is shown now
    person_link = (url_for("people.detail", person_id=flag.person.id)
                   if "people.detail" in current_app.view_functions else None)
    page = render_template("flags/detail.html", flag=flag, form=form, problem=problem,
                           conflict=conflict, person_link=person_link,
                           record_link=record_page(flag.reference),
                           assign_form=AssignForm(version=flag.version), labels=_labels(),
                           now=context().clock.now())
    return page, status


@bp.get("/<int:flag_id>")
@SUPERVISOR
def detail(flag_id: int):
    """One flag: the person, the call's answers with their recordings, the history."""
    page = _flag_page(flag_id)
    audit_event("flag.view", object_type="flag", object_id=flag_id)
    return page


@bp.post("/<int:flag_id>/assign")
@SUPERVISOR
def take(flag_id: int):
    """The signed-in supervisor takes the flag on."""
    form = AssignForm()
    if not form.validate_on_submit() or whole_number(form.version.data) is None:
        abort(400)
    ctx = context()
    try:
        assign(ctx.db, flag_id, current_user.username, int(form.version.data),
               ctx.clock.now())
    except NotFound:
        abort(404)
    except (FlagConflict, NotAllowedNow) as error:
        flash(str(error), "error")
    else:
        audit_event("flag.assign", object_type="flag", object_id=flag_id)
        flash(_("Flag #%(id)d is assigned to you.", id=flag_id), "success")
    return redirect(_safe_back(form.back.data) if form.back.data else
                    url_for("flags.detail", flag_id=flag_id))


@bp.post("/<int:flag_id>/act")
@SUPERVISOR
def record_action(flag_id: int):
    """Record what was done about the flag and apply its effect on the engine."""
    form = ActForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors or form.version.errors:
            abort(400)
        return _flag_page(flag_id, form, 400)
    if whole_number(form.version.data) is None:
        abort(400)
    ctx = context()
    try:
        result = act(ctx.db, flag_id, form.action.data, form.note.data, current_user.username,
                     int(form.version.data), ctx.clock.now(), call_window(),
                     phone=form.phone.data or None)
    except NotFound:
        abort(404)
    except FlagConflict as error:
        return _flag_page(flag_id, form, 409, str(error), error.current)
    except NotAllowedNow as error:
        return _flag_page(flag_id, form, 409, str(error))
    except (InvalidRequest, InvalidPhone) as error:
        return _flag_page(flag_id, form, 400, str(error))
    audit_event("flag.act", object_type="flag", object_id=flag_id,
                flag_action=form.action.data)
    flash(_("Flag #%(id)d: %(message)s", id=flag_id, message=result.message), "success")
    return redirect(url_for("flags.queue"))
