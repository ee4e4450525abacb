"""The venue pages: register, list and search, edit, the venue's page with masked check-ins,
the poster, rotating the token (admins, confirmed). All audited; venue names stay inert."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from callengine.health.checkins import check_in, read_visitor
from callengine.health.venues import find_by_token, list_venues
from callengine.store.accounts import AuditEvent
from tests.admin.conftest import page_text

PUBLIC_URL = "https://khaibao.example.vn"
EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'
FORM = {"name": "Chợ Vườn Hoa", "kind": "market", "address": "12 Lê Lợi",
        "commune": "Điện Biên", "district": "TP Thanh Hóa", "contact_name": "Bà Hạnh",
        "contact_phone": "0912345678", "latitude": "", "longitude": "", "stay_minutes": ""}


@pytest.fixture
def app(app_factory):
    return app_factory(public_url=PUBLIC_URL)


def _actions(db, prefix="venue."):
    with db.session() as s:
        return [a for a in s.scalars(select(AuditEvent.action).order_by(AuditEvent.id))
                if a.startswith(prefix)]


def _register(auth, **changes) -> str:
    response = auth.post("/venues/new", {**FORM, **changes})
    assert response.status_code == 303, page_text(response)
    return response.headers["Location"]


def test_staff_register_a_venue_and_see_its_page_link_and_poster(client, auth, signed_in, db):
    signed_in("staff")
    location = _register(auth)
    assert re.fullmatch(r"/venues/\d+", location)
    page = page_text(client.get(location))
    (venue,) = list_venues(db).items
    assert "Chợ Vườn Hoa" in page and "+84912345678" in page
    assert f"{PUBLIC_URL}/c/{venue.token}" in page and venue.typed_code in page
    assert "Đổi mã QR" not in page  # staff may not rotate
    poster = client.get(f"{location}/poster.pdf")
    assert poster.status_code == 200 and poster.mimetype == "application/pdf"
    assert poster.data.startswith(b"%PDF")
    assert _actions(db) == ["venue.create", "venue.view", "venue.poster"]


def test_bad_values_come_back_in_the_form_with_vietnamese_messages(client, auth, signed_in,
                                                                  db):
    signed_in("staff")
    response = auth.post("/venues/new", {**FORM, "contact_phone": "12345",
                                         "stay_minutes": "abc"})
    assert response.status_code == 422
    page = html.unescape(page_text(response))
    assert "Số điện thoại '12345'" in page and "Thời gian lưu lại (phút)" in page
    assert list_venues(db).items == []


def test_the_list_searches_names_without_accents_and_editing_keeps_the_token(
        client, auth, signed_in, db):
    signed_in("supervisor")
    _register(auth)
    location = _register(auth, name="Nhà hàng Biển Sầm Sơn", kind="restaurant")
    listed = page_text(client.get("/venues?q=sam+son"))
    assert "Nhà hàng Biển Sầm Sơn" in listed and "Chợ Vườn Hoa" not in listed
    before = {v.name: v.token for v in list_venues(db).items}
    edit = client.get(f"{location}/edit")
    assert 'value="Nhà hàng Biển Sầm Sơn"' in page_text(edit)
    response = auth.post(f"{location}/edit", {**FORM, "name": "Nhà hàng Biển Đông",
                                              "stay_minutes": "120"})
    assert response.status_code == 303
    after = {v.name: v for v in list_venues(db).items}
    assert after["Nhà hàng Biển Đông"].token == before["Nhà hàng Biển Sầm Sơn"]
    assert after["Nhà hàng Biển Đông"].stay_minutes == 120
    assert after["Nhà hàng Biển Đông"].active is False  # the box was not ticked
    assert "venue.update" in _actions(db)


def test_html_in_a_venue_name_stays_inert_in_every_page(client, auth, signed_in, db):
    signed_in("admin")
    location = _register(auth, name=EVIL, address=EVIL)
    (venue,) = list_venues(db).items
    pages = [page_text(client.get(location)), page_text(client.get("/venues")),
             page_text(client.get(f"/c/{venue.token}"))]
    for page in pages:
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(" in page


def test_rotating_needs_an_admin_and_a_confirmation_and_old_posters_get_the_message(
        client, auth, signed_in, db):
    signed_in("admin")
    location = _register(auth)
    (venue,) = list_venues(db).items
    assert "Đổi mã QR" in page_text(client.get(location))
    unconfirmed = auth.post(f"{location}/rotate")
    assert unconfirmed.status_code == 422
    assert "Đánh dấu ô để xác nhận." in page_text(unconfirmed)
    assert find_by_token(db, venue.token).venue is not None
    assert auth.post(f"{location}/rotate", {"confirm": "y"}).status_code == 303
    old = client.get(f"/c/{venue.token}")
    assert old.status_code == 410
    assert "Mã QR này đã được thay bằng mã mới, xin quét mã dán tại địa điểm" in page_text(old)
    (rotated,) = list_venues(db).items
    assert client.get(f"/c/{rotated.token}").status_code == 200
    assert "venue.rotate_token" in _actions(db)


def test_the_venue_page_shows_check_ins_masked(client, auth, signed_in, db):
    signed_in("staff")
    location = _register(auth)
    (venue,) = list_venues(db).items
    now = client.application.extensions["callengine"].clock.now()
    check_in(db, venue.id, read_visitor({"full_name": "Nguyễn Văn An", "phone": "0987654321",
                                         "fever": "1"}), now=now, tz="Asia/Ho_Chi_Minh")
    page = page_text(client.get(location))
    assert "Nguyễn V*** A***" in page and "*******321" in page and "Sốt" in page
    assert "Nguyễn Văn An" not in page and "0987654321" not in page


def test_no_poster_without_a_public_address(app_factory):
    app = app_factory()  # public_url not set
    client = app.test_client()
    from tests.admin.conftest import AuthActions

    actions = AuthActions(client)
    user = app.extensions["callengine"].accounts.create_user("thu", "mật khẩu thử nghiệm",
                                                             "staff")
    actions.sign_in(user.username)
    location = actions.post("/venues/new", FORM).headers["Location"]
    response = client.get(f"{location}/poster.pdf", follow_redirects=True)
    assert "public_url" in page_text(response)
    assert "Chưa đặt địa chỉ công khai" in page_text(response)
