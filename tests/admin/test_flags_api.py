"""The flags in the JSON API: list, one flag, actions, and their error codes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.admin.flag_helpers import FixedClock, flag_row, seed_flag, task_of


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def supervisor(token_of):
    return token_of("supervisor", "lan")


def _act(client, headers, flag_id, **body):
    return client.post(f"/api/v1/flags/{flag_id}/actions", json=body, headers=headers)


def test_the_list_is_urgent_first_and_filters_by_status_type_and_urgency(client, db,
                                                                         supervisor):
    plain = seed_flag(db, urgent=False, age=timedelta(hours=2), phone="+84912000001")
    urgent = seed_flag(db, kind="callback", urgent=True, phone="+84912000002")
    response = client.get("/api/v1/flags?status=open", headers=supervisor)
    assert response.status_code == 200
    items = response.json["items"]
    assert [f["id"] for f in items] == [urgent.flag_id, plain.flag_id]
    assert items[0] == {"id": urgent.flag_id, "type": "callback", "urgent": True,
                        "status": "open", "person_id": urgent.person_id,
                        "created_at": "2026-11-30T03:00:00Z", "detail": "fever",
                        "assigned_to": None, "version": 1, "district": "Nga Sơn",
                        "commune": "Nga Liên"}
    assert response.json["next"] is None
    assert "+8491200000" not in response.get_data(as_text=True)  # no phone in a list

    def ids(query: str) -> list[int]:
        return [f["id"] for f in client.get(f"/api/v1/flags?{query}",
                                            headers=supervisor).json["items"]]
    assert ids("type=symptom") == [plain.flag_id]
    assert ids("urgent=false") == [plain.flag_id]
    assert ids("status=closed") == []


def test_the_list_pages_with_its_cursor_and_refuses_bad_arguments(client, db, supervisor):
    flags = [seed_flag(db, urgent=False, age=timedelta(hours=h), phone=f"+8491200001{h}")
             for h in (3, 2, 1)]
    first = client.get("/api/v1/flags?limit=2", headers=supervisor).json
    assert [f["id"] for f in first["items"]] == [flags[0].flag_id, flags[1].flag_id]
    rest = client.get(f"/api/v1/flags?limit=2&cursor={first['next']}", headers=supervisor)
    assert [f["id"] for f in rest.json["items"]] == [flags[2].flag_id]
    assert rest.json["next"] is None
    for query, status in (("cursor=garbage", 400), ("type=nonsense", 422),
                          ("status=maybe", 422), ("urgent=perhaps", 422), ("limit=0", 422)):
        response = client.get(f"/api/v1/flags?{query}", headers=supervisor)
        assert response.status_code == status, query
        assert response.json["error"]["message"], query


def test_one_flag_has_its_person_answers_recordings_and_history(client, db, supervisor):
    seeded = seed_flag(db)
    body = client.get(f"/api/v1/flags/{seeded.flag_id}", headers=supervisor).json
    assert body["person"]["phone"] == "+84912345678"
    assert body["person"]["full_name"] == "Nguyễn Văn An"
    spoken, keyed = body["answers"]
    assert (spoken["question_id"], spoken["value"], spoken["source"], spoken["transcript"],
            spoken["recording"]) == ("fever", "yes", "speech", "có tôi bị sốt",
                                     f"/recordings/{seeded.answer_id}")
    assert spoken["question"].startswith("Hôm nay bạn có bị sốt không?")
    assert (keyed["source"], keyed["recording"]) == ("dtmf", None)
    assert body["history"] == []
    missing = client.get("/api/v1/flags/999999", headers=supervisor)
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"


def test_an_action_answers_the_new_state_and_its_effect(client, db, supervisor):
    seeded = seed_flag(db, kind="callback", task_status="exhausted", outcome="no_answer")
    response = _act(client, supervisor, seeded.flag_id, action="called_back_not_reached",
                    note=None)
    assert response.status_code == 200
    assert response.json["effect"] == "call_scheduled"
    assert response.json["flag"]["version"] == 2 and response.json["flag"]["status"] == "open"
    assert response.json["flag"]["updated_by"] == "lan"
    assert task_of(db, seeded.person_id).status == "pending"  # called again today
    closed = _act(client, supervisor, seeded.flag_id, action="closed", note="xong", version=2)
    assert closed.status_code == 200 and closed.json["flag"]["status"] == "closed"
    history = client.get(f"/api/v1/flags/{seeded.flag_id}", headers=supervisor).json["history"]
    assert [(e["action"], e["actor"]) for e in history] == [
        ("called_back_not_reached", "lan"), ("closed", "lan")]


def test_action_errors_have_their_codes_and_change_nothing(client, db, supervisor, token_of):
    seeded = seed_flag(db)
    flag_id = seeded.flag_id

    def refused(response, status: int, code: str) -> str:
        assert response.status_code == status, response.json
        assert response.json["error"]["code"] == code
        assert flag_row(db, flag_id).version == 1
        return response.json["error"]["message"]

    assert "không hợp lệ" in refused(_act(client, supervisor, flag_id, action="fly_away"),
                                     422, "invalid")
    assert "Cần ghi chú" in refused(_act(client, supervisor, flag_id, action="closed"),
                                    422, "invalid")
    refused(_act(client, supervisor, flag_id, action="number_corrected", phone="12"), 422,
            "invalid")
    refused(_act(client, supervisor, flag_id, action="closed", note="x", version="1"), 422,
            "invalid")
    refused(client.post(f"/api/v1/flags/{flag_id}/actions", data="not json",
                        headers={**supervisor, "Content-Type": "application/json"}),
            400, "bad_json")
    refused(_act(client, supervisor, 999999, action="closed", note="x"), 404, "not_found")
    refused(_act(client, {}, flag_id, action="closed", note="x"), 401, "unauthorized")
    refused(_act(client, token_of("staff"), flag_id, action="closed", note="x"), 403,
            "forbidden")
    assert client.get("/api/v1/flags", headers=token_of("staff")).status_code == 403
    assert client.get(f"/api/v1/flags/{flag_id}").status_code == 401


def test_a_stale_version_and_a_closed_flag_get_409(client, db, supervisor, token_of):
    seeded = seed_flag(db)
    hoa = token_of("supervisor", "hoa")
    assert _act(client, hoa, seeded.flag_id, action="advised_isolation", note="đã dặn",
                version=1).status_code == 200
    stale = _act(client, supervisor, seeded.flag_id, action="closed", note="x", version=1)
    assert stale.status_code == 409 and stale.json["error"]["code"] == "conflict"
    assert "vừa được hoa cập nhật" in stale.json["error"]["message"]
    assert stale.json["error"]["current"]["version"] == 2
    assert flag_row(db, seeded.flag_id).status == "open"
    assert _act(client, hoa, seeded.flag_id, action="closed", note="xong").status_code == 200
    closed = _act(client, supervisor, seeded.flag_id, action="closed", note="lại")
    assert closed.status_code == 409 and closed.json["error"]["code"] == "flag_closed"
    assert "đã đóng" in closed.json["error"]["message"]


def test_the_openapi_document_lists_the_flag_paths_with_schemas(client):
    doc = client.get("/api/v1/openapi.json").json
    assert {"get"} <= set(doc["paths"]["/api/v1/flags"])
    assert "get" in doc["paths"]["/api/v1/flags/{flag_id}"]
    action = doc["paths"]["/api/v1/flags/{flag_id}/actions"]["post"]
    assert action["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ActionRequest"}
    assert {"200", "401", "403", "404", "409", "422"} <= set(action["responses"])
    schemas = doc["components"]["schemas"]
    assert {"id", "type", "urgent", "status", "person_id", "created_at"} <= set(
        schemas["Flag"]["required"])
    assert "called_back_reached" in schemas["ActionRequest"]["properties"]["action"]["enum"]
