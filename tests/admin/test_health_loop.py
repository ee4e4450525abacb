"""The whole loop of issue 10, through the admin's public pages and API as their users send
them: two visitors check in at one market within the hour and a third later; the first
tests positive (the lab's result workbook imported); the second is proposed as a contact and
the third is not; the supervisor confirms; the next day's plan calls the contact and never
the case. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy import select

from callengine.dialer.window import Window
from callengine.planning import plan_day
from callengine.settings import parse_window
from callengine.store.models import CallTask, Person
from callengine.store.supervision import Flag
from tests.admin.conftest import page_text

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
VISITORS = {"case": ("Nguyễn Văn Hải", "0912000101"), "contact": ("Lê Thị Mai", "0912000102"),
            "later": ("Trần Văn Tú", "0912000103")}


def _check_in(client, token: str, who: str, address: str) -> None:
    name, phone = VISITORS[who]
    form = page_text(client.get(f"/c/{token}"))
    response = client.post(f"/c/{token}", data={
        "csrf_token": _CSRF.search(form).group(1), "full_name": name, "phone": phone},
        environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 200, page_text(response)


def _result_workbook(code: str, at: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["KẾT QUẢ XÉT NGHIỆM SARS-CoV-2"])
    sheet.append(["STT", "Mã mẫu", "Kết quả", "Giá trị Ct", "Thời gian trả kết quả"])
    sheet.append([1, code, "Dương tính", 21.5, at])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_positive_test_puts_its_venue_contacts_on_the_next_mornings_calls(
        client, token_of, clock, db):
    staff, supervisor = token_of("staff"), token_of("supervisor")
    market = client.post("/api/v1/venues", headers=staff, json={
        "name": "Chợ Hoằng Quỳ", "address": "Thôn 3", "district": "Hoằng Hóa",
        "commune": "Hoằng Quỳ", "kind": "market"}).get_json()

    clock.offset = timedelta(hours=-26)  # yesterday morning
    _check_in(client, market["token"], "case", "10.0.0.1")
    clock.advance(30 * 60)
    _check_in(client, market["token"], "contact", "10.0.0.2")  # within the hour
    clock.advance(4 * 3600)
    _check_in(client, market["token"], "later", "10.0.0.3")  # hours after: no overlap

    clock.advance(2 * 3600)  # sampled at the district health centre
    name, phone = VISITORS["case"]
    sampled = client.post("/api/v1/samples", headers=staff, json={
        "full_name": name, "phone": phone, "sample_code": "HH-0001", "type": "rt_pcr",
        "taken_at": clock.now().isoformat()})
    assert sampled.status_code == 201, sampled.get_json()
    case_id = sampled.get_json()["person_id"]

    clock.offset = timedelta(0)  # this morning the lab's workbook comes in
    result_time = (clock.now() - timedelta(hours=1)).astimezone(TZ).strftime("%d/%m/%Y %H:%M")
    imported = client.post("/api/v1/lab-results", headers=staff, data={
        "file": (io.BytesIO(_result_workbook("HH-0001", result_time)), "ketqua.xlsx")},
        content_type="multipart/form-data")
    assert imported.status_code == 200, imported.get_json()
    with db.session() as s:
        case = s.get(Person, case_id)
        assert (case.category, case.status) == ("F0", "F0")
        flag = s.scalars(select(Flag).where(Flag.person_id == case_id)).one()
        assert (flag.kind, flag.urgent) == ("positive", True)

    exposure = client.get(f"/api/v1/people/{case_id}/exposure", headers=supervisor).get_json()
    assert exposure["review"]["status"] == "open"  # the result opened it: awaiting review
    proposed = {c["full_name"]: c for c in exposure["candidates"]}
    assert set(proposed) == {"Lê Thị Mai"}, proposed  # the later visitor did not overlap
    visit = proposed["Lê Thị Mai"]["visits"][0]
    assert visit["venue"] == "Chợ Hoằng Quỳ" and visit["minutes"] >= 29

    confirmed = client.post(f"/api/v1/people/{case_id}/exposure/confirm", headers=supervisor,
                            json={"f1": [{"checkin_id": visit["checkin_id"]}], "f2": []})
    assert confirmed.status_code == 200, confirmed.get_json()
    assert confirmed.get_json()["f1"] == 1

    tomorrow = clock.now().astimezone(TZ).date() + timedelta(days=1)
    window = Window(parse_window("w", "08:00-20:00"), "Asia/Ho_Chi_Minh", 300)
    plan_day(db, tomorrow, clock.now(), window)
    with db.session() as s:
        called = {s.get(Person, t.person_id).full_name for t in s.scalars(
            select(CallTask).where(CallTask.day == tomorrow))}
    assert called == {"Lê Thị Mai"}  # the contact, never the case nor the later visitor
