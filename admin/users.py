"""Admins manage accounts: list, create, change role, reset password, disable, API tokens.

The accounts service audits every change in the same transaction.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from callengine.accounts import AccountError
from admin.access import roles_required
from admin.context import actor, context
from admin.forms import BAD_USERNAME, TOO_SHORT, ActionForm, NewUserForm, PasswordForm, RoleForm

bp = Blueprint("users", __name__, url_prefix="/users")
ADMIN = roles_required("admin")
ERRORS = {
    "weak_password": TOO_SHORT,
    "bad_username": BAD_USERNAME,
    "bad_role": _l("This role does not exist."),
    "username_taken": _l("This user name is already taken."),
    "last_admin": _l("The last active administrator cannot be demoted or disabled."),
    "no_such_user": _l("This account does not exist."),
    "no_such_token": _l("This token does not exist."),
}


def _flash_error(error: AccountError) -> None:
    flash(str(ERRORS.get(error.code, error)), "error")


def _account_or_404(user_id: int):
    account = context().accounts.get(user_id)
    if account is None:
        abort(404)
    return account


def _detail_page(user_id: int, status: int = 200, **forms):
    account = _account_or_404(user_id)
    forms.setdefault("role_form", RoleForm(role=account.role))
    forms.setdefault("password_form", PasswordForm())
    page = render_template("users/detail.html", account=account,
                           tokens=context().accounts.list_tokens(user_id), **forms)
    return page, status


def _back(user_id: int):
    return redirect(url_for("users.detail", user_id=user_id))


@bp.get("")
@ADMIN
def index():
    """Every account."""
    return render_template("users/index.html", accounts=context().accounts.list_users())


@bp.route("/new", methods=["GET", "POST"])
@ADMIN
def create():
    """Create an account with a role and a first password."""
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            account = context().accounts.create_user(form.username.data, form.password.data,
                                                     form.role.data, actor=actor())
        except AccountError as error:
            _flash_error(error)
        else:
            flash(_("Account %(name)s created.", name=account.username), "success")
            return _back(account.id)
    return render_template("users/new.html", form=form), 400 if form.errors else 200


@bp.get("/<int:user_id>")
@ADMIN
def detail(user_id: int):
    """One account and the forms that change it."""
    return _detail_page(user_id)


def _change(user_id: int, form, form_name: str, change, done: str):
    """Validate a form, apply a change through the service, and say how it went."""
    if not form.validate_on_submit():
        return _detail_page(user_id, 400, **{form_name: form})
    try:
        change(form)
        flash(done, "success")
    except AccountError as error:
        _flash_error(error)
    return _back(user_id)


@bp.post("/<int:user_id>/role")
@ADMIN
def set_role(user_id: int):
    """Give an account another role."""
    return _change(user_id, RoleForm(), "role_form",
                   lambda f: context().accounts.set_role(user_id, f.role.data, actor=actor()),
                   _("Role changed."))


@bp.post("/<int:user_id>/password")
@ADMIN
def reset_password(user_id: int):
    """Set a new password; the account's open sessions end."""
    return _change(user_id, PasswordForm(), "password_form",
                   lambda f: context().accounts.set_password(user_id, f.password.data,
                                                             actor=actor()),
                   _("Password changed. The account's open sessions have ended."))


def _set_active(user_id: int, active: bool):
    return _change(user_id, ActionForm(), "action_form",
                   lambda f: context().accounts.set_active(user_id, active, actor=actor()),
                   _("Account enabled.") if active else _("Account disabled."))


@bp.post("/<int:user_id>/disable")
@ADMIN
def disable(user_id: int):
    """Disable an account: its sessions and tokens stop working."""
    return _set_active(user_id, False)


@bp.post("/<int:user_id>/enable")
@ADMIN
def enable(user_id: int):
    """Enable an account again."""
    return _set_active(user_id, True)


@bp.post("/<int:user_id>/tokens")
@ADMIN
def issue_token(user_id: int):
    """A new API token, shown on this page once."""
    if not ActionForm().validate_on_submit():
        abort(400)
    account = _account_or_404(user_id)
    issued = context().accounts.issue_token(user_id, actor=actor())
    return render_template("users/token.html", account=account, issued=issued)


@bp.post("/<int:user_id>/tokens/<int:token_id>/revoke")
@ADMIN
def revoke_token(user_id: int, token_id: int):
    """Revoke one of the account's API tokens."""
    if not ActionForm().validate_on_submit():
        abort(400)
    if token_id not in {t.id for t in context().accounts.list_tokens(user_id)}:
        abort(404)
    context().accounts.revoke_token(token_id, actor=actor())
    flash(_("Token revoked."), "success")
    return _back(user_id)
