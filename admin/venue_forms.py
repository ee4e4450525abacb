"""The forms of the venue pages. Values are checked by callengine.health.venues (the same
rules as the API); the forms carry the CSRF token and the fields' labels."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from callengine.health.venues import KIND_LABELS, MAX_QUERY
from admin.choices import options
from admin.forms import REQUIRED


class VenueForm(FlaskForm):
    name = StringField(_l("Name"), [DataRequired(REQUIRED), Length(max=200)])
    kind = SelectField(_l("Type"), choices=options(KIND_LABELS.items()), default="other")
    address = StringField(_l("Address"), [Length(max=300)])
    commune = StringField(_l("Commune"), [Length(max=100)])
    district = StringField(_l("District"), [Length(max=100)])
    contact_name = StringField(_l("Contact person"), [Length(max=200)])
    contact_phone = StringField(_l("Contact phone"), [Length(max=40)])
    latitude = StringField(_l("Latitude"), [Length(max=30)])
    longitude = StringField(_l("Longitude"), [Length(max=30)])
    stay_minutes = StringField(_l("Usual stay (minutes; empty: the default)"),
                               [Length(max=10)])
    active = BooleanField(_l("Takes check-ins"), default=True)

    def values(self) -> dict[str, str]:
        """The posted values, for the domain's checks."""
        return {name: getattr(self, name).data or "" for name in (
            "name", "kind", "address", "commune", "district", "contact_name",
            "contact_phone", "latitude", "longitude", "stay_minutes")}


class VenueSearchForm(FlaskForm):
    """A venue name to look for (a venue's name is not personal: it may sit in the URL)."""

    class Meta:
        csrf = False

    q = StringField(_l("Venue name"), [Length(max=MAX_QUERY)])


class RotateForm(FlaskForm):
    confirm = BooleanField(_l("I understand that the printed posters stop working"),
                           [DataRequired(_l("Tick the box to confirm."))])
