"""The supervisor's exposure review in the admin: the page, ticking and editing, household
members, the confirmation step, refusals; and the API. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import select

from callengine import audit
from callengine.audit import AuditFilter
from callengine.clock import to_db
from callengine.flags import raise_record_flag
from callengine.store.exposure import ExposureReview
from callengine.store.models import ImportBatch, Person
from callengine.store.supervision import FLAG_POSITIVE
from tests.admin.conftest import page_text
from tests.unit.exposure_helpers import TODAY, add_person, market_story


@pytest.fixture
def story(db, clock):
    with db.session() as s:
        return market_story(s, to_db(clock.now()) - timedelta(days=1))


def review_url(story):
    return f"/exposure/{story['review'].id}"


def test_the_review_lists_the_venues_and_the_candidates_ticked(client, signed_in, story):
    signed_in("supervisor")
    response = client.get(review_url(story))
    assert response.status_code == 200
    text = page_text(response)
    assert "Chợ Nga Liên" in text and "Nhà thuốc Hồng Phúc" in text
    assert "Hoàng Văn Em" in text and "Trần Thị Bích" in text
    assert "Đỗ Thị Giang" not in text  # touching stays do not overlap
    assert text.count('type="checkbox"') == 2  # the other case (F0) has no box
    assert "Phạm Văn Dũng" in text  # but is named as being there
    assert "0912000301" in text  # phones in the national form
    assert "Hoang" not in response.request.url and "0912" not in response.request.url


def test_staff_cannot_see_a_review(client, signed_in, story):
    signed_in("staff")
    assert client.get(review_url(story)).status_code == 403


def fields_for(client, story):
    page = page_text(client.get(review_url(story)))
    fields = {}
    form = page[page.index(f'action="{review_url(story)}/check"'):]
    form = form[:form.index("</form>")]
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag).group(1)
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag and " checked" not in tag:
            continue
        fields[name] = value.group(1) if value else ""
    return fields


def test_untick_add_a_household_member_check_then_confirm(client, signed_in, auth, db, story):
    signed_in("supervisor")
    fields = fields_for(client, story)
    stranger = next(n for n, v in fields.items() if v == "Hoàng Văn Em")
    fields.pop(stranger.replace("name_", "pick_"))  # unticked
    fields.update({"f2_full_name_0": "Lê Thị Hoa", "f2_phone_0": "0912 000 501",
                   "f2_commune_0": "Nga Liên", "action": "check"})
    checked = auth.post(f"{review_url(story)}/check", fields)
    assert checked.status_code == 200
    step = page_text(checked)
    assert "Trần Thị Bích" in step and "Lê Thị Hoa" in step and "Hoàng Văn Em" not in step \
        .split("Xác nhận và ghi")[0].split("F1:")[1].split("F2:")[0]
    with db.session() as s:
        assert s.get(ExposureReview, story["review"].id).status == "open"  # nothing yet
    final = {m.group(1): m.group(2) for m in re.finditer(
        r'<input type="hidden" name="([^"]+)" value="([^"]*)">',
        step[step.index("/confirm"):step.index("</form>", step.index("/confirm"))])}
    done = auth.post(f"{review_url(story)}/confirm", final)
    assert done.status_code == 303
    with db.session() as s:
        review = s.get(ExposureReview, story["review"].id)
        assert review.status == "confirmed" and review.batch_id
        batch = s.get(ImportBatch, review.batch_id)
        assert batch.rows == 2 and batch.created_by.startswith("supervisor")
        assert s.get(Person, story["known_f2"].id).category == "F1"
        hoa = s.scalars(select(Person).where(Person.phone == "+84912000501")).one()
        assert hoa.category == "F2"
        assert s.scalars(select(Person).where(Person.phone == "+84912000301")).first() is None
    confirmed_page = page_text(client.get(review_url(story)))
    assert 'type="checkbox"' not in confirmed_page and f"#{review.batch_id}" in confirmed_page
    again = auth.post(f"{review_url(story)}/confirm", final)
    assert again.status_code == 409 and "không xác nhận lại" in page_text(again)
    actions = [e.action for e in audit.query(db, AuditFilter()).items]
    assert "exposure.confirm" in actions and "exposure.view" in actions


def test_a_bad_phone_is_refused_and_the_review_stays_open(client, signed_in, auth, db, story):
    signed_in("supervisor")
    fields = fields_for(client, story)
    fields.update({"f2_full_name_0": "Lê Thị Hoa", "f2_phone_0": "12345"})
    response = auth.post(f"{review_url(story)}/confirm", fields)
    assert response.status_code == 422 and "Lê Thị Hoa" in page_text(response)
    with db.session() as s:
        assert s.get(ExposureReview, story["review"].id).status == "open"


def test_a_changed_window_recomputes_the_candidates(client, signed_in, auth, db, story):
    signed_in("supervisor")
    review = story["review"]
    response = auth.post(f"{review_url(story)}/window", {
        "version": str(review.version), "start": "2020-01-01T08:00", "end": "2020-01-02T08:00"})
    assert response.status_code == 303
    text = page_text(client.get(review_url(story)))
    assert "Hoàng Văn Em" not in text and "01/01/2020" not in text
    stale = auth.post(f"{review_url(story)}/window", {
        "version": str(review.version), "start": "2020-01-01T08:00", "end": "2020-01-03T08:00"})
    assert stale.status_code == 409


def test_the_case_page_and_the_flag_lead_to_the_review(client, signed_in, db, clock, story):
    signed_in("supervisor")
    person_page = page_text(client.get(f"/people/{story['case'].id}"))
    assert f"/exposure/person/{story['case'].id}" in person_page
    response = client.get(f"/exposure/person/{story['case'].id}")
    assert response.status_code == 302 and response.location.endswith(review_url(story))
    with db.session() as s:  # the positive result's flag, as the samples raise it
        flag_id = raise_record_flag(s, person_id=story["case"].id, kind=FLAG_POSITIVE,
                                    urgent=True, detail=None, reference="sample:ABC123",
                                    day=TODAY, now=clock.now()).id
    assert f"/exposure/flag/{flag_id}" in page_text(client.get(f"/flags/{flag_id}"))
    response = client.get(f"/exposure/flag/{flag_id}")
    assert response.status_code == 302 and response.location.endswith(review_url(story))


def test_a_case_without_a_review_can_have_one_opened(client, signed_in, auth, db, clock):
    signed_in("supervisor")
    with db.session() as s:
        case = add_person(s, "Ngô Văn Khải", "+84912000777", "F0", status="F0")
    page = client.get(f"/exposure/person/{case.id}")
    assert page.status_code == 200 and "Mở" in page_text(page)
    opened = auth.post(f"/exposure/person/{case.id}/open")
    assert opened.status_code == 303 and "/exposure/" in opened.location
    with db.session() as s:
        assert s.scalars(select(ExposureReview).where(ExposureReview.person_id == case.id)).one()


# --- the API --------------------------------------------------------------------------------


def _validator(client, schema: str) -> Draft202012Validator:
    document = client.get("/api/v1/openapi.json").json
    return Draft202012Validator({"$ref": f"#/components/schemas/{schema}", **document})


def test_the_api_lists_the_candidates_with_their_visits(client, token_of, story):
    response = client.get(f"/api/v1/people/{story['case'].id}/exposure",
                          headers=token_of("supervisor"))
    assert response.status_code == 200
    _validator(client, "Exposure").validate(response.json)
    body = response.json
    assert body["review"]["id"] == story["review"].id and body["review"]["status"] == "open"
    candidates = {c["phone"]: c for c in body["candidates"]}
    assert candidates["+84912000202"]["person_id"] == story["known_f2"].id
    assert candidates["+84912000301"]["person_id"] is None
    assert candidates["+84912000301"]["full_name"] == "Hoàng Văn Em"
    assert [v["minutes"] for v in candidates["+84912000202"]["visits"]] == [50, 10]
    assert candidates["+84912000404"]["proposed"] is False
    assert {v["name"]: v["contacts"] for v in body["venues"]} == {
        "Chợ Nga Liên": 3, "Nhà thuốc Hồng Phúc": 1}


def test_the_api_confirms_once(client, token_of, db, story):
    headers = token_of("supervisor")
    url = f"/api/v1/people/{story['case'].id}/exposure/confirm"
    body = {"f1": [{"checkin_id": story["stranger"].id}, {"person_id": story["known_f2"].id}],
            "f2": [{"full_name": "Lê Thị Hoa", "phone": "0912000501"}]}
    response = client.post(url, json=body, headers=headers)
    assert response.status_code == 200, response.json
    _validator(client, "ExposureConfirmed").validate(response.json)
    assert (response.json["f1"], response.json["f2"], response.json["created"]) == (2, 1, 2)
    again = client.post(url, json=body, headers=headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "conflict"


def test_the_api_refuses_bad_items_and_staff(client, token_of, story):
    url = f"/api/v1/people/{story['case'].id}/exposure/confirm"
    bad = client.post(url, json={"f1": [{"phone": 912}]}, headers=token_of("supervisor"))
    assert bad.status_code == 422 and "f1[0].phone" in bad.json["error"]["message"]
    unknown = client.post(url, json={"f3": []}, headers=token_of("supervisor", "sup2"))
    assert unknown.status_code == 422 and unknown.json["error"]["field"] == "f3"
    assert client.get(f"/api/v1/people/{story['case'].id}/exposure",
                      headers=token_of("staff")).status_code == 403
    assert client.get("/api/v1/people/999999/exposure",
                      headers=token_of("admin")).status_code == 404
