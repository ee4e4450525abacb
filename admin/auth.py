"""Signing in and out, the idle timeout, and the language switch."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from callengine.accounts import Account, fold_username
from callengine.audit import Actor
from callengine.settings import ADMIN_LANGUAGES
from callengine.throttle import retry_after
from admin import metrics as admin_metrics
from admin.access import any_role, is_api_request, public
from admin.context import audit_event, client_address, context
from admin.forms import LanguageForm, SignInForm, whole_number

bp = Blueprint("auth", __name__)
SIGN_IN_ACTIONS = ("auth.sign_in", "auth.sign_in_failed")  # what the sign-in limits count


class SignedInUser(UserMixin):
    """The Flask-Login user: an account, with a session id that dies with its password."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self.id = account.id
        self.username = account.username
        self.role = account.role

    @property
    def is_active(self) -> bool:
        return self.account.active

    def get_id(self) -> str:
        return f"{self.account.id}:{self.account.password_changed_at.timestamp():.6f}"


def _load_user(session_id: str) -> SignedInUser | None:
    user_id, _sep, stamp = session_id.partition(":")
    number = whole_number(user_id)
    account = context().accounts.get(number) if number is not None else None
    if account is None or not account.active:
        return None
    if f"{account.password_changed_at.timestamp():.6f}" != stamp:
        return None  # the password changed since this session began
    return SignedInUser(account)


def _expire_idle_session() -> None:
    if request.endpoint == "static" or is_api_request():
        return
    now = context().clock.now().timestamp()
    last_seen = session.get("seen")
    timeout = context().settings.admin_session_idle_timeout
    if last_seen is not None and now - last_seen > timeout and current_user.is_authenticated:
        logout_user()
        session.clear()
        flash(_("Your session ended after a period of inactivity. Please sign in again."),
              "info")
    session.permanent = True
    session["seen"] = now


def configure(app: Flask) -> None:
    """Flask-Login on the accounts service; sessions end when idle too long."""
    manager = LoginManager(app)
    manager.user_loader(_load_user)
    app.before_request(_expire_idle_session)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("home.index")


def _throttled(username: str) -> int | None:
    ctx = context()
    per_account, per_client = ctx.settings.admin_login_rates
    return (retry_after(ctx.db, ctx.clock, SIGN_IN_ACTIONS, per_account, username=username)
            or retry_after(ctx.db, ctx.clock, SIGN_IN_ACTIONS, per_client,
                           address=client_address()))


def _sign_in_page(form: SignInForm, status: int = 200, retry: int | None = None):
    response = make_response(render_template("auth/sign_in.html", form=form), status)
    if retry:
        response.headers["Retry-After"] = str(retry)
    return response


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    """The sign-in form; throttled per account and per client address."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    form = SignInForm(next=request.args.get("next", ""))
    if not form.validate_on_submit():
        return _sign_in_page(form, 400 if request.method == "POST" else 200)
    username = fold_username(form.username.data)[:64]
    wait = _throttled(username)
    if wait:
        flash(_("Too many sign-in attempts. Wait a minute and try again."), "error")
        return _sign_in_page(form, 429, wait)
    account = context().accounts.authenticate(username, form.password.data)
    if account is None:
        audit_event("auth.sign_in_failed", who=Actor(None, username, client_address()))
        admin_metrics.current().login_failed()
        flash(_("Wrong user name or password."), "error")
        return _sign_in_page(form)
    session.clear()  # a fresh session: nothing carried over from before the sign-in
    login_user(SignedInUser(account))
    session.permanent = True
    session["seen"] = context().clock.now().timestamp()
    audit_event("auth.sign_in", object_type="user", object_id=account.id)
    return redirect(_safe_next(form.next.data))


@bp.post("/sign-out")
@any_role
def sign_out():
    """End the session (a POST with its CSRF token)."""
    audit_event("auth.sign_out", object_type="user", object_id=current_user.id)
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.sign_in"))


@bp.post("/language")
@public
def language():
    """Switch the interface language for this session."""
    form = LanguageForm()
    if not form.validate_on_submit() or form.lang.data not in ADMIN_LANGUAGES:
        abort(400)
    session["lang"] = form.lang.data
    return redirect(_safe_next(form.next.data))

