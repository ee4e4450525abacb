"""Who may use which endpoint: one decorator per view, one check for every request.

    @bp.get("/flags")
    @roles_required("supervisor")          # admins may always; `any_role` / `public` too
    def queue(): ...

`access_rules(app)` lists every endpoint's rule (the access-table test compares with it).
An endpoint without a rule is refused to everyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TypeVar

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user

from callengine.store.accounts import ROLE_ADMIN, ROLES

F = TypeVar("F", bound=Callable)
RULE_ATTRIBUTE = "_callengine_access"


@dataclass(frozen=True)
class Rule:
    """Public (anyone, signed in or not), or the roles that may use an endpoint."""

    public: bool = False
    roles: frozenset[str] = frozenset()

    def allows(self, role: str | None) -> bool:
        """Whether a user of this role (None: anonymous) passes."""
        return self.public or (role is not None and (role in self.roles or role == ROLE_ADMIN))


PUBLIC = Rule(public=True)
DENY = Rule()


def _mark(rule: Rule) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        setattr(view, RULE_ATTRIBUTE, rule)
        return view
    return decorate


def roles_required(*roles: str) -> Callable[[F], F]:
    """Only signed-in users of these roles (and admins)."""
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return _mark(Rule(roles=frozenset(roles) | {ROLE_ADMIN}))


any_role = roles_required(*ROLES)  # every signed-in user
public = _mark(PUBLIC)  # no sign-in needed (sign-in page, static files, the API document)


def rule_of(app: Flask, endpoint: str) -> Rule:
    """The rule of an endpoint; DENY when it has none."""
    if endpoint == "static":
        return PUBLIC
    view = app.view_functions.get(endpoint)
    return getattr(view, RULE_ATTRIBUTE, DENY)


def access_rules(app: Flask) -> dict[str, Rule]:
    """Every endpoint of the app and its rule."""
    return {endpoint: rule_of(app, endpoint) for endpoint in app.view_functions}


def may_use(endpoint: str) -> bool:
    """Whether the current user may use an endpoint that exists (for navigation links)."""
    if endpoint not in current_app.view_functions:
        return False
    role = current_user.role if current_user.is_authenticated else None
    return rule_of(current_app, endpoint).allows(role)


def is_api_request() -> bool:
    """API requests get JSON errors and are never authenticated by cookies."""
    return request.path.startswith("/api/")


def check_access():
    """Refuse the request unless the current user passes the endpoint's rule."""
    if request.endpoint is None:
        return None  # no such route: the 404 or 405 follows
    rule = rule_of(current_app, request.endpoint)
    if rule.public:
        return None
    if not current_user.is_authenticated:
        if is_api_request():
            abort(401)
        return redirect(url_for("auth.sign_in", next=request.path))
    if not rule.allows(current_user.role):
        abort(403)
    return None


def configure(app: Flask) -> None:
    """Check every request against its endpoint's rule."""
    app.before_request(check_access)
    app.jinja_env.globals["may_use"] = may_use
