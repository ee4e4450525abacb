"""The forms of the people pages: the search (POST only) and the changes to a person."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from callengine.casework.labels import CATEGORY_LABELS, CLOSURE_REASONS, PERSON_STATUS_LABELS
from callengine.casework.people import MAX_QUERY
from callengine.importer.categories import CATEGORIES
from admin.choices import grouped_options, options
from admin.forms import REQUIRED

MAX_NOTE = 1000
MAX_PHONE = 40


def _note() -> TextAreaField:
    return TextAreaField(_l("Note"), [Length(max=MAX_NOTE)])


class SearchForm(FlaskForm):
    """What staff look for; posted, kept in the session, never in a URL."""

    q = StringField(_l("Name, phone or national ID"), [Length(max=MAX_QUERY)])
    category = SelectField(_l("Class"), default="", choices=options([("", _l("All classes"))] + [
        (code, CATEGORY_LABELS.get(code, code)) for code in CATEGORIES]))
    district = SelectField(_l("District"), default="", choices=[], validate_choice=False)
    commune = SelectField(_l("Commune"), default="", choices=[], validate_choice=False)
    status = SelectField(_l("Status"), default="", choices=options(
        [("", _l("All statuses"))] + list(PERSON_STATUS_LABELS.items())))

    def set_places(self, places: dict[str, tuple[str, ...]]) -> SearchForm:
        """The district and commune choices: every district, communes grouped by district."""
        self.district.choices = options([("", _l("All districts"))] + [(d, d) for d in places])
        groups: dict[str, list[tuple[str, object]]] = {"": [("", _l("All communes"))]}
        groups.update({d: [(c, c) for c in communes] for d, communes in places.items()})
        self.commune.choices = grouped_options(groups)
        return self

    def terms(self) -> dict[str, str]:
        """The search as stored in the session."""
        return {name: (getattr(self, name).data or "").strip()
                for name in ("q", "category", "district", "commune", "status")}


class PhoneForm(FlaskForm):
    phone = StringField(_l("New phone number"), [DataRequired(REQUIRED), Length(max=MAX_PHONE)])
    note = _note()


class CloseForm(FlaskForm):
    reason = SelectField(_l("Reason"), [DataRequired(_l("Choose a reason."))], default="",
                         choices=options([("", _l("Choose a reason"))]
                                         + list(CLOSURE_REASONS.items())))
    note = _note()


class ReopenForm(FlaskForm):
    note = _note()
