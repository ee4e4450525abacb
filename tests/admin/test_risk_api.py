"""The risk self-assessment API: answers in, score and band out; the history; errors in the
API's form; answers match the OpenAPI document; audited."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from jsonschema import Draft202012Validator

from callengine import audit
from callengine.audit import AuditFilter
from callengine.health.venues import create_venue
from tests.unit.test_risk import answers_worth, best, worst


@pytest.fixture
def staff(token_of):
    return token_of("staff")


@pytest.fixture
def venue(db):
    return create_venue(db, {"name": "Xưởng may Hòa Bình"},
                        now=datetime(2021, 8, 2, tzinfo=timezone.utc), created_by="lan")


def _validator(client, schema: str) -> Draft202012Validator:
    document = client.get("/api/v1/openapi.json").json
    return Draft202012Validator({"$ref": f"#/components/schemas/{schema}", **document})


def test_answers_give_the_score_band_and_advice_and_build_the_history(client, staff, venue,
                                                                      db):
    url = f"/api/v1/venues/{venue.id}/risk-assessments"
    medium = answers_worth(30)
    medium["workers_together"] = "ge1000"
    first = client.post(url, json={"answers": medium}, headers=staff)
    assert first.status_code == 201
    _validator(client, "RiskAssessment").validate(first.json)
    assert (first.json["band"], first.json["flagged"], first.json["alerts"]) == (
        "high", True, ["workers_together"])
    second = client.post(url, json={"answers": best()}, headers=staff).json
    assert (second["points"], second["index_percent"], second["band_label"]) == (
        0, 0.0, "Nguy cơ rất thấp")
    history = client.get(url, headers=staff)
    assert history.status_code == 200
    assert [item["id"] for item in history.json["items"]] == [second["id"], first.json["id"]]
    assert history.json["next"] is None
    assert client.get(url, query_string={"limit": 1}, headers=staff).json["items"][0][
        "id"] == second["id"]
    actions = [e.action for e in audit.query(db, AuditFilter(object_type="venue")).items]
    assert actions == ["risk.history", "risk.history", "risk.assess", "risk.assess"]


def test_bad_answers_and_unknown_venues_answer_in_the_api_error_form(client, staff, venue):
    url = f"/api/v1/venues/{venue.id}/risk-assessments"
    missing = best()
    del missing["night_shifts"]
    refused = client.post(url, json={"answers": missing}, headers=staff)
    assert refused.status_code == 422
    assert refused.json["error"]["field"] == "night_shifts"
    assert "Chưa trả lời" in refused.json["error"]["message"]
    wrong = client.post(url, json={"answers": {**worst(), "masks_worn": "x"}}, headers=staff)
    assert wrong.status_code == 422 and wrong.json["error"]["field"] == "masks_worn"
    assert client.post(url, json={"answers": []}, headers=staff).status_code == 422
    assert client.post(url, json={"answers": best(), "by": "x"},
                       headers=staff).status_code == 422
    assert client.post(url, data="x", headers=staff).status_code == 400
    assert client.post("/api/v1/venues/999/risk-assessments", json={"answers": best()},
                       headers=staff).status_code == 404
    assert client.get("/api/v1/venues/999/risk-assessments",
                      headers=staff).status_code == 404
    assert client.get(url).status_code == 401
