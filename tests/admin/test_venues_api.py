"""The venues API: create (id, token, checkin_url), list and page, one venue, the poster,
rotating the token (admins), errors in the API's form; answers match the OpenAPI document."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from callengine import audit
from callengine.audit import AuditFilter

PUBLIC_URL = "https://khaibao.example.vn"
MARKET = {"name": "Chợ Vườn Hoa", "kind": "market", "address": "12 Lê Lợi",
          "district": "TP Thanh Hóa", "commune": "Điện Biên", "contact_phone": "0912345678",
          "latitude": 19.807, "longitude": 105.776, "stay_minutes": 45}


@pytest.fixture
def app(app_factory):
    return app_factory(public_url=PUBLIC_URL)


@pytest.fixture
def staff(token_of):
    return token_of("staff")


def _validator(client, schema: str) -> Draft202012Validator:
    document = client.get("/api/v1/openapi.json").json
    return Draft202012Validator({"$ref": f"#/components/schemas/{schema}", **document})


def test_a_created_venue_answers_its_token_and_check_in_url(client, staff, db):
    response = client.post("/api/v1/venues", json=MARKET, headers=staff)
    assert response.status_code == 201
    venue = response.json
    _validator(client, "Venue").validate(venue)
    assert venue["checkin_url"] == f"{PUBLIC_URL}/c/{venue['token']}"
    assert (venue["contact_phone"], venue["stay_minutes"], venue["active"]) == (
        "+84912345678", 45, True)
    assert client.get(f"/api/v1/venues/{venue['id']}", headers=staff).json == venue
    assert client.get(venue["checkin_url"].removeprefix(PUBLIC_URL)).status_code == 200
    actions = [e.action for e in audit.query(db, AuditFilter(object_type="venue")).items]
    assert actions == ["venue.view", "venue.create"]


def test_bad_bodies_get_the_api_error_form_naming_the_field(client, staff):
    missing = client.post("/api/v1/venues", json={"kind": "market"}, headers=staff)
    assert missing.status_code == 422
    assert missing.json["error"] == {"code": "invalid", "field": "name",
                                     "message": "Hãy nhập tên địa điểm."}
    unknown = client.post("/api/v1/venues", json={"name": "A", "owner": "x"}, headers=staff)
    assert (unknown.status_code, unknown.json["error"]["field"]) == (422, "owner")
    phone = client.post("/api/v1/venues", json={"name": "A", "contact_phone": "12"},
                        headers=staff)
    assert phone.json["error"]["field"] == "contact_phone"
    assert client.post("/api/v1/venues", data="x", headers=staff).status_code == 400
    assert client.get("/api/v1/venues/999", headers=staff).json["error"]["code"] == "not_found"
    assert client.get("/api/v1/venues?cursor=zz", headers=staff).status_code == 400


def test_the_list_is_paged_in_name_order_and_searchable(client, staff):
    for name in ("Xưởng may Hà Trung", "Chợ Vườn Hoa", "Chợ Tây Thành"):
        client.post("/api/v1/venues", json={"name": name}, headers=staff)
    first = client.get("/api/v1/venues?limit=2", headers=staff).json
    assert [v["name"] for v in first["items"]] == ["Chợ Tây Thành", "Chợ Vườn Hoa"]
    rest = client.get("/api/v1/venues", query_string={"cursor": first["next"]},
                      headers=staff).json
    assert ([v["name"] for v in rest["items"]], rest["next"]) == (["Xưởng may Hà Trung"], None)
    found = client.get("/api/v1/venues", query_string={"q": "ha trung"}, headers=staff).json
    assert [v["name"] for v in found["items"]] == ["Xưởng may Hà Trung"]


def test_the_poster_is_a_pdf_and_needs_the_public_address(client, app_factory, staff):
    venue = client.post("/api/v1/venues", json=MARKET, headers=staff).json
    poster = client.get(f"/api/v1/venues/{venue['id']}/poster.pdf", headers=staff)
    assert poster.mimetype == "application/pdf" and poster.data.startswith(b"%PDF")
    bare = app_factory().test_client()  # the same database, public_url unset
    refused = bare.get(f"/api/v1/venues/{venue['id']}/poster.pdf", headers=staff)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "no_public_url"


def test_only_admins_rotate_and_the_old_url_then_gets_the_message(client, staff, token_of):
    venue = client.post("/api/v1/venues", json=MARKET, headers=staff).json
    url = f"/api/v1/venues/{venue['id']}/rotate-token"
    assert client.post(url, headers=staff).status_code == 403
    rotated = client.post(url, headers=token_of("admin"))
    assert rotated.status_code == 200
    assert rotated.json["token"] != venue["token"] and rotated.json["token_rotated_at"]
    old = client.get(f"/c/{venue['token']}")
    assert old.status_code == 410
    assert "Mã QR này đã được thay bằng mã mới" in old.get_data(as_text=True)


def test_the_openapi_document_describes_the_venue_operations(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert set(paths["/api/v1/venues"]) == {"get", "post"}
    assert "get" in paths["/api/v1/venues/{venue_id}"]
    assert "get" in paths["/api/v1/venues/{venue_id}/poster.pdf"]
    assert "post" in paths["/api/v1/venues/{venue_id}/rotate-token"]
    assert "201" in paths["/api/v1/venues"]["post"]["responses"]
