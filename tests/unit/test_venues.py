"""Venues: validation, tokens (unguessable, typed form, rotation), search and paging; the
poster's QR code read back from the rendered PDF page."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone

import pytest
import zxingcpp
from PIL import Image

from callengine.health.errors import InvalidForm, NotFound
from callengine.health.poster import PosterError, render_poster, typed_address
from callengine.health.venues import (
    TOKEN_INACTIVE,
    TOKEN_ROTATED,
    TOKEN_UNKNOWN,
    TOKEN_VALID,
    canonical_token,
    create_venue,
    find_by_token,
    get_venue,
    list_venues,
    new_token,
    rotate_token,
    update_venue,
)
from callengine.paging import InvalidCursor

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)
MARKET = {"name": "Chợ Vườn Hoa", "address": "12 Lê Lợi", "district": "TP Thanh Hóa",
          "commune": "Điện Biên", "kind": "market", "contact_phone": "0912 345 678"}


def _create(db, **changes):
    return create_venue(db, {**MARKET, **changes}, now=NOW, created_by="lan")


def test_a_venue_is_stored_with_a_normalised_contact_and_a_long_random_token(db):
    venue = _create(db)
    again = get_venue(db, venue.id)
    assert again == venue
    assert venue.contact_phone == "+84912345678"
    assert (venue.kind_label, venue.created_by, venue.active) == ("Chợ", "lan", True)
    tokens = {new_token() for _ in range(200)} | {venue.token}
    assert len(tokens) == 201
    assert all(len(t) == 28 and canonical_token(t) == t for t in tokens)  # 136 random bits


def test_bad_values_are_refused_field_by_field_in_vietnamese(db):
    with pytest.raises(InvalidForm) as refused:
        _create(db, name="  ", kind="casino", contact_phone="12345", latitude="95",
                stay_minutes="0")
    errors = refused.value.errors
    assert set(errors) == {"name", "kind", "contact_phone", "latitude", "stay_minutes"}
    assert errors["name"] == "Hãy nhập tên địa điểm."
    assert "casino" in errors["kind"] and "12345" in errors["contact_phone"]
    with pytest.raises(InvalidForm) as half:
        _create(db, latitude="19.8", longitude="")
    assert "kinh độ" in half.value.errors["longitude"]
    assert list_venues(db).items == []  # nothing half-written


def test_coordinates_and_a_stay_length_of_its_own(db):
    venue = _create(db, latitude="19,807", longitude="105.776", stay_minutes="90")
    assert (venue.latitude, venue.longitude, venue.stay_minutes) == (19.807, 105.776, 90)
    changed = update_venue(db, venue.id, {**MARKET, "stay_minutes": ""}, active=False)
    assert (changed.stay_minutes, changed.active, changed.token) == (None, False, venue.token)


def test_a_typed_code_finds_the_venue_whatever_its_case_and_dashes(db):
    venue = _create(db)
    typed = venue.typed_code.upper()
    assert typed.count("-") == 6
    assert find_by_token(db, typed).venue == venue
    assert find_by_token(db, f" {venue.token} ").status == TOKEN_VALID
    assert find_by_token(db, new_token()).status == TOKEN_UNKNOWN
    assert find_by_token(db, "../../etc/passwd").status == TOKEN_UNKNOWN


def test_rotating_retires_the_old_token_and_a_stopped_venue_takes_no_check_ins(db):
    venue = _create(db)
    rotated = rotate_token(db, venue.id, now=NOW + timedelta(days=1))
    assert rotated.token != venue.token
    assert rotated.token_rotated_at == NOW + timedelta(days=1)
    assert find_by_token(db, venue.token).status == TOKEN_ROTATED
    assert find_by_token(db, rotated.token).venue == rotated
    twice = rotate_token(db, venue.id, now=NOW + timedelta(days=2))
    assert find_by_token(db, rotated.token).status == TOKEN_ROTATED
    update_venue(db, venue.id, MARKET, active=False)
    assert find_by_token(db, twice.token).status == TOKEN_INACTIVE
    with pytest.raises(NotFound):
        rotate_token(db, 9999, now=NOW)


def test_search_ignores_accents_and_case_and_pages_in_name_order(db):
    for name in ("Chợ Vườn Hoa", "Nhà hàng Biển Sầm Sơn", "Chợ Tây Thành", "Xưởng may Hà Trung"):
        _create(db, name=name)
    assert [v.name for v in list_venues(db, "cho").items] == ["Chợ Tây Thành", "Chợ Vườn Hoa"]
    assert [v.name for v in list_venues(db, "SAM SON").items] == ["Nhà hàng Biển Sầm Sơn"]
    assert list_venues(db, "100%").items == []
    first = list_venues(db, limit=3)
    assert [v.name for v in first.items] == ["Chợ Tây Thành", "Chợ Vườn Hoa",
                                             "Nhà hàng Biển Sầm Sơn"]
    rest = list_venues(db, after=first.next, limit=3)
    assert ([v.name for v in rest.items], rest.next) == (["Xưởng may Hà Trung"], None)
    with pytest.raises(InvalidCursor):
        list_venues(db, after="not-a-cursor")


def _qr_texts(pdf: bytes, tmp_path) -> list[str]:
    path = tmp_path / "poster.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "100", "-png", "-singlefile", str(path),
                    str(tmp_path / "page")], check=True)
    page = Image.open(tmp_path / "page.png")
    return [found.text for found in zxingcpp.read_barcodes(page)]


def test_the_poster_qr_decodes_to_the_check_in_address(db, tmp_path):
    venue = _create(db, name="Quán <b>Phở</b> Hà Nội & Co")
    pdf = render_poster(venue, "https://khaibao.example.vn/")
    assert pdf.startswith(b"%PDF") and len(pdf) < 100_000
    assert _qr_texts(pdf, tmp_path) == [f"https://khaibao.example.vn/c/{venue.token}"]
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, check=True,
                          capture_output=True).stdout.decode()
    assert "Quán <b>Phở</b> Hà Nội & Co" in text
    assert "Mở camera điện thoại, hướng vào mã QR." in text
    assert venue.typed_code in text
    assert typed_address("https://khaibao.example.vn", venue.token) == (
        f"khaibao.example.vn/c/{venue.typed_code}")


def test_no_poster_without_a_public_address(db):
    with pytest.raises(PosterError, match="public_url"):
        render_poster(_create(db), "")


@pytest.mark.parametrize("environ, message", [
    ({"CALLENGINE_PUBLIC_URL": "ftp://khaibao.example.vn"}, "CALLENGINE_PUBLIC_URL: 'ftp://"),
    ({"CALLENGINE_PUBLIC_URL": "https://x.vn/?a=1"}, "is not an address like"),
    ({"CALLENGINE_CHECKIN_LIMIT_CLIENT": "many"}, "is not a rate like"),
    ({"CALLENGINE_VENUE_STAY_MINUTES": "0"}, "venue_stay_minutes: must be at least 1"),
    ({"CALLENGINE_CHECKIN_RETENTION_DAYS": "x"}, "is not a whole number"),
])
def test_check_in_settings_refuse_bad_values_naming_them(environ, message):
    from callengine.errors import ConfigError
    from callengine.settings import load_settings

    with pytest.raises(ConfigError, match=message.replace("?", r"\?")):
        load_settings(environ)


def test_check_in_settings_defaults_and_a_public_address_without_its_slash():
    from callengine.settings import load_settings

    settings = load_settings({"CALLENGINE_PUBLIC_URL": "https://khaibao.example.vn/"})
    assert settings.public_url == "https://khaibao.example.vn"
    assert (settings.checkin_retention_days, settings.venue_stay_minutes) == (30, 60)
    assert settings.checkin_rates == ((30, 600.0), (600, 600.0))


def test_a_venue_keeps_the_official_codes_of_its_commune_however_it_is_written(db):
    from callengine.places import place_codes
    from callengine.store.venues import Venue

    first = _create(db, district="H. Hoằng Hóa", commune="X. Hoằng Quỳ")
    second = _create(db, name="Quán Bà Tư", district="huyện Hoằng Hóa", commune="xã Hoằng Quỳ")
    expected = place_codes("Hoằng Hóa", "Hoằng Quỳ")
    assert expected["commune_code"] is not None
    with db.session() as s:
        for venue_id in (first.id, second.id):
            venue = s.get(Venue, venue_id)
            assert (venue.district_code, venue.commune_code, venue.new_commune_code) == (
                expected["district_code"], expected["commune_code"],
                expected["new_commune_code"])
    update_venue(db, first.id, {**MARKET, "district": "Nga Sơn", "commune": "Mặt Trăng"})
    with db.session() as s:
        assert s.get(Venue, first.id).commune_code is None  # matches nothing: kept as written
