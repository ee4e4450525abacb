"""The public check-in page /c/<token>: the form, a check-in, the remembered phone, the
refusals (CSRF, bad values, rate limits, unknown and stopped venues) and privacy."""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from callengine.health.venues import create_venue, update_venue
from callengine.store.supervision import FLAG_DECLARATION, Flag
from callengine.store.venues import CheckIn
from tests.admin.conftest import page_text

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LAN = {"full_name": "Lê Thị Lan", "phone": "0912 345 678"}


@pytest.fixture
def venue(db):
    return create_venue(db, {"name": "Chợ Vườn Hoa", "address": "12 Lê Lợi"},
                        now=datetime.now(timezone.utc), created_by="lan")


def _send(client, venue, values, *, token: bool = True, address: str = "127.0.0.1"):
    url = f"/c/{venue.token}"
    data = dict(values)
    if token:
        data["csrf_token"] = _CSRF.search(page_text(client.get(url))).group(1)
    return client.post(url, data=data, environ_base={"REMOTE_ADDR": address})


def _visits(db):
    with db.session() as s:
        return list(s.scalars(select(CheckIn).order_by(CheckIn.id)))


def test_the_form_is_light_vietnamese_and_has_the_documented_fields(client, venue):
    response = client.get(f"/c/{venue.token}")
    page = page_text(response)
    assert response.status_code == 200 and '<html lang="vi">' in page
    assert "Chợ Vườn Hoa" in page and "Khai báo y tế" in page and "Gửi khai báo" in page
    for name in ("full_name", "phone", "national_id", "fever", "cough", "breath",
                 "taste_smell", "contact_f0", "travel", "csrf_token", "remember"):
        assert f'name="{name}"' in page
    assert "<script" not in page and "style=" not in page
    css = client.get("/static/checkin.css")
    assert css.status_code == 200
    assert len(response.data) + len(css.data) < 30 * 1024
    assert "Content-Security-Policy" in response.headers


def test_a_check_in_is_stored_and_thanked_without_a_cookie_unless_asked(client, venue, db):
    response = _send(client, venue, LAN)
    assert response.status_code == 200
    page = page_text(response)
    assert "Cảm ơn bạn đã khai báo" in page and "115" in page
    assert not any("checkin_phone" in c for c in response.headers.getlist("Set-Cookie"))
    (visit,) = _visits(db)
    assert (visit.full_name, visit.phone, visit.visits) == ("Lê Thị Lan", "+84912345678", 1)
    assert 'value="0912345678"' not in page_text(client.get(f"/c/{venue.token}"))


def test_a_remembered_phone_is_an_httponly_lax_cookie_that_prefills_the_form(client, venue):
    response = _send(client, venue, {**LAN, "remember": "1"})
    cookie = next(c for c in response.headers.getlist("Set-Cookie")
                  if c.startswith("checkin_phone="))
    assert cookie.startswith("checkin_phone=+84912345678;")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/c/" in cookie
    page = page_text(client.get(f"/c/{venue.token}"))
    assert 'value="0912345678"' in page and "Lê Thị Lan" not in page
    forgot = _send(client, venue, LAN)  # not ticked this time: forgotten
    assert any(c.startswith("checkin_phone=;") for c in forgot.headers.getlist("Set-Cookie"))


def test_a_repeat_within_30_minutes_is_merged(client, venue, db, clock):
    _send(client, venue, LAN)
    clock.advance(25 * 60)
    _send(client, venue, LAN)
    clock.advance(31 * 60)
    _send(client, venue, LAN)
    assert [v.visits for v in _visits(db)] == [2, 1]


def test_a_post_without_its_csrf_token_is_refused_in_vietnamese(client, venue, db):
    response = _send(client, venue, LAN, token=False)
    assert response.status_code == 400
    assert "Trang khai báo đã hết hạn" in page_text(response)
    assert _visits(db) == []


def test_bad_values_are_shown_beside_their_fields_and_kept(client, venue, db):
    response = _send(client, venue, {"full_name": "Lê Thị Lan", "phone": "0123",
                                     "national_id": "12"})
    assert response.status_code == 422
    page = html.unescape(page_text(response))
    assert "Số điện thoại '0123'" in page and "CCCD/CMND phải có 9 hoặc 12 chữ số" in page
    assert 'value="Lê Thị Lan"' in page and 'aria-invalid="true"' in page
    assert _visits(db) == []


def test_too_many_check_ins_from_one_address_get_429_in_vietnamese(app_factory, db, venue):
    client = app_factory(checkin_limit_client="2 per minute").test_client()
    for phone in ("0912000001", "0912000002"):
        assert _send(client, venue, {**LAN, "phone": phone}).status_code == 200
    refused = _send(client, venue, {**LAN, "phone": "0912000003"})
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    assert "Có quá nhiều lượt khai báo cùng lúc" in page_text(refused)
    other = _send(client, venue, {**LAN, "phone": "0912000004"}, address="10.0.0.9")
    assert other.status_code == 200  # another client is not held back
    assert len(_visits(db)) == 3


def test_a_venue_past_its_limit_gets_429_from_every_client(app_factory, db, venue):
    client = app_factory(checkin_limit_venue="2 per 10 minutes").test_client()
    for n, address in enumerate(("10.0.0.1", "10.0.0.2")):
        assert _send(client, venue, {**LAN, "phone": f"091200000{n}"},
                     address=address).status_code == 200
    refused = _send(client, venue, {**LAN, "phone": "0912000009"}, address="10.0.0.3")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "600"


def test_unknown_and_stopped_venues_say_so(client, venue, db):
    unknown = client.get("/c/aaaabbbbccccddddeeeeffffgggg")
    assert unknown.status_code == 404 and "Không tìm thấy địa điểm" in page_text(unknown)
    assert client.get("/c/<script>").status_code == 404
    typed = client.get(f"/c/{venue.typed_code.upper()}")
    assert typed.status_code == 200 and "Chợ Vườn Hoa" in page_text(typed)
    update_venue(db, venue.id, {"name": venue.name}, active=False)
    stopped = client.get(f"/c/{venue.token}")
    assert stopped.status_code == 410 and "ngừng nhận khai báo" in page_text(stopped)


def test_the_pages_never_show_another_visitors_data(app, venue):
    first, second = app.test_client(), app.test_client()
    _send(first, venue, {**LAN, "national_id": "038123456789", "remember": "1",
                         "fever": "1"})
    for response in (second.get(f"/c/{venue.token}"),
                     _send(second, venue, {"full_name": "Trần Văn Bình",
                                           "phone": "0987654321"})):
        page = page_text(response)
        assert "Lê Thị Lan" not in page and "345678" not in page and "038123456789" not in page


def test_a_symptom_raises_a_flag_and_the_thanks_say_what_to_do(client, venue, db):
    response = _send(client, venue, {**LAN, "breath": "1", "travel": "1"})
    page = page_text(response)
    assert "Bạn đã khai báo: khó thở." in page and "Cán bộ y tế sẽ gọi cho bạn" in page
    with db.session() as s:
        (flag,) = s.scalars(select(Flag)).all()
    assert (flag.kind, flag.urgent) == (FLAG_DECLARATION, True)
