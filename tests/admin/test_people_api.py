"""The people API: search by GET and POST, one person in full, errors, the OpenAPI
document. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from jsonschema import Draft202012Validator

from callengine import audit
from callengine.audit import AuditFilter
from tests.admin.test_people_pages import _with_answers, set_local_time
from tests.unit.casework_helpers import add_person

PERSON_KEYS = {"id", "full_name", "phone", "category", "status", "monitoring_end",
               "district", "commune"}


@pytest.fixture
def today(clock):
    return set_local_time(clock, 10).date()


@pytest.fixture
def an(db, today):
    with db.session() as s:
        person = add_person(s, "+84912345678", "Nguyễn Văn An", alt_phones="+84987000111",
                            period=(today - timedelta(days=3), today + timedelta(days=10)))
        add_person(s, "+84912000002", "Trần Thị Bình", category="F2", district="Hậu Lộc",
                   commune="Hoa Lộc", period=(today, today + timedelta(days=6)))
    return person.id


@pytest.fixture
def headers(make_user, accounts):
    return {"Authorization": f"Bearer {accounts.issue_token(make_user('staff').id).token}"}


def _validator(client, schema: str) -> Draft202012Validator:
    document = client.get("/api/v1/openapi.json").json
    return Draft202012Validator({"$ref": f"#/components/schemas/{schema}", **document})


@pytest.mark.parametrize("spelling", ["0912 345 678", "+84912345678", "84-912-345-678",
                                      "0987000111"])
def test_search_by_phone_in_any_spelling_gives_the_full_number(client, headers, an,
                                                               spelling):
    response = client.get("/api/v1/people", query_string={"q": spelling}, headers=headers)
    assert response.status_code == 200
    assert response.json == {"next": None, "items": [{
        "id": an, "full_name": "Nguyễn Văn An", "phone": "+84912345678", "category": "F1",
        "status": "monitoring", "monitoring_end": response.json["items"][0]["monitoring_end"],
        "district": "Nga Sơn", "commune": "Nga Liên"}]}


def test_the_search_terms_may_go_in_a_posted_json_body(client, headers, db, an):
    response = client.post("/api/v1/people/search", json={"q": "nguyen van an"},
                           headers=headers)
    assert [p["full_name"] for p in response.json["items"]] == ["Nguyễn Văn An"]
    filtered = client.post("/api/v1/people/search", json={"district": "Hậu Lộc",
                                                          "category": "F2"}, headers=headers)
    assert [p["full_name"] for p in filtered.json["items"]] == ["Trần Thị Bình"]
    assert _validator(client, "Person").is_valid(filtered.json["items"][0])
    listed = audit.query(db, AuditFilter(action="people.list")).items
    assert [e.detail for e in listed] == [{"via": "api", "results": 1}] * 2  # no terms


def test_lists_page_by_cursor_without_gaps(client, headers, db, today):
    with db.session() as s:
        for n in range(7):
            add_person(s, f"+849120001{n:02d}", f"Lê Văn {n}")
    seen, cursor = [], None
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/people", query_string=query, headers=headers).json
        seen += [p["full_name"] for p in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [f"Lê Văn {n}" for n in range(7)]
    body = client.post("/api/v1/people/search", json={"limit": 3}, headers=headers).json
    second = client.post("/api/v1/people/search", json={"limit": 3, "cursor": body["next"]},
                         headers=headers).json
    assert [p["full_name"] for p in second["items"]] == seen[3:6]


def test_one_person_in_full_matches_its_schema_and_is_audited(client, headers, db, an,
                                                              today):
    from datetime import datetime, timezone

    flag_id = _with_answers(db, an, today, datetime.now(timezone.utc))
    response = client.get(f"/api/v1/people/{an}", headers=headers)
    assert response.status_code == 200
    person = response.json
    assert _validator(client, "PersonDetail").is_valid(person)
    assert PERSON_KEYS <= set(person)
    assert (person["phone"], person["alt_phones"]) == ("+84912345678", ["+84987000111"])
    assert [p["category"] for p in person["periods"]] == ["F1"]
    day = person["calls"][0]
    assert day["day"] == today.isoformat() and day["last_outcome"] == "completed"
    answers = {a["question_id"]: a for a in day["attempts"][0]["answers"]}
    assert answers["fever"]["transcript"] == "có, tôi bị sốt" and answers["fever"]["has_audio"]
    assert answers["cough"]["has_audio"] is False
    assert [(f["id"], f["type"], f["urgent"]) for f in person["flags"]] == [
        (flag_id, "symptom", True)]
    views = audit.query(db, AuditFilter(action="person.view")).items
    assert [(v.object_id, v.detail) for v in views] == [(str(an), {"via": "api"})]


def test_errors_are_json_with_vietnamese_messages(client, headers, an):
    missing = client.get("/api/v1/people/999", headers=headers)
    assert missing.status_code == 404
    assert missing.json["error"] == {"code": "not_found", "message": "Không tìm thấy người #999."}
    bad_status = client.get("/api/v1/people?status=dead", headers=headers)
    assert bad_status.status_code == 422 and bad_status.json["error"]["code"] == "invalid"
    assert "Trạng thái 'dead' không hợp lệ" in bad_status.json["error"]["message"]
    bad_class = client.post("/api/v1/people/search", json={"category": "F9"}, headers=headers)
    assert bad_class.status_code == 422 and "Phân loại 'F9'" in bad_class.json["error"]["message"]
    too_long = client.get("/api/v1/people", query_string={"q": "a" * 101}, headers=headers)
    assert too_long.status_code == 422 and "100 ký tự" in too_long.json["error"]["message"]
    cursor = client.get("/api/v1/people?cursor=nonsense", headers=headers)
    assert cursor.status_code == 400 and cursor.json["error"]["code"] == "bad_cursor"
    assert client.get("/api/v1/people?limit=0", headers=headers).status_code == 422


@pytest.mark.parametrize("body, field", [({"q": 12}, "q"), ({"limit": "10"}, "limit"),
                                          ({"limit": 201}, "limit"), ({"name": "An"}, "name")])
def test_a_posted_search_names_the_field_it_refuses(client, headers, an, body, field):
    response = client.post("/api/v1/people/search", json=body, headers=headers)
    assert response.status_code == 422 and response.json["error"]["field"] == field


def test_a_posted_search_needs_a_json_object(client, headers, an):
    response = client.post("/api/v1/people/search", data="q=an", headers=headers)
    assert response.status_code == 400 and response.json["error"]["code"] == "bad_json"


def test_no_token_gets_401_and_a_disabled_account_too(client, make_user, accounts, an):
    assert client.get("/api/v1/people").status_code == 401
    assert client.get(f"/api/v1/people/{an}").status_code == 401
    make_user("admin")
    staff = make_user("staff")
    token = accounts.issue_token(staff.id).token
    accounts.set_active(staff.id, False)
    response = client.post("/api/v1/people/search", json={},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"


def test_the_openapi_document_lists_the_people_paths(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert set(paths["/api/v1/people"]) == {"get"}
    assert set(paths["/api/v1/people/search"]) == {"post"}
    assert set(paths["/api/v1/people/{person_id}"]) == {"get"}
    names = {p["name"] for p in paths["/api/v1/people"]["get"]["parameters"]}
    assert names == {"q", "district", "commune", "category", "status", "cursor", "limit"}
    assert "404" in paths["/api/v1/people/{person_id}"]["get"]["responses"]
    assert paths["/api/v1/people/search"]["post"]["requestBody"]["content"][
        "application/json"]["schema"] == {"$ref": "#/components/schemas/PersonSearch"}


def test_the_posted_search_documents_the_values_it_accepts_like_the_query(client):
    spec = client.get("/api/v1/openapi.json").json
    body = spec["components"]["schemas"]["PersonSearch"]["properties"]
    query = {p["name"]: p["schema"] for p in spec["paths"]["/api/v1/people"]["get"]["parameters"]}
    for name in ("category", "status"):
        assert body[name]["enum"] == [*query[name]["enum"], None]
    assert body["q"]["maxLength"] == query["q"]["maxLength"]
