"""The admin's own forms (Flask-WTF: each carries its CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import DateField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from callengine.accounts import MAX_PASSWORD, MAX_USERNAME, MIN_PASSWORD
from callengine.store.accounts import ROLES
from admin.choices import options
from admin.i18n import ROLE_NAMES

MAX_ROW_NUMBER = 2**63 - 1  # the largest id or counter a database row holds


def whole_number(text: str | None) -> int | None:
    """A form's or URL's plain ASCII digits as an int that fits a row; None for anything else
    ('³'.isdigit() is true, and a 30-digit number overflows the database)."""
    if not text or not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if value <= MAX_ROW_NUMBER else None


REQUIRED = _l("This field is required.")
TOO_SHORT = _l("The password must be at least %(count)d characters long.", count=MIN_PASSWORD)
NOT_SAME = _l("The two passwords are not the same.")
BAD_USERNAME = _l("A user name has 3 to %(count)d printable characters.", count=MAX_USERNAME)


def _role_choices() -> list[SelectChoice]:
    return options((role, ROLE_NAMES[role]) for role in ROLES)


class SignInForm(FlaskForm):
    username = StringField(_l("User name"), [DataRequired(REQUIRED), Length(max=200)])
    password = PasswordField(_l("Password"), [DataRequired(REQUIRED), Length(max=MAX_PASSWORD)])
    next = HiddenField()


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class LanguageForm(FlaskForm):
    lang = HiddenField(validators=[DataRequired()])
    next = HiddenField()


def _new_password() -> PasswordField:
    return PasswordField(_l("New password"), [DataRequired(REQUIRED),
                                              Length(min=MIN_PASSWORD, max=MAX_PASSWORD,
                                                     message=TOO_SHORT)])


def _confirmation() -> PasswordField:
    return PasswordField(_l("Repeat the password"),
                         [DataRequired(REQUIRED), EqualTo("password", message=NOT_SAME)])


class NewUserForm(FlaskForm):
    username = StringField(_l("User name"), [
        DataRequired(REQUIRED), Length(min=3, max=MAX_USERNAME, message=BAD_USERNAME)])
    role = SelectField(_l("Role"), choices=_role_choices)
    password = _new_password()
    confirm = _confirmation()


class PasswordForm(FlaskForm):
    password = _new_password()
    confirm = _confirmation()


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=_role_choices)


class AuditFilterForm(FlaskForm):
    """The audit log's filters, read from the query string (ids and codes only)."""

    class Meta:
        csrf = False

    user = SelectField(_l("User"), choices=[], validate_choice=False, default="")
    action = SelectField(_l("Action"), choices=[], validate_choice=False, default="")
    since = StringField(_l("From"))
    until = StringField(_l("To"))


# --- imports and exports ---------------------------------------------------------------------

NOT_A_DAY = _l("Enter a date like 31/12/2021.")
JOB_TOKEN = r"^[A-Za-z0-9_-]{16,64}$"  # an upload's progress key (random, not personal)


class UploadForm(FlaskForm):
    """A day's lists: the files, the list's date, and the class for sheets without one."""

    files = MultipleFileField(_l("Files (.xlsx, .xls, .csv)"))
    list_date = DateField(_l("Date of the list"), [DataRequired(NOT_A_DAY)])
    category = SelectField(_l("Class (only when a sheet has no class column)"), choices=[],
                           default="")
    job = HiddenField(validators=[Optional(), Regexp(JOB_TOKEN)])


class ResultsExportForm(FlaskForm):
    day = DateField(_l("Day"), [DataRequired(NOT_A_DAY)])


class PeopleExportForm(FlaskForm):
    """The people list's filters (posted, like every filter on people)."""

    category = SelectField(_l("Class"), choices=[], default="")
    district = SelectField(_l("District"), choices=[], default="")
    commune = SelectField(_l("Commune"), choices=[], default="")
    status = SelectField(_l("Status"), choices=[], default="")


CATEGORY_NAMES = {"F1": _l("F1 (close contact)"), "F2": _l("F2 (contact of an F1)"),
                  "returnee": _l("Returnee (back from an epidemic area)"),
                  "F0": _l("F0 (patient, never called)")}


class RecordingForm(FlaskForm):
    """A prompt recording: a file from the disk, or what the browser recorded."""

    recording = FileField(_l("Recording"), [FileRequired(_l("Choose an audio file."))])
