"""The risk self-assessment pages: the business's public form /v/<token>/risk (result, bad
answers, CSRF, rate limits, rotated and unknown links), the venue page's section and staff
form, the high-risk list by district, the venue list's and dashboard's flagged venues."""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from callengine.health.risk import record_assessment, risk_token, venue_history
from callengine.health.risk_criteria import default_criteria
from callengine.health.venues import create_venue
from callengine.store.accounts import AuditEvent
from tests.admin.conftest import page_text
from tests.unit.test_risk import answers_worth, best, worst

PUBLIC_URL = "https://khaibao.example.vn"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NOW = datetime(2021, 8, 2, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def app(app_factory):
    return app_factory(public_url=PUBLIC_URL)


@pytest.fixture
def venue(db):
    return create_venue(db, {"name": "Xưởng may Hòa Bình", "district": "Đông Sơn"},
                        now=NOW, created_by="lan")


@pytest.fixture
def link(db, venue):
    return f"/v/{risk_token(db, venue.id, now=NOW)}/risk"


def _send(client, link, answers, *, by="Lê Văn Minh 0912345678", token=True,
          address="127.0.0.1"):
    data = {**answers, "submitted_by": by}
    if token:
        data["csrf_token"] = _CSRF.search(page_text(client.get(link))).group(1)
    return client.post(link, data=data, environ_base={"REMOTE_ADDR": address})


def _actions(db, prefix="risk."):
    with db.session() as s:
        return [a for a in s.scalars(select(AuditEvent.action).order_by(AuditEvent.id))
                if a.startswith(prefix)]


def test_the_public_form_is_vietnamese_light_and_lists_every_criterion(client, link):
    response = client.get(link)
    page = page_text(response)
    assert response.status_code == 200 and '<html lang="vi">' in page
    assert "Xưởng may Hòa Bình" in page and "Gửi đánh giá" in page
    assert "Số người lao động làm việc cùng lúc tại cơ sở" in page and "Làm ca đêm" in page
    options = sum(len(c.options) for c in default_criteria().criteria)
    assert page.count('type="radio"') == options and "<script" not in page
    assert len(response.data) < 30 * 1024


def test_a_sent_assessment_shows_score_band_advice_and_is_kept(client, link, db, venue):
    response = _send(client, link, worst())
    page = html.unescape(page_text(response))
    assert response.status_code == 200
    assert "Nguy cơ rất cao" in page and "100 %" in page and "Không được hoạt động." in page
    (kept,) = venue_history(db, venue.id)
    assert (kept.band.code, kept.submitted_by) == ("very_high", "Lê Văn Minh 0912345678")
    assert _actions(db) == ["risk.submit"]


def test_a_medium_score_with_a_bad_component_is_high_and_names_it(client, link):
    answers = answers_worth(30)
    answers["workers_together"] = "ge1000"
    page = html.unescape(page_text(_send(client, link, answers)))
    assert "Nguy cơ cao" in page and "cần khắc phục" in page
    assert "Số người lao động làm việc cùng lúc tại cơ sở" in page


def test_missing_answers_are_marked_and_nothing_is_kept(client, link, db, venue):
    answers = best()
    del answers["masks_worn"]
    response = _send(client, link, answers, by="")
    page = html.unescape(page_text(response))
    assert response.status_code == 422
    assert "Chưa trả lời: Tỷ lệ người lao động đeo khẩu trang" in page
    assert 'aria-invalid="true"' in page and f'value="{best()["night_shifts"]}" checked' in page
    assert venue_history(db, venue.id) == []


def test_a_form_without_its_csrf_token_is_refused_in_vietnamese(client, link, db, venue):
    response = _send(client, link, best(), token=False)
    assert response.status_code == 400 and "Trang đánh giá đã hết hạn" in page_text(response)
    assert venue_history(db, venue.id) == []


def test_too_many_forms_from_one_address_get_429_in_vietnamese(app_factory, link):
    client = app_factory(risk_limit_client="2 per minute").test_client()
    for _ in range(2):
        assert _send(client, link, best()).status_code == 200
    refused = _send(client, link, best())
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    assert "Có quá nhiều lượt gửi đánh giá" in page_text(refused)
    assert _send(client, link, best(), address="10.0.0.9").status_code == 200


def test_a_venue_past_its_limit_gets_429_from_every_client(app_factory, link):
    client = app_factory(risk_limit_venue="1 per 1 hour").test_client()
    assert _send(client, link, best(), address="10.0.0.1").status_code == 200
    refused = _send(client, link, best(), address="10.0.0.2")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "3600"


def test_unknown_and_rotated_links_are_refused_clearly(client, auth, signed_in, link, venue):
    unknown = client.get("/v/aaaabbbbccccddddeeeeffffgggg/risk")
    assert unknown.status_code == 404 and "Không tìm thấy cơ sở" in page_text(unknown)
    assert client.get(f"/v/{venue.token}/risk").status_code == 404  # the check-in code
    signed_in("admin")
    assert auth.post(f"/venues/{venue.id}/rotate", {"confirm": "y"}).status_code == 303
    old = client.get(link)
    assert old.status_code == 410 and "đã được thay bằng đường dẫn mới" in page_text(old)
    page = page_text(client.get(f"/venues/{venue.id}"))
    new = re.search(r"/v/([a-z2-7]{28})/risk", page).group(0)
    assert new != link and client.get(new).status_code == 200


def test_the_venue_page_shows_the_link_latest_result_and_history(client, signed_in, db,
                                                                 venue, link):
    signed_in("staff")
    page = html.unescape(page_text(client.get(f"/venues/{venue.id}")))
    assert "Đánh giá nguy cơ" in page and "Chưa có bản đánh giá nào." in page
    assert f"{PUBLIC_URL}{link}" in page
    record_assessment(db, venue.id, worst(), submitted_by="Lê Văn Minh", now=NOW)
    record_assessment(db, venue.id, answers_worth(20), submitted_by="Lê Văn Minh", now=NOW)
    page = html.unescape(page_text(client.get(f"/venues/{venue.id}")))
    assert "Nguy cơ thấp" in page and "20 %" in page and "100 %" in page
    assert page.index("Nguy cơ thấp") < page.index("Nguy cơ rất cao")  # latest first


def test_staff_fill_in_the_form_for_a_venue(client, auth, signed_in, db, venue):
    staff = signed_in("staff")
    assert client.get(f"/venues/{venue.id}/risk").status_code == 200
    response = auth.post(f"/venues/{venue.id}/risk", worst())
    assert response.status_code == 303
    page = html.unescape(page_text(client.get(response.headers["Location"])))
    assert "Đã lưu bản đánh giá: Nguy cơ rất cao (100 %)." in page
    (kept,) = venue_history(db, venue.id)
    assert kept.submitted_by == staff.username
    assert "risk.assess" in _actions(db)
    bad = auth.post(f"/venues/{venue.id}/risk", {})
    assert bad.status_code == 422 and "Chưa trả lời" in html.unescape(page_text(bad))


def test_the_high_risk_list_filters_by_district_and_is_audited(client, signed_in, db):
    def venue_at(name, district, answers):
        found = create_venue(db, {"name": name, "district": district}, now=NOW,
                             created_by="lan")
        record_assessment(db, found.id, answers, submitted_by="x", now=NOW)
        return found

    venue_at("Nhà máy giày Alpha", "Đông Sơn", worst())
    venue_at("Cửa hàng Bình An", "Đông Sơn", best())
    venue_at("Nhà máy Đức", "Sầm Sơn", answers_worth(60, spread=False))
    signed_in("staff")
    everywhere = html.unescape(page_text(client.get("/venues/risk")))
    assert "Nhà máy giày Alpha" in everywhere and "Nhà máy Đức" in everywhere
    assert "Cửa hàng Bình An" not in everywhere
    one = html.unescape(page_text(client.get("/venues/risk", query_string={
        "district": "Đông Sơn"})))
    assert "Nhà máy giày Alpha" in one and "Nhà máy Đức" not in one
    assert _actions(db).count("risk.list") == 2
    venues_page = html.unescape(page_text(client.get("/venues")))
    assert "Nguy cơ rất cao · Được đánh dấu" in venues_page and "Nguy cơ rất thấp" in venues_page
    dashboard = html.unescape(page_text(client.get("/")))
    assert re.search(r'risk-flagged-count">2<', dashboard)
