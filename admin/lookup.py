"""The residents' result lookup, `/r`: public, Vietnamese, no JavaScript, nothing personal in
the URL. A POST of `phone` and `sample_code` (with its CSRF token) answers with the result in
plain words and what to do; a wrong code and someone else's code get the same page.

Lookups are limited per client address and per phone (counted from the audit log, where the
phone is kept only as a keyed hash): past the limit, a 429 page in Vietnamese.
"""

from __future__ import annotations

from flask import Blueprint, make_response, render_template
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length

from callengine.audit import Actor
from callengine.health.lookup import (
    ANSWER_BAD_PHONE,
    LOOKUP_ACTION,
    LOOKUP_TEXTS,
    LookupQuery,
    lookup,
    phone_key,
)
from callengine.throttle import retry_after
from admin.access import public
from admin.context import audit_event, client_address, context

bp = Blueprint("lookup", __name__)


class LookupForm(FlaskForm):
    phone = StringField("Số điện thoại đã khai khi lấy mẫu", [Length(max=40)])
    sample_code = StringField("Mã mẫu (in trên phiếu lấy mẫu)", [Length(max=60)])


def _page(template: str, status: int = 200, retry: int | None = None, **values):
    response = make_response(render_template(template, **values), status)
    if retry:
        response.headers["Retry-After"] = str(retry)
    return response


@bp.get("/r")
@public
def form():
    """The lookup form."""
    return _page("lookup/form.html", form=LookupForm())


def _wait(phone_hash: str | None) -> int | None:
    ctx = context()
    per_client, per_phone = ctx.settings.lookup_rates
    wait = retry_after(ctx.db, ctx.clock, (LOOKUP_ACTION,), per_client,
                       address=client_address())
    if wait is None and phone_hash is not None:
        wait = retry_after(ctx.db, ctx.clock, (LOOKUP_ACTION,), per_phone, username=phone_hash)
    return wait


@bp.post("/r")
@public
def answer():
    """The result for a phone and a sample code, or the same 'not found' for any mismatch."""
    lookup_form = LookupForm()
    if not lookup_form.validate_on_submit():
        return _page("lookup/form.html", 400, form=lookup_form)
    query = LookupQuery.parse(lookup_form.phone.data or "", lookup_form.sample_code.data or "")
    ctx = context()
    phone_hash = phone_key(ctx.settings.admin_secret_key, query.phone) if query.phone else None
    wait = _wait(phone_hash)
    if wait:
        return _page("lookup/limited.html", 429, wait, minutes=max(1, round(wait / 60)))
    audit_event(LOOKUP_ACTION, who=Actor(None, phone_hash or "", client_address()))
    code = lookup(ctx.db, query)
    if code == ANSWER_BAD_PHONE:
        lookup_form.phone.errors = [LOOKUP_TEXTS[code][1]]
        return _page("lookup/form.html", 422, form=lookup_form)
    title, advice = LOOKUP_TEXTS[code]
    return _page("lookup/answer.html", code=code, title=title, advice=advice)
