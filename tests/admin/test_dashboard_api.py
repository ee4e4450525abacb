"""The calls log, the dashboard and the campaign in the JSON API, and their error codes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from callengine import audit, campaign
from callengine.audit import AuditFilter
from tests.admin.dashboard_helpers import DAY_FIGURES, add_call, seed_day
from tests.admin.flag_helpers import FixedClock
from tests.unit.casework_helpers import DAY, NOW


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def settings(app):
    return app.extensions["callengine"].settings


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code
    return response.json["error"]


def test_calls_are_todays_with_utc_times_and_no_full_phone_or_name(client, db, token_of):
    seed_day(db)
    add_call(db, outcome="busy", day=DAY - timedelta(days=1), at=NOW - timedelta(days=1))
    response = client.get("/api/v1/calls", headers=token_of("staff"))
    assert response.status_code == 200
    items = response.json["items"]
    assert len(items) == 5 and response.json["next"] is None
    first = items[0]
    assert first["time"] == "2026-11-30T03:00:00Z" and first["outcome"] == "completed"
    assert first["phone_masked"] != "+84912345678" and "name" not in first
    assert "phone" not in first and first["duration"] == 120
    yesterday = client.get("/api/v1/calls?date=2026-11-29", headers=token_of("staff")).json
    assert [i["outcome"] for i in yesterday["items"]] == ["busy"]


def test_calls_filter_and_page_by_cursor(client, db, token_of):
    seed_day(db)
    headers = token_of("supervisor")
    def ids(query: str) -> list[str]:
        return [i["id"] for i in client.get(f"/api/v1/calls?{query}", headers=headers)
                .json["items"]]
    assert len(ids("outcome=no_answer")) == 3 and len(ids("district=Thọ Xuân")) == 1
    assert ids("trunk=nowhere") == [] and len(ids("server=srv-1")) == 5
    seen, cursor = [], ""
    while True:
        body = client.get(f"/api/v1/calls?limit=2{cursor}", headers=headers).json
        seen += [i["id"] for i in body["items"]]
        if body["next"] is None:
            break
        cursor = f"&cursor={body['next']}"
    assert len(seen) == len(set(seen)) == 5


def test_calls_refuse_bad_arguments_with_codes(client, token_of):
    headers = token_of("staff")
    _error(client.get("/api/v1/calls?cursor=nonsense", headers=headers), 400, "bad_cursor")
    error = _error(client.get("/api/v1/calls?outcome=maybe", headers=headers), 422, "invalid")
    assert error["field"] == "outcome" and "outcome phải là một trong" in error["message"]
    error = _error(client.get("/api/v1/calls?date=30/11/2026", headers=headers), 422, "invalid")
    assert error["field"] == "date"
    _error(client.get("/api/v1/calls?limit=0", headers=headers), 422, "invalid")
    _error(client.get("/api/v1/calls"), 401, "unauthorized")


def test_the_dashboard_of_a_day_for_any_role(client, db, settings, token_of):
    seed_day(db)
    campaign.pause(db, settings, "hoa", NOW)
    body = client.get("/api/v1/dashboard", headers=token_of("staff")).json
    assert {k: body["totals"][k] for k in DAY_FIGURES} == DAY_FIGURES
    assert body["day"] == "2026-11-30" and body["paused"] is True and len(body["series"]) == 14
    assert [d["district"] for d in body["districts"]] == ["Nga Sơn", "Thọ Xuân"]
    other = client.get("/api/v1/dashboard?date=2026-11-29", headers=token_of("staff")).json
    assert other["totals"]["planned"] == 0
    _error(client.get("/api/v1/dashboard?date=hôm nay", headers=token_of("staff")), 422,
           "invalid")


def test_reading_and_changing_the_campaign(client, db, settings, token_of):
    headers = token_of("supervisor", "lan")
    trunk = settings.trunks[0].name
    body = client.get("/api/v1/campaign", headers=headers).json
    assert body["revision"] == 0 and body["paused"] is False
    response = client.put("/api/v1/campaign", headers=headers, json={
        "revision": 0, "paused": True, "retry_busy": "15m", "trunks": {trunk: {"cps": 1.5}}})
    assert response.status_code == 200
    assert response.json["paused"] and response.json["paused_by"] == "lan"
    assert response.json["trunks"][trunk]["cps"] == 1.5 and response.json["retry_busy"] == 900
    assert campaign.current(db, settings).paused
    (event,) = audit.query(db, AuditFilter(action="campaign.update")).items
    assert event.username == "lan" and event.detail["changes"] == {
        "paused": True, "retry_busy": 900, f"trunk.{trunk}.cps": 1.5}


def test_campaign_errors_have_their_codes_and_change_nothing(client, db, settings, token_of):
    headers = token_of("supervisor", "lan")
    trunk = settings.trunks[0].name
    error = _error(client.put("/api/v1/campaign", headers=headers, json={
        "retry_busy": "soon", "trunks": {trunk: {"max_channels": 0}}}), 422, "invalid_campaign")
    assert set(error["errors"]) == {"retry_busy", f"trunk.{trunk}.max_channels"}
    assert "số nguyên từ 1" in error["errors"][f"trunk.{trunk}.max_channels"]
    error = _error(client.put("/api/v1/campaign", headers=headers,
                              json={"revision": "latest", "paused": True}), 422, "invalid")
    assert error["field"] == "revision"
    campaign.update(db, settings, {"retry_busy": 60}, "hoa", NOW)
    error = _error(client.put("/api/v1/campaign", headers=headers,
                              json={"revision": 0, "retry_busy": 120}), 409, "campaign_conflict")
    assert "hoa" in error["message"]
    _error(client.put("/api/v1/campaign", headers=headers, data="paused=true"), 400,
           "bad_json")
    _error(client.put("/api/v1/campaign", headers=token_of("staff"), json={"paused": True}),
           403, "forbidden")
    _error(client.get("/api/v1/campaign", headers=token_of("staff")), 403, "forbidden")
    _error(client.get("/api/v1/campaign"), 401, "unauthorized")
    _error(client.get("/api/v1/campaign/1", headers=headers), 404, "not_found")
    assert campaign.current(db, settings).retry_busy == 60
    assert not campaign.current(db, settings).paused


def test_the_openapi_document_describes_the_new_paths(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert set(paths["/api/v1/campaign"]) == {"get", "put"}
    assert "422" in paths["/api/v1/campaign"]["put"]["responses"]
    assert {p["name"] for p in paths["/api/v1/calls"]["get"]["parameters"]} >= {
        "date", "outcome", "trunk", "district", "server", "cursor", "limit"}
    assert "/api/v1/dashboard" in paths
