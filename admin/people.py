"""/people: search people, open a person's page, and change a person (phone, monitoring,
a call now). Search terms never reach a URL: the form is posted, the terms and the page
cursors (which hold a name key) stay in the session, and the page number is all a URL says.
"""

from __future__ import annotations

from typing import Any, Callable

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.routing import BuildError

from callengine.casework import labels
from callengine.casework.errors import CaseworkError, NotAllowedNow, NotFound
from callengine.casework.people import PersonFilters, districts, search_people
from callengine.casework.person_actions import (
    PersonChange,
    call_now,
    close_monitoring,
    correct_phone,
    reopen_monitoring,
)
from callengine.casework.person_detail import person_detail
from callengine.phones import InvalidPhone
from admin.access import may_use, roles_required
from admin.context import actor, audit_event, call_window, context, questionnaire
from admin.forms import ActionForm, whole_number
from admin.people_forms import CloseForm, PhoneForm, ReopenForm, SearchForm

bp = Blueprint("people", __name__, url_prefix="/people")
STAFF = roles_required("staff", "supervisor")  # and admins: everyone signed in
SUPERVISOR = roles_required("supervisor")
SESSION_KEY = "people.search"
PAGE_SIZE = 50
MAX_PAGES = 20  # cursors kept in the session cookie; past that, narrow the search


def _url_or_none(endpoint: str, **values: Any) -> str | None:
    """A link to a page another area provides, or None when it is not there or this user's
    role may not open it."""
    if not may_use(endpoint):
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"labels": labels, "label": labels.label,
            "recording_url": lambda a: _url_or_none("recordings.answer", answer_id=a.id)
            if a.audio_path else None,
            "flag_url": lambda f: _url_or_none("flags.detail", flag_id=f.id)}


def _saved() -> dict[str, Any]:
    return session.get(SESSION_KEY) or {"terms": {}, "pages": []}


def _filters(terms: dict[str, str]) -> PersonFilters:
    return PersonFilters(**{name: terms.get(name) or None
                            for name in ("category", "district", "commune", "status")})


def _page_number() -> int:
    raw = request.args.get("page", "1")
    number = whole_number(raw)
    return number if number is not None and 1 <= number <= MAX_PAGES else 0


def _results(form: SearchForm, status: int = 200):
    """The form and one page of the saved search (page N's cursor is in the session)."""
    saved, number = _saved(), _page_number()
    pages = saved["pages"]
    if number == 0 or number - 2 >= len(pages):
        return redirect(url_for("people.search"))
    try:
        found = search_people(context().db, saved["terms"].get("q", ""),
                              _filters(saved["terms"]),
                              after=pages[number - 2] if number > 1 else None,
                              limit=PAGE_SIZE)
    except CaseworkError as error:
        flash(str(error), "error")
        return render_template("people/search.html", form=form, rows=(), number=1), 400
    if found.next and number < MAX_PAGES:
        saved["pages"] = pages[:number - 1] + [found.next]
        session[SESSION_KEY] = saved
    return render_template("people/search.html", form=form, rows=found.items, number=number,
                           more=found.next is not None, last_page=number == MAX_PAGES,
                           searched=any(saved["terms"].values())), status


@bp.route("", methods=["GET", "POST"])
@STAFF
def search():
    """GET: the saved search's results. POST: save a new search, then show it (PRG)."""
    places = districts(context().db)
    if request.method == "GET":
        return _results(SearchForm(data=_saved()["terms"]).set_places(places))
    form = SearchForm().set_places(places)  # only what was posted: a field left out is blank
    if "clear" in request.form:
        session.pop(SESSION_KEY, None)
        return redirect(url_for("people.search"), 303)
    if not form.validate_on_submit():
        return render_template("people/search.html", form=form, rows=(), number=1), 400
    session[SESSION_KEY] = {"terms": form.terms(), "pages": []}
    return redirect(url_for("people.search"), 303)


def _person_page(person_id: int, status: int = 200, error: str | None = None, **forms):
    try:
        detail = person_detail(context().db, person_id, questionnaire())
    except NotFound:
        abort(404)
    forms.setdefault("phone_form", PhoneForm())
    forms.setdefault("close_form", CloseForm())
    forms.setdefault("reopen_form", ReopenForm())
    forms.setdefault("call_form", ActionForm())
    return render_template("people/detail.html", person=detail, error=error,
                           describe=questionnaire().describe, **forms), status


@bp.get("/<int:person_id>")
@STAFF
def detail(person_id: int):
    """A person's page, in full; who opened it goes to the audit log."""
    page = _person_page(person_id)
    audit_event("person.view", object_type="person", object_id=person_id)
    return page


def _error_status(error: Exception) -> int:
    return 409 if isinstance(error, NotAllowedNow) else 422


def _act(person_id: int, form_name: str, form, change: Callable[[Any], PersonChange],
         event: str, **detail: Any):
    """Validate a form, make the change through casework, audit it, and say how it went."""
    if not form.validate_on_submit():
        return _person_page(person_id, 422, **{form_name: form})
    try:
        done = change(form)
    except NotFound:
        abort(404)
    except (InvalidPhone, CaseworkError) as error:
        return _person_page(person_id, _error_status(error), str(error), **{form_name: form})
    audit_event(event, object_type="person", object_id=person_id, effect=done.effect,
                **detail)
    flash(done.message, "success")
    return redirect(url_for("people.detail", person_id=person_id), 303)


def _who_and_when() -> tuple[str, Any]:
    return actor().username, context().clock.now()


@bp.post("/<int:person_id>/phone")
@STAFF
def correct(person_id: int):
    """A new phone number, validated as an import is; called again today if needed."""
    def change(form: PhoneForm) -> PersonChange:
        return correct_phone(context().db, person_id, form.phone.data, *_who_and_when(),
                             call_window(), form.note.data or None)
    return _act(person_id, "phone_form", PhoneForm(), change, "person.phone_corrected")


@bp.post("/<int:person_id>/close")
@SUPERVISOR
def close(person_id: int):
    """End the person's monitoring for a reason; pending calls are cancelled."""
    form = CloseForm()

    def change(form: CloseForm) -> PersonChange:
        return close_monitoring(context().db, person_id, form.reason.data, *_who_and_when(),
                                form.note.data)
    return _act(person_id, "close_form", form, change, "person.closed",
                reason=form.reason.data)


@bp.post("/<int:person_id>/reopen")
@SUPERVISOR
def reopen(person_id: int):
    """Put a closed person back under monitoring."""
    def change(form: ReopenForm) -> PersonChange:
        return reopen_monitoring(context().db, person_id, *_who_and_when(), call_window(),
                                 form.note.data or None)
    return _act(person_id, "reopen_form", ReopenForm(), change, "person.reopened")


@bp.post("/<int:person_id>/call")
@STAFF
def call(person_id: int):
    """One more call today, now, within the call window."""
    def change(_form: ActionForm) -> PersonChange:
        return call_now(context().db, person_id, *_who_and_when(), call_window())
    return _act(person_id, "call_form", ActionForm(), change, "person.call_now")

