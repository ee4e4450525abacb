"""Staff download lists as .xlsx: the day's results and the people list (filtered).

Both come from the engine's own exports (`callengine.results.export`,
`callengine.importer.people_export`), whose text cells never run as formulas (cells.py). The
filters are posted, as every filter on people is, and the download is recorded.
"""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, render_template
from flask_babel import gettext as _

from callengine.casework.labels import PERSON_STATUS_LABELS
from callengine.casework.people import districts
from callengine.importer.categories import CATEGORIES
from callengine.importer.people_export import ExportFilters, export_people
from callengine.questionnaire import load_questionnaire
from callengine.results import export as export_results
from admin.access import roles_required
from admin.choices import options
from admin.context import audit_event, context, local_today
from admin.downloads import xlsx_download
from admin.forms import CATEGORY_NAMES, PeopleExportForm, ResultsExportForm

bp = Blueprint("exports", __name__, url_prefix="/exports")
STAFF = roles_required("staff", "supervisor")  # staff, supervisors and admins


def _people_form() -> PeopleExportForm:
    form = PeopleExportForm()
    places = districts(context().db)
    everyone = [("", _("All"))]
    form.category.choices = options(everyone + [(c, str(CATEGORY_NAMES[c])) for c in CATEGORIES])
    form.district.choices = options(everyone + [(d, d) for d in places])
    communes = sorted({c for listed in places.values() for c in listed})
    form.commune.choices = options(everyone + [(c, c) for c in communes])
    form.status.choices = options(everyone + list(PERSON_STATUS_LABELS.items()))
    return form


def _page(results_form=None, people_form=None, status: int = 200):
    return render_template("exports/index.html",
                           results_form=results_form or ResultsExportForm(day=local_today()),
                           people_form=people_form or _people_form()), status


@bp.get("")
@STAFF
def index():
    """The two downloads and their choices."""
    return _page()


@bp.post("/results")
@STAFF
def results():
    """One day's results workbook (a summary sheet and one sheet per district)."""
    form = ResultsExportForm()
    if not form.validate_on_submit():
        return _page(results_form=form, status=400)
    ctx = context()
    out = BytesIO()
    rows = export_results(ctx.db, load_questionnaire(ctx.settings.questionnaire),
                          form.day.data, "xlsx", out)
    audit_event("export.results", object_type="results", object_id=form.day.data.isoformat(),
                day=form.day.data.isoformat(), rows=rows)
    return xlsx_download(out, f"ket-qua-{form.day.data.isoformat()}.xlsx")


@bp.post("/people")
@STAFF
def people():
    """Everyone stored, or those matching the filters, one row per person."""
    form = _people_form()
    if not form.validate_on_submit():
        return _page(people_form=form, status=400)
    filters = ExportFilters(**{name: form[name].data or None
                               for name in ("category", "district", "commune", "status")})
    out = BytesIO()
    count = export_people(context().db, "xlsx", out, filters)
    audit_event("export.people", object_type="people", rows=count, **filters.to_dict())
    return xlsx_download(out, f"nguoi-theo-doi-{local_today().isoformat()}.xlsx")
