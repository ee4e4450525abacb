"""The JSON API base: bearer tokens, JSON errors, the OpenAPI document, list responses."""

from __future__ import annotations

import json

import pytest
from flask import Blueprint, jsonify

from callengine.paging import Page, decode_cursor, encode_cursor
from admin.access import roles_required
from admin.api import cursor_arg, limit_arg, list_response
from admin.api.errors import ApiError, invalid, json_body
from admin.api.openapi import document, list_schema, operation


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def token_of(make_user, accounts):
    def issue(role: str) -> str:
        return accounts.issue_token(make_user(role).id).token
    return issue


def test_me_answers_who_the_token_belongs_to(client, make_user, accounts):
    lan = make_user("supervisor", "lan")
    token = accounts.issue_token(lan.id).token
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 200
    assert response.json == {"id": lan.id, "username": "lan", "role": "supervisor"}
    assert "Set-Cookie" not in response.headers


def test_a_session_cookie_alone_does_not_authenticate_the_api(client, signed_in):
    signed_in("admin")
    assert client.get("/").status_code == 200
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert "Cần mã truy cập API hợp lệ" in response.json["error"]["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_wrong_and_disabled_tokens_get_401(client, make_user, accounts):
    make_user("admin", "boss")
    lan = make_user("staff", "lan")
    issued = accounts.issue_token(lan.id)
    accounts.revoke_token(issued.id)
    assert client.get("/api/v1/me", headers=bearer(issued.token)).status_code == 401
    assert client.get("/api/v1/me", headers=bearer("made-up")).status_code == 401
    live = accounts.issue_token(lan.id).token
    accounts.set_active(lan.id, False)
    assert client.get("/api/v1/me", headers=bearer(live)).status_code == 401


def test_wrong_tokens_are_throttled_per_client_with_429(app_factory):
    app = app_factory(admin_login_limit_client="3 per minute")
    client = app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/me", headers=bearer("guess")).status_code == 401
    response = client.get("/api/v1/me", headers=bearer("guess"))
    assert response.status_code == 429 and response.headers["Retry-After"] == "60"
    assert response.json["error"]["code"] == "too_many_requests"


def test_unknown_paths_and_methods_get_json_errors(client, token_of):
    token = token_of("staff")
    missing = client.get("/api/v1/nothing-here", headers=bearer(token))
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    assert missing.json["error"]["message"] == "Trang này không tồn tại."
    wrong = client.delete("/api/v1/me", headers=bearer(token))
    assert wrong.status_code == 405 and wrong.json["error"]["code"] == "method_not_allowed"
    assert "GET" in wrong.headers["Allow"]


@pytest.mark.parametrize("method, url", [
    ("get", "/api/v1/people/9223372036854775808"),
    ("post", "/api/v1/flags/99999999999999999999999999/actions"),
    ("get", "/people/9223372036854775808")])
def test_an_id_no_row_can_have_gets_404_not_a_server_error(client, token_of, method, url):
    response = getattr(client, method)(url, headers=bearer(token_of("admin")), json={})
    assert response.status_code == 404


@pytest.mark.parametrize("url", ["/api/v1/people?limit=%C2%B3", "/api/v1/imports?limit=%C2%B3"])
def test_a_limit_of_non_ascii_digits_is_refused_with_422(client, token_of, url):
    response = client.get(url, headers=bearer(token_of("staff")))
    assert (response.status_code, response.json["error"]["field"]) == (422, "limit")


@pytest.fixture
def probe_app(app_factory):
    """An app with a test-only API blueprint that exercises the error helpers."""
    app = app_factory()
    probe = Blueprint("probe", __name__, url_prefix="/api/v1/probe")

    @probe.post("/echo")
    @roles_required("supervisor")
    def echo():
        body = json_body()
        if "n" not in body:
            raise invalid("n", "Thiếu n.")
        if body["n"] == 0:
            raise ApiError(409, "already_done", "Người khác đã xử lý.")
        return jsonify(body)

    @probe.get("/numbers")
    @roles_required("staff")
    def numbers():
        limit, cursor = limit_arg(3), cursor_arg()
        start = int(decode_cursor(cursor, 1)[0]) if cursor else 0
        values = list(range(start, min(start + limit, 7)))
        more = values and values[-1] < 6
        return list_response(Page(values, encode_cursor(values[-1] + 1) if more else None),
                             lambda n: {"n": n})

    app.register_blueprint(probe)
    from admin.security import csrf
    csrf(app).exempt(probe)
    return app


def test_api_errors_have_their_status_and_code(probe_app, make_user, accounts):
    client = probe_app.test_client()
    supervisor = accounts.issue_token(make_user("supervisor").id).token
    staff = accounts.issue_token(make_user("staff").id).token
    url = "/api/v1/probe/echo"
    cases = [
        (dict(data="not json", content_type="application/json"), supervisor, 400, "bad_json"),
        (dict(json={"x": 1}), supervisor, 422, "invalid"),
        (dict(json={"n": 0}), supervisor, 409, "already_done"),
        (dict(json={"n": 1}), staff, 403, "forbidden"),
        (dict(json={"n": 1}), None, 401, "unauthorized"),
    ]
    for kwargs, token, status, code in cases:
        response = client.post(url, headers=bearer(token) if token else {}, **kwargs)
        assert (response.status_code, response.json["error"]["code"]) == (status, code)
        assert response.json["error"]["message"]
    unprocessable = client.post(url, headers=bearer(supervisor), json={"x": 1}).json
    assert unprocessable["error"]["field"] == "n"
    assert client.post(url, headers=bearer(supervisor), json={"n": 5}).json == {"n": 5}


def test_lists_are_items_and_a_next_cursor(probe_app, make_user, accounts):
    client = probe_app.test_client()
    headers = bearer(accounts.issue_token(make_user("staff").id).token)
    seen, url = [], "/api/v1/probe/numbers"
    while url:
        body = client.get(url, headers=headers).json
        assert set(body) == {"items", "next"}
        seen += [item["n"] for item in body["items"]]
        url = f"/api/v1/probe/numbers?cursor={body['next']}" if body["next"] else None
    assert seen == list(range(7))
    bad = client.get("/api/v1/probe/numbers?limit=1000", headers=headers)
    assert bad.status_code == 422 and bad.json["error"]["field"] == "limit"


def test_the_openapi_document_lists_the_api(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = json.loads(response.get_data(as_text=True))
    assert spec["openapi"].startswith("3.")
    me = spec["paths"]["/api/v1/me"]["get"]
    assert me["security"] == [{"bearerAuth": []}]
    assert me["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Me"}
    assert {"401", "403", "429"} <= set(me["responses"])
    assert set(spec["components"]["schemas"]) >= {"Me", "Error"}
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_later_endpoints_add_their_paths_and_schemas(app_factory):
    app = app_factory()
    extra = Blueprint("extra", __name__, url_prefix="/api/v1")
    thing = {"type": "object", "properties": {"id": {"type": "integer"}}}

    @extra.get("/things/<int:thing_id>")
    @roles_required("staff")
    @operation("Một thứ", response="Thing", schemas={"Thing": thing},
               errors={404: "Không có người này"})
    def thing_view(thing_id):
        return jsonify({"id": thing_id})

    @extra.get("/things")
    @roles_required("staff")
    @operation("Danh sách", response="Thing", list_of=True, schemas={"Thing": thing})
    def things_view():
        return jsonify({"items": [], "next": None})

    app.register_blueprint(extra)
    spec = document(app)
    one = spec["paths"]["/api/v1/things/{thing_id}"]["get"]
    assert one["parameters"] == [{"name": "thing_id", "in": "path", "required": True,
                                  "schema": {"type": "integer", "minimum": 0,
                                             "maximum": 2**63 - 1}}]
    assert "404" in one["responses"]
    listed = spec["paths"]["/api/v1/things"]["get"]["responses"]["200"]
    assert listed["content"]["application/json"]["schema"] == list_schema("Thing")
    assert spec["components"]["schemas"]["Thing"] == thing
