"""The epidemic map at `/map` and `GET /api/v1/map` (SQLite and PostgreSQL): every commune a
tile with its figure in its title, a legend, the old/new division switch, the same table."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from callengine.places import backfill_place_codes
from callengine.store.accounts import AuditEvent
from callengine.store.models import Person
from callengine.store.vaccinations import VaccinationDose
from tests.admin.conftest import page_text
from tests.admin.flag_helpers import FixedClock
from tests.unit.casework_helpers import add_person

HOANG_QUY, HOANG_QUY_NEW = "15886", "15880"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def seeded(db):
    with db.session() as s:
        for i, commune in enumerate(("X. Hoằng Quỳ", "xã Hoằng Quỳ", "HOẰNG QUỲ")):
            add_person(s, f"+8491200040{i}", f"Ca bệnh {i}", status="F0", category="F0",
                       district="H. Hoằng Hóa", commune=commune)
        add_person(s, "+84912000410", "Ca bệnh Nga Sơn", status="F0", category="F0",
                   district="Nga Sơn", commune="Nga Liên")
        add_person(s, "+84912000411", "Không rõ xã", status="F0", category="F0",
                   district="Nga Sơn", commune="Xã Mặt Trăng")
        add_person(s, "+84912000420", "Đang theo dõi", district="Hoằng Hóa",
                   commune="Hoằng Quỳ")
    backfill_place_codes(db)


def _titles(page: str) -> dict[str, str]:
    """Each tile's code and the text of its <title>."""
    return dict(re.findall(r'<a href="#u-(\d+)" class="commune"[^>]*>\s*<title>([^<]*)</title>',
                           page))


def test_the_map_draws_every_commune_with_its_figure_in_its_title(client, signed_in, seeded):
    signed_in("staff")
    page = page_text(client.get("/map"))
    assert "Bản đồ dịch tễ" in page and '<svg class="epidemic-map"' in page
    titles = _titles(page)
    assert len(titles) == 547  # the old division: every commune, zero included
    assert titles[HOANG_QUY] == "Xã Hoằng Quỳ (Huyện Hoằng Hóa): F0 (ca bệnh) 3"
    assert titles["15916"].endswith(": F0 (ca bệnh) 0")  # Hoằng Quý: another commune
    assert 'class="outline"' in page  # district outlines
    legend = page.split('class="legend map-legend"')[1].split("</ul>")[0]
    assert "không có" in legend and "3" in legend
    row = page.split(f'id="u-{HOANG_QUY}"')[1].split("</tr>")[0]
    assert "Huyện Hoằng Hóa" in row and "Xã Hoằng Quỳ" in row and ">3<" in row
    assert "Không có trên bản đồ: 1 người" in page
    assert "Trước 1/7/2025 (huyện và xã)" in page and "Từ 1/7/2025 (xã sau sắp xếp)" in page


def test_the_division_and_figure_switch(client, signed_in, seeded):
    signed_in("supervisor")
    page = page_text(client.get("/map?figure=monitoring&division=new"))
    titles = _titles(page)
    assert len(titles) == 166
    assert titles[HOANG_QUY_NEW].endswith(": Đang theo dõi (F1, F2, người về) 1")
    assert 'value="new" checked' in page and 'value="monitoring" selected' in page
    assert 'class="outline"' in page  # the province's edge


def test_an_unknown_choice_says_so_in_vietnamese_and_shows_the_default(client, signed_in,
                                                                      seeded):
    signed_in("staff")
    page = page_text(client.get("/map?figure=hospitals&division=mars"))
    assert "Không có lựa chọn hospitals: đang hiển thị F0 (ca bệnh)." in page
    assert "Không có lựa chọn mars" in page and len(_titles(page)) == 547


def test_the_map_is_for_signed_in_staff_and_is_audited(client, signed_in, seeded, db):
    assert client.get("/map").status_code == 302  # to the sign-in page
    signed_in("staff")
    client.get("/map?figure=flagged")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.action == "map.view")) == 1


def test_the_api_gives_every_unit_with_its_figure(client, token_of, seeded):
    response = client.get("/api/v1/map?figure=f0&division=new", headers=token_of("staff"))
    assert response.status_code == 200
    data = response.json
    assert (data["figure"], data["division"], data["kind"]) == ("f0", "new", "count")
    units = {u["code"]: u for u in data["units"]}
    assert len(units) == 166 and data["unplaced"] == 1
    assert units[HOANG_QUY_NEW]["value"] == 3 and units[HOANG_QUY_NEW]["district"] is None
    assert sum(u["value"] for u in data["units"]) == 4
    old = client.get("/api/v1/map?figure=f0", headers=token_of("staff")).json
    assert old["division"] == "old" and len(old["units"]) == 547


def test_coverage_is_the_share_of_a_communes_people_vaccinated_counted_by_code(
        client, token_of, seeded, db):
    """Hoằng Quỳ holds four people written three ways: one with a full course, one with a
    first dose; the map counts them as one commune: 50 % with a dose, 25 % fully."""
    with db.session() as s:
        people = s.scalars(select(Person).where(Person.commune_code == HOANG_QUY)
                           .order_by(Person.id)).all()
        assert len(people) == 4
        for n, (person, doses) in enumerate(zip(people, (2, 1)), start=1):
            for number in range(1, doses + 1):
                s.add(VaccinationDose(person_id=person.id, product="EU/1/21/1529",
                                      manufacturer="ORG-100001699", lot="A1",
                                      dose_number=number, given_on=date(2021, 8, number),
                                      certificate_id=f"URN:UVCI:01:VN:T{n}{number}",
                                      created_at=datetime(2021, 8, 2)))
    headers = token_of("staff")
    one = client.get("/api/v1/map?figure=coverage&date=2026-11-30", headers=headers).json
    full = client.get("/api/v1/map?figure=coverage_full&date=2026-11-30", headers=headers).json
    assert one["kind"] == "percent" and one["unplaced"] is None
    values = {u["code"]: u["value"] for u in one["units"]}
    assert values[HOANG_QUY] == 50 and sum(values.values()) == 50
    assert {u["code"]: u["value"] for u in full["units"]}[HOANG_QUY] == 25


def test_the_api_refuses_an_unknown_figure_or_division(client, token_of):
    headers = token_of("staff")
    for query, field in (("figure=hospitals", "figure"), ("", "figure"),
                         ("figure=f0&division=mars", "division"),
                         ("figure=f0&date=hôm-nay", "date")):
        response = client.get(f"/api/v1/map?{query}", headers=headers)
        assert response.status_code == 422, query
        assert response.json["error"]["field"] == field
    assert "phải là một trong: f0, monitoring, flagged, coverage, coverage_full" in client.get(
        "/api/v1/map?figure=x", headers=headers).json["error"]["message"]


def test_the_openapi_document_describes_the_map(client):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/map"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Map"}
    assert {p["name"] for p in operation["parameters"]} == {"figure", "division", "date"}
    assert "422" in operation["responses"]
    assert spec["components"]["schemas"]["Map"]["properties"]["division"]["enum"] == [
        "old", "new"]
