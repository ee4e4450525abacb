"""The access table: every route of the app, its rule, and what each role gets.

A route missing from ACCESS fails this test: add a row when you add a route. POST routes
are sent with a valid CSRF token and no form; a refused role must get 403 before any effect
(no row changes, no audit event).
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from callengine.store.accounts import ApiToken, AuditEvent, User
from admin.access import PUBLIC, Rule, access_rules
from tests.admin.conftest import AuthActions

ANYONE = PUBLIC
SIGNED_IN = Rule(roles=frozenset({"admin", "supervisor", "staff"}))
SUPERVISORS = Rule(roles=frozenset({"admin", "supervisor"}))
ADMINS = Rule(roles=frozenset({"admin"}))
STAFF = Rule(roles=frozenset({"admin", "staff"}))

ACCESS: dict[str, Rule] = {
    "static": ANYONE,
    "auth.sign_in": ANYONE,
    "auth.language": ANYONE,
    "auth.sign_out": SIGNED_IN,
    "home.index": SIGNED_IN,
    "home.live": SIGNED_IN,
    "calls.index": SIGNED_IN,
    "campaign.index": SUPERVISORS,
    "campaign.update": SUPERVISORS,
    "campaign.pause": SUPERVISORS,
    "campaign.resume": SUPERVISORS,
    "users.index": ADMINS,
    "users.create": ADMINS,
    "users.detail": ADMINS,
    "users.set_role": ADMINS,
    "users.reset_password": ADMINS,
    "users.disable": ADMINS,
    "users.enable": ADMINS,
    "users.issue_token": ADMINS,
    "users.revoke_token": ADMINS,
    "audit.index": ADMINS,
    "flags.queue": SUPERVISORS,
    "flags.detail": SUPERVISORS,
    "flags.take": SUPERVISORS,
    "flags.record_action": SUPERVISORS,
    "recordings.answer": SIGNED_IN,
    "api.flags": SUPERVISORS,
    "api.flag": SUPERVISORS,
    "api.flag_action": SUPERVISORS,
    "prompts.index": SIGNED_IN,
    "prompts.audio": SIGNED_IN,
    "prompts.preview_audio": SIGNED_IN,
    "prompts.stage": SIGNED_IN,
    "prompts.approve": SIGNED_IN,
    "prompts.discard": SIGNED_IN,
    "prompts.revert": SIGNED_IN,
    "api.me": SIGNED_IN,
    "api.calls": SIGNED_IN,
    "api.dashboard": SIGNED_IN,
    "map.index": SIGNED_IN,
    "api.epidemic_map": SIGNED_IN,
    "api.campaign": SUPERVISORS,
    "api.change_campaign": SUPERVISORS,
    "api.openapi": ANYONE,
    "imports.index": SIGNED_IN,
    "imports.upload": SIGNED_IN,
    "imports.progress": SIGNED_IN,
    "imports.preview": SIGNED_IN,
    "imports.commit": SIGNED_IN,
    "imports.discard": SIGNED_IN,
    "imports.errors": SIGNED_IN,
    "exports.index": SIGNED_IN,
    "exports.results": SIGNED_IN,
    "exports.people": SIGNED_IN,
    "api.create_import": SIGNED_IN,
    "api.get_import": SIGNED_IN,
    "api.commit_import": SIGNED_IN,
    "api.list_imports": SIGNED_IN,
    "api.results": SIGNED_IN,
    "people.search": SIGNED_IN,
    "people.detail": SIGNED_IN,
    "people.correct": SIGNED_IN,
    "people.call": SIGNED_IN,
    "people.close": SUPERVISORS,
    "people.reopen": SUPERVISORS,
    "api.people": SIGNED_IN,
    "api.people_search": SIGNED_IN,
    "api.person": SIGNED_IN,
    "venues.index": SIGNED_IN,
    "venues.create": SIGNED_IN,
    "venues.detail": SIGNED_IN,
    "venues.edit": SIGNED_IN,
    "venues.poster": SIGNED_IN,
    "venues.rotate": ADMINS,
    "venues.checkin": SUPERVISORS,
    "checkin.form": ANYONE,
    "checkin.submit": ANYONE,
    "api.venue_create": SIGNED_IN,
    "api.venue_list": SIGNED_IN,
    "api.venue": SIGNED_IN,
    "api.venue_poster": SIGNED_IN,
    "api.venue_rotate_token": ADMINS,
    "risk.assess": SIGNED_IN,
    "risk.index": SIGNED_IN,
    "risk_public.form": ANYONE,
    "risk_public.submit": ANYONE,
    "api.risk_assessment_create": SIGNED_IN,
    "api.risk_assessment_list": SIGNED_IN,
    "samples.index": SIGNED_IN,
    "samples.new": STAFF,
    "samples.detail": SIGNED_IN,
    "samples.member": SIGNED_IN,
    "samples.record_result": STAFF,
    "samples.upload_form": STAFF,
    "samples.upload": STAFF,
    "samples.upload_commit": STAFF,
    "samples.upload_errors": STAFF,
    "lookup.form": ANYONE,
    "lookup.answer": ANYONE,
    "api.create_sample": STAFF,
    "api.sample": SIGNED_IN,
    "api.import_lab_results": STAFF,
    "vaccinations.person": SIGNED_IN,
    "vaccinations.record": SIGNED_IN,
    "vaccinations.certificate": SIGNED_IN,
    "vaccinations.verify_page": ANYONE,
    "vaccinations.signer_certificate": ANYONE,
    "vaccinations.upload": SIGNED_IN,
    "vaccinations.error_workbook": SIGNED_IN,
    "vaccinations.coverage_export": SIGNED_IN,
    "api.record_vaccination": SIGNED_IN,
    "api.person_certificate_api": SIGNED_IN,
    "api.certificate_signer": ANYONE,
    "exposure.review": SUPERVISORS,
    "exposure.window": SUPERVISORS,
    "exposure.check": SUPERVISORS,
    "exposure.confirm": SUPERVISORS,
    "exposure.of_person": SUPERVISORS,
    "exposure.open_review": SUPERVISORS,
    "exposure.of_flag": SUPERVISORS,
    "api.person_exposure": SUPERVISORS,
    "api.confirm_person_exposure": SUPERVISORS,
}
SAMPLE_PATH_VALUES = {"filename": "admin.css"}  # anything else: 1, the target's id
ROLES = (None, "staff", "supervisor", "admin")


def _url(rule) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>",
                  lambda m: SAMPLE_PATH_VALUES.get(m.group(1), "1"), rule.rule)


def _state(db) -> tuple:
    with db.session() as session:
        users = tuple(session.execute(select(User.id, User.role, User.active,
                                             User.password_hash)).all())
        tokens = session.scalar(select(func.count()).select_from(ApiToken))
        events = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.not_in(("auth.sign_in", "api.token_rejected"))))
    return users, tokens, events


def _client_as(app, role, token_for):
    client = app.test_client()
    headers = {}
    if role is not None:
        AuthActions(client).sign_in(role)
        headers = {"Authorization": f"Bearer {token_for[role]}"}
    return client, headers


def _request(client, headers, rule):
    url, is_api = _url(rule), rule.rule.startswith("/api/")
    if "GET" in rule.methods:
        return client.get(url, headers=headers if is_api else {})
    token = AuthActions(client).csrf_token()
    method = next(m for m in ("POST", "PUT", "PATCH", "DELETE") if m in rule.methods)
    return client.open(url, method=method, data={"csrf_token": token},
                       headers=headers if is_api else {})


def _verdict(response, rule, allowed: bool, anonymous: bool) -> str | None:
    status, api = response.status_code, rule.rule.startswith("/api/")
    to_sign_in = status == 302 and "/sign-in?next=" in response.headers.get("Location", "")
    if allowed:
        return None if status not in (401, 403) and not to_sign_in else f"refused ({status})"
    if anonymous:
        expected = status == 401 if api else to_sign_in
        return None if expected else f"anonymous got {status}, not sign-in/401"
    return None if status == 403 else f"wrong role got {status}, not 403"


def test_every_route_is_in_the_access_table_with_its_declared_rule(app):
    declared = access_rules(app)
    missing = sorted(set(declared) - set(ACCESS))
    assert not missing, f"routes without a row in the access table: {missing}"
    assert not sorted(set(ACCESS) - set(declared)), "rows for routes that no longer exist"
    wrong = {e: (declared[e], ACCESS[e]) for e in ACCESS if declared[e] != ACCESS[e]}
    assert not wrong, f"declared rule differs from the table: {wrong}"


def test_each_role_gets_exactly_what_its_row_says(app, make_user, accounts, db):
    target = make_user("staff", username="target")  # what the admins' actions act on
    assert (target.id, accounts.issue_token(target.id).id) == (1, 1)
    token_for = {}
    for role in ROLES[1:]:
        make_user(role, username=role)
        token_for[role] = accounts.issue_token(accounts.by_username(role).id).token
    failures = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        expected = ACCESS[rule.endpoint]
        for role in ROLES:
            client, headers = _client_as(app, role, token_for)
            before = _state(db)
            response = _request(client, headers, rule)
            allowed = expected.allows(role)
            problem = _verdict(response, rule, allowed, role is None)
            if not allowed and "GET" not in rule.methods and _state(db) != before:
                problem = "refused, but something changed"
            if problem:
                who = role or "anonymous"
                failures.append(f"{rule.endpoint} {rule.rule} as {who}: {problem}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role, visible, hidden", [
    ("staff", ["Tổng quan"], ["Tài khoản", "Nhật ký"]),
    ("supervisor", ["Tổng quan"], ["Tài khoản", "Nhật ký"]),
    ("admin", ["Tổng quan", "Tài khoản", "Nhật ký"], []),
])
def test_the_navigation_shows_only_what_the_role_may_open(client, signed_in, role, visible,
                                                          hidden):
    signed_in(role)
    page = client.get("/").get_data(as_text=True)
    nav = page.split('<nav class="areas"')[1].split("</nav>")[0]
    for label in visible:
        assert label in nav
    for label in hidden:
        assert label not in nav
