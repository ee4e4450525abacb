"""The audit log for admins: filters by user, action and dates; keyset pages."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _

from callengine import audit
from callengine.audit import AuditFilter
from callengine.paging import InvalidCursor
from admin.access import roles_required
from admin.choices import options
from admin.context import context
from admin.forms import AuditFilterForm, whole_number

bp = Blueprint("audit", __name__, url_prefix="/audit")
PAGE_SIZE = 50


def _day(text: str | None) -> date | None:
    """A date from dd/mm/yyyy (as typed) or yyyy-mm-dd."""
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    return None


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(context().settings.timezone))


def _filters(form: AuditFilterForm) -> tuple[AuditFilter, list[str]]:
    problems = []
    since, until = _day(form.since.data), _day(form.until.data)
    for field, parsed in ((form.since, since), (form.until, until)):
        if field.data and parsed is None:
            problems.append(_("%(value)s is not a date like 31/12/2021.", value=field.data))
    user = form.user.data
    return AuditFilter(
        user_id=whole_number(user),
        action=form.action.data or None,
        since=_local_midnight(since) if since else None,
        until=_local_midnight(until + timedelta(days=1)) if until else None,
    ), problems


def _form() -> AuditFilterForm:
    form = AuditFilterForm(request.args)
    ctx = context()
    form.user.choices = options([("", _("Everyone"))] + [
        (str(a.id), a.username) for a in ctx.accounts.list_users()])
    form.action.choices = options([("", _("Every action"))]
                                  + [(a, a) for a in audit.actions(ctx.db)])
    return form


@bp.get("")
@roles_required("admin")
def index():
    """One page of the audit log, newest first."""
    form = _form()
    filters, problems = _filters(form)
    try:
        page = audit.query(context().db, filters, cursor=request.args.get("after"),
                           limit=PAGE_SIZE)
    except InvalidCursor:
        abort(400)
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "after" and v}
    next_url = url_for("audit.index", after=page.next, **args) if page.next else None
    first_url = url_for("audit.index", **args) if request.args.get("after") else None
    return render_template("audit/index.html", form=form, events=page.items,
                           problems=problems, next_url=next_url, first_url=first_url)
