"""/api/v1/imports and /api/v1/results: the preview, its commit, the history, every error."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from callengine.importer.service import import_files
from callengine.planning import plan_day
from callengine.store.models import ImportPreview, Person
from tests.admin.test_exports_pages import FORMULA, PLAN_TIME, PLANNED
from tests.fixtures.imports import workbooks as wb
from tests.unit.casework_helpers import WINDOW


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def token(make_user, accounts) -> str:
    return accounts.issue_token(make_user("staff", "lan").id).token


def count(db, model) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def post_files(client, token, *files, **fields):
    data = {"date": wb.LIST_DATE.isoformat(), **fields,
            "files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post("/api/v1/imports", data=data, headers=bearer(token),
                       content_type="multipart/form-data")


def web_file(tmp_path) -> tuple[str, bytes]:
    return ("ds_web.xlsx", wb.web_upload(tmp_path).read_bytes())


def test_a_preview_then_its_commit_then_a_refused_second_commit(client, token, db, tmp_path):
    created = post_files(client, token, web_file(tmp_path), category="F1")
    assert created.status_code == 201
    preview = created.json
    assert (preview["created"], preview["rejected"], preview["status"]) == (3, 1, "staged")
    assert (preview["list_date"], preview["category"], preview["created_by"]) == (
        "2021-08-15", "F1", "lan")
    assert preview["errors"][0]["value"] == wb.WEB_BAD_PHONE
    assert count(db, Person) == 0
    url = f"/api/v1/imports/{preview['id']}"
    assert client.get(url, headers=bearer(token)).json == preview
    committed = client.post(f"{url}/commit", headers=bearer(token))
    assert committed.status_code == 200
    assert (committed.json["created"], committed.json["status"]) == (3, "committed")
    assert count(db, Person) == wb.WEB_PEOPLE
    again = client.post(f"{url}/commit", headers=bearer(token))
    assert again.status_code == 409
    assert again.json["error"]["code"] == "committed"
    assert "không nhập lại lần nữa" in again.json["error"]["message"]
    listed = client.get("/api/v1/imports", headers=bearer(token)).json
    assert [(i["file_name"], i["created_by"]) for i in listed["items"]] == [
        ("ds_web.xlsx", "lan")]
    assert listed["next"] is None


def test_a_stale_preview_is_refused_with_409(client, token, db, tmp_path):
    preview = post_files(client, token, web_file(tmp_path)).json
    import_files(db, [wb.web_upload(tmp_path, "cung_nguoi.xlsx")], list_date=wb.LIST_DATE)
    refused = client.post(f"/api/v1/imports/{preview['id']}/commit", headers=bearer(token))
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "changed")
    assert count(db, Person) == wb.WEB_PEOPLE


@pytest.mark.parametrize("files, fields, status, code", [
    ((), {}, 400, "no_files"),
    ((("ds.csv", b"x"),), {"date": "15/08/2021"}, 400, "bad_date"),
    ((("ds.csv", b"x"),), {"category": "F9"}, 422, "invalid"),
    ((("ds.pdf", b"%PDF"),), {}, 422, "bad_type"),
    ((("ds.xlsx", bytes(range(256)) * 64),), {}, 422, "unreadable"),
])
def test_bad_uploads_get_json_errors_and_store_nothing(client, token, db, files, fields,
                                                       status, code):
    response = post_files(client, token, *files, **fields)
    assert response.status_code == status
    error = response.json["error"]
    assert error["code"] == code and error["message"]
    assert count(db, ImportPreview) == 0


def test_an_unreadable_file_lists_the_importers_problems(client, token):
    error = post_files(client, token, ("ds.xlsx", bytes(range(256)) * 64)).json["error"]
    assert error["problems"][0].startswith("ds.xlsx") and error["message"] == error["problems"][0]


def test_a_body_over_the_limit_gets_413_naming_it(client, token, db):
    response = post_files(client, token, ("lon.xlsx", bytes(21 * 2**20)))
    assert response.status_code == 413
    assert response.json["error"] == {"code": "payload_too_large",
                                      "message": "Tệp hoặc yêu cầu quá lớn (tối đa 20 MB)."}
    assert count(db, ImportPreview) == 0


def test_a_zip_bomb_gets_413(app_factory, accounts, make_user, db):
    client = app_factory(import_max_unpacked_size=8 * 2**20).test_client()
    token = accounts.issue_token(make_user("staff").id).token
    response = post_files(client, token, ("bom.xlsx", wb.zip_bomb(16 * 2**20)))
    assert (response.status_code, response.json["error"]["code"]) == (413, "too_large")
    assert "vượt giới hạn 8 MB" in response.json["error"]["message"]


def test_unknown_previews_get_404_and_no_token_401(client, token):
    for method, url in (("get", "/api/v1/imports/AAAAAAAAAAAAAAAAAAAAAA"),
                        ("post", "/api/v1/imports/AAAAAAAAAAAAAAAAAAAAAA/commit")):
        response = getattr(client, method)(url, headers=bearer(token))
        assert (response.status_code, response.json["error"]["code"]) == (404, "not_found")
        assert "Không tìm thấy bản xem trước" in response.json["error"]["message"]
    assert client.get("/api/v1/imports").status_code == 401
    assert client.post("/api/v1/imports").status_code == 401


@pytest.mark.parametrize("cursor", ["%C2%B38", "99999999999999999999", "abc"])
def test_a_history_cursor_it_did_not_give_gets_400(client, token, cursor):
    response = client.get(f"/api/v1/imports?cursor={cursor}", headers=bearer(token))
    assert (response.status_code, response.json["error"]["code"]) == (400, "bad_cursor")


def test_the_results_are_the_exports_rows(client, token, db, tmp_path):
    import_files(db, [wb.web_upload(tmp_path)], list_date=wb.LIST_DATE)
    plan_day(db, PLANNED, PLAN_TIME, WINDOW)
    response = client.get(f"/api/v1/results?date={PLANNED.isoformat()}", headers=bearer(token))
    assert response.status_code == 200 and response.json["next"] is None
    rows = {row["full_name"]: row for row in response.json["items"]}
    assert set(rows) == {FORMULA, "Nguyễn Văn Web", "Trần Thị Web"}  # JSON needs no quoting
    assert rows["Nguyễn Văn Web"]["phone"] == "+84912000951"
    assert rows["Nguyễn Văn Web"]["flagged"] == "no"
    bad = client.get("/api/v1/results?date=16/08/2021", headers=bearer(token))
    assert (bad.status_code, bad.json["error"]["code"]) == (400, "bad_date")


def test_the_openapi_document_lists_the_endpoints_with_a_multipart_body(client):
    doc = client.get("/api/v1/openapi.json").json
    upload = doc["paths"]["/api/v1/imports"]["post"]
    body = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body == {"$ref": "#/components/schemas/ImportUpload"}
    assert {"201", "400", "413", "422"} <= set(upload["responses"])
    assert set(doc["paths"]["/api/v1/imports/{preview_id}/commit"]["post"]["responses"]) >= {
        "200", "404", "409"}
    assert "get" in doc["paths"]["/api/v1/imports"] and "/api/v1/results" in doc["paths"]
