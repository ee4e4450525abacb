"""/venues: the places with a QR poster. List and search, create and edit, a venue's page
(details, its recent check-ins masked, the poster, the check-in link), and rotating a
venue's token (admins, with a confirmation). Every page and change is audited.

The venue page is built from sections (`VENUE_SECTIONS`): another area adds one (e.g. the
risk assessment) by appending a template name there.
"""

from __future__ import annotations

from typing import Callable

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from callengine.health.checkins import DECLARATION_LABELS, get_checkin, recent_checkins
from callengine.health.errors import InvalidForm, NotFound
from callengine.health.poster import PosterError, render_poster
from callengine.health.risk import FLAGGED_BANDS, latest_bands
from callengine.health.risk_criteria import default_criteria
from callengine.health.venues import (
    VenueView,
    checkin_url,
    create_venue,
    get_venue,
    list_venues,
    rotate_token,
    update_venue,
)
from callengine.paging import InvalidCursor
from admin.access import roles_required
from admin.context import actor, audit_event, context
from admin.record_links import RECORD_PAGES
from admin.venue_forms import RotateForm, VenueForm, VenueSearchForm

bp = Blueprint("venues", __name__, url_prefix="/venues")
STAFF = roles_required("staff", "supervisor")  # and admins: everyone signed in
SUPERVISOR = roles_required("supervisor")
ADMIN = roles_required("admin")
PAGE_SIZE = 50
RECENT_CHECKINS = 50
VENUE_SECTIONS = ["venues/_details.html", "venues/_checkins.html"]
VENUE_SECTION_CONTEXT: list[Callable[[VenueView], dict]] = []  # each section's own values
ON_ROTATE: list[Callable[[int], object]] = []  # other links of a venue, renewed with its QR code
RECORD_PAGES["checkin"] = ("venues.checkin", "checkin_id")  # a declaration flag's record


def _public_link(venue: VenueView) -> str | None:
    public_url = context().settings.public_url
    return checkin_url(public_url, venue.token) if public_url else None


def _venue_or_404(venue_id: int) -> VenueView:
    try:
        return get_venue(context().db, venue_id)
    except NotFound:
        abort(404)


@bp.get("")
@STAFF
def index():
    """The venues, by name; ?q= keeps names whose words start with its words."""
    form = VenueSearchForm(request.args)
    query = (form.q.data or "").strip() if form.validate() else ""
    try:
        page = list_venues(context().db, query, after=request.args.get("cursor") or None,
                           limit=PAGE_SIZE)
    except (InvalidForm, InvalidCursor) as error:
        flash(str(error), "error")
        return render_template("venues/index.html", form=form, venues=(), next=None), 400
    audit_event("venue.list", results=len(page.items))
    bands = latest_bands(context().db, [venue.id for venue in page.items])
    return render_template("venues/index.html", form=form, venues=page.items, next=page.next,
                           query=query, risk_bands=bands, flagged_bands=FLAGGED_BANDS,
                           risk_criteria=default_criteria())


def _form_page(form: VenueForm, venue: VenueView | None, status: int = 200):
    return render_template("venues/form.html", form=form, venue=venue), status


def _refused(form: VenueForm, error: InvalidForm) -> None:
    for name, message in error.errors.items():
        getattr(form, name).errors = [message]


@bp.route("/new", methods=["GET", "POST"])
@STAFF
def create():
    """A new venue; its poster can be printed from its page."""
    form = VenueForm()
    if not form.validate_on_submit():
        return _form_page(form, None, 400 if request.method == "POST" else 200)
    try:
        venue = create_venue(context().db, form.values(), now=context().clock.now(),
                             created_by=actor().username)
    except InvalidForm as error:
        _refused(form, error)
        return _form_page(form, None, 422)
    audit_event("venue.create", object_type="venue", object_id=venue.id)
    flash(_("The venue was registered. Print its poster below."), "success")
    return redirect(url_for("venues.detail", venue_id=venue.id), 303)


@bp.route("/<int:venue_id>/edit", methods=["GET", "POST"])
@STAFF
def edit(venue_id: int):
    """Change a venue's details; its token (and so its posters) stay."""
    venue = _venue_or_404(venue_id)
    form = VenueForm(obj=venue) if request.method == "GET" else VenueForm()
    if request.method == "GET":
        for name in ("latitude", "longitude", "stay_minutes"):
            value = getattr(venue, name)
            getattr(form, name).data = "" if value is None else f"{value:g}"
    if not form.validate_on_submit():
        return _form_page(form, venue, 400 if request.method == "POST" else 200)
    try:
        update_venue(context().db, venue_id, form.values(), active=form.active.data)
    except InvalidForm as error:
        _refused(form, error)
        return _form_page(form, venue, 422)
    audit_event("venue.update", object_type="venue", object_id=venue_id)
    flash(_("The venue was saved."), "success")
    return redirect(url_for("venues.detail", venue_id=venue_id), 303)


def _detail_page(venue: VenueView, rotate_form: RotateForm, status: int = 200):
    extra = {key: value for provide in VENUE_SECTION_CONTEXT
             for key, value in provide(venue).items()}
    return render_template(
        "venues/detail.html", venue=venue, link=_public_link(venue), rotate_form=rotate_form,
        checkins=recent_checkins(context().db, venue.id, limit=RECENT_CHECKINS),
        declaration_labels=DECLARATION_LABELS, sections=VENUE_SECTIONS, **extra), status


@bp.get("/<int:venue_id>")
@STAFF
def detail(venue_id: int):
    """A venue's page; who opened it (and so saw its masked check-ins) is audited."""
    page = _detail_page(_venue_or_404(venue_id), RotateForm())
    audit_event("venue.view", object_type="venue", object_id=venue_id)
    return page


@bp.get("/<int:venue_id>/poster.pdf")
@STAFF
def poster(venue_id: int):
    """The A4 poster with the QR code, to print."""
    venue = _venue_or_404(venue_id)
    try:
        pdf = render_poster(venue, context().settings.public_url)
    except PosterError as error:
        flash(str(error), "error")
        return redirect(url_for("venues.detail", venue_id=venue_id), 303)
    audit_event("venue.poster", object_type="venue", object_id=venue_id)
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="venue-{venue_id}.pdf"'
    return response


@bp.post("/<int:venue_id>/rotate")
@ADMIN
def rotate(venue_id: int):
    """A new token: printed posters stop working (they get a clear message) until the new
    poster replaces them."""
    venue = _venue_or_404(venue_id)
    form = RotateForm()
    if not form.validate_on_submit():
        return _detail_page(venue, form, 422)
    rotate_token(context().db, venue_id, now=context().clock.now())
    for renew in ON_ROTATE:
        renew(venue_id)
    audit_event("venue.rotate_token", object_type="venue", object_id=venue_id)
    flash(_("The venue has a new QR code. Print the new poster and replace the old ones."),
          "success")
    return redirect(url_for("venues.detail", venue_id=venue_id), 303)


@bp.get("/checkins/<int:checkin_id>")
@SUPERVISOR
def checkin(checkin_id: int):
    """One check-in in full (the record behind a declaration flag); audited."""
    try:
        found = get_checkin(context().db, checkin_id)
    except NotFound:
        abort(404)
    audit_event("checkin.view", object_type="checkin", object_id=checkin_id)
    return render_template("venues/checkin.html", checkin=found,
                           declaration_labels=DECLARATION_LABELS)
