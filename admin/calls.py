"""`/calls`: the attempt log of a day, newest first, with filters (date, outcome, trunk,
district, server: nothing personal in the query string), paged by the service's keyset cursor.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, ValidationError
from wtforms.validators import Length, Optional

from callengine.labels import OUTCOME_LABELS
from callengine.paging import InvalidCursor
from callengine.reports import CallFilters, calls_log
from admin.access import roles_required
from admin.choices import options
from admin.context import context, local_today

bp = Blueprint("calls", __name__, url_prefix="/calls")
PAGE_SIZE = 50
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")  # the date picker's, and what people type
BAD_DATE = _l("Write the date as dd/mm/yyyy.")
Day = date  # CallFilterForm's "date" field hides the type inside the class


def parse_day(text: str | None) -> date | None:
    """A day from the date picker (2026-11-30) or typed (30/11/2026); None if neither."""
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime((text or "").strip(), pattern).date()
        except ValueError:
            continue
    return None


class CallFilterForm(FlaskForm):
    """The log's filters, read from the query string."""

    class Meta:
        csrf = False

    date = StringField(_l("Date"), [Optional(), Length(max=10, message=BAD_DATE)],
                       render_kw={"type": "date"})
    outcome = SelectField(_l("Outcome"), default="", validate_choice=False,
                          choices=options([("", _l("Every outcome"))]
                                          + list(OUTCOME_LABELS.items())))
    trunk = SelectField(_l("Trunk"), default="", validate_choice=False)
    district = StringField(_l("District"), [Optional(), Length(max=100)])
    server = StringField(_l("Server"), [Optional(), Length(max=64)])

    def validate_date(self, field) -> None:
        if parse_day(field.data) is None:
            raise ValidationError(str(BAD_DATE))

    def filters(self, today: Day, trunks: list[str]) -> CallFilters:
        """The service's filters; an unknown choice counts as no filter."""
        return CallFilters(
            day=parse_day(self.date.data) or today,
            outcome=self.outcome.data if self.outcome.data in OUTCOME_LABELS else None,
            trunk=self.trunk.data if self.trunk.data in trunks else None,
            district=(self.district.data or "").strip() or None,
            server=(self.server.data or "").strip() or None)


def duration(seconds: float | None) -> str:
    """m:ss ('' when the call has not ended)."""
    if seconds is None:
        return ""
    whole = int(round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


@bp.get("")
@roles_required("staff", "supervisor")
def index():
    """One page of the day's attempts."""
    ctx = context()
    trunks = [t.name for t in ctx.settings.trunks]
    form = CallFilterForm(request.args)
    form.trunk.choices = options([("", _("Every trunk"))] + [(name, name) for name in trunks])
    today = local_today(ctx.clock.now())
    valid = form.validate()
    filters = form.filters(today, trunks)
    if not form.date.data:
        form.date.data = (filters.day or today).isoformat()
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "after" and v}
    problem, page = None, None
    if valid:
        try:
            page = calls_log(ctx.db, filters, tz=ctx.settings.timezone,
                             after=request.args.get("after") or None, limit=PAGE_SIZE)
        except InvalidCursor as error:
            problem = str(error)
    person_link = "people.detail" in current_app.view_functions
    body = render_template(
        "calls/index.html", form=form, rows=page.items if page else [], problem=problem,
        day=filters.day, person_link=person_link, duration=duration,
        next_url=url_for("calls.index", after=page.next, **args) if page and page.next else None,
        first_url=url_for("calls.index", **args) if request.args.get("after") else None)
    return body, 200 if valid and problem is None else 400
