"""Forms of the vaccination pages: a dose, a dose workbook, a certificate to verify."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from callengine.vaccination.rules import MAX_DOSE_NUMBER
from callengine.vaccines import load_catalogue
from admin.choices import options
from admin.forms import NOT_A_DAY, REQUIRED

MAX_HC1 = 8000  # characters of a pasted certificate (a real one is under 1,000)


def product_choices() -> list[SelectChoice]:
    return options((p.code, p.name) for p in load_catalogue().products)


class DoseForm(FlaskForm):
    product = SelectField(_l("Vaccine"), choices=product_choices)
    dose_number = IntegerField(_l("Dose number"), [
        DataRequired(REQUIRED), NumberRange(1, MAX_DOSE_NUMBER)])
    given_on = DateField(_l("Date given"), [DataRequired(NOT_A_DAY)])
    lot = StringField(_l("Lot"), [Optional(), Length(max=60)])
    site = StringField(_l("Vaccination site"), [Optional(), Length(max=200)])


class DoseUploadForm(FlaskForm):
    file = FileField(_l("Dose workbook (.xlsx, .xls, .csv)"))


class VerifyForm(FlaskForm):
    hc1 = TextAreaField(_l("Certificate text (starts with HC1:)"),
                        [DataRequired(REQUIRED), Length(max=MAX_HC1)])
