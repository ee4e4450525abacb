"""/samples (list, entry, result entry, workbook upload), the residents' lookup /r, and
/api/v1/samples and /api/v1/lab-results; on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
import statistics
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from callengine.health.results import NewResult, enter_result
from callengine.health.samples import NewSample, PersonRef, register_sample
from callengine.store.models import CallTask, Person
from callengine.store.samples import Sample
from callengine.store.supervision import Flag
from tests.admin.conftest import page_text
from tests.unit.casework_helpers import add_person, add_task

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def ctx(app):
    return app.extensions["callengine"]


def monitored(app, phone="+84912345678", name="Nguyễn Văn An") -> int:
    """A monitored person with today's planned call pending."""
    context = ctx(app)
    # the province's day, not the host's: after 17:00 UTC it is already tomorrow in Thanh Hoa
    today = context.clock.now().astimezone(ZoneInfo(context.settings.timezone)).date()
    with context.db.session() as s:
        person = add_person(s, phone, name, period=(today - timedelta(days=2),
                                                    today + timedelta(days=10)))
        add_task(s, person, day=today, status="pending", last_outcome=None, attempts=0)
        return person.id


def sample(app, code, person_id=None, kind="rt_pcr", members=(), result=None) -> int:
    context = ctx(app)
    now = context.clock.now()
    view = register_sample(context.db, NewSample(
        code, kind, now - timedelta(hours=3),
        PersonRef(person_id=person_id) if person_id else None,
        tuple(PersonRef(person_id=m) for m in members), site="Trạm y tế Nga Liên"),
        actor="staff", now=now)
    if result:
        enter_result(context.db, view.id, NewResult(result), actor="lab", now=now,
                     settings=context.settings)
    return view.id


def xlsx(header, *rows) -> bytes:
    book = Workbook()
    book.active.append(header)
    for row in rows:
        book.active.append(list(row))
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


# --- staff pages ----------------------------------------------------------------------------


def test_staff_register_a_sample_and_its_page_has_no_code_or_phone_in_the_url(
        app, auth, signed_in):
    person_id = monitored(app)
    signed_in("staff")
    response = auth.post("/samples/new", {
        "code": "th 0101", "kind": "rt_pcr", "taken_at": "2026-11-30T08:30",
        "phone": "0912.345.678", "full_name": "Nguyễn Văn An", "site": "Trạm y tế"})
    assert response.status_code == 303, page_text(response)
    location = response.headers["Location"]
    assert re.fullmatch(r"/samples/\d+", location)
    page = page_text(auth.client.get(location))
    assert "TH0101" in page and "+84912345678" not in page and "0912345678" not in page
    with ctx(app).db.session() as s:
        assert s.scalars(select(Sample.person_id)).all() == [person_id]


def test_a_registration_error_is_shown_in_vietnamese(app, auth, signed_in):
    signed_in("staff")
    response = auth.post("/samples/new", {"code": "TH-1", "kind": "rt_pcr",
                                          "taken_at": "2026-11-30T08:30", "phone": "12345"})
    assert response.status_code == 422
    assert "Số điện thoại" in page_text(response) or "số" in page_text(response)


def test_the_list_filters_by_result_day_and_site_and_masks_phones(app, client, auth, signed_in):
    first, second = monitored(app), monitored(app, "+84912000111", "Lê Văn Bảo")
    sample(app, "TH-A1", first, result="negative")
    sample(app, "TH-A2", second)
    signed_in("supervisor")
    everything = page_text(client.get("/samples"))
    assert "Nguyễn Văn An" in everything and "Lê Văn Bảo" in everything
    assert "+84912345678" not in everything and "0912345678" not in everything
    negative = page_text(client.get("/samples?result=negative"))
    assert "Nguyễn Văn An" in negative and "Lê Văn Bảo" not in negative
    waiting = page_text(client.get("/samples?result=none"))
    assert "Lê Văn Bảo" in waiting and "Nguyễn Văn An" not in waiting
    assert "Nguyễn Văn An" not in page_text(client.get("/samples?site=Bệnh+viện"))
    assert "Nguyễn Văn An" not in page_text(client.get("/samples?day=2021-08-12"))


def test_a_positive_result_asks_for_confirmation_then_makes_the_person_f0(
        app, auth, signed_in):
    person_id = monitored(app)
    sample_id = sample(app, "TH-B1", person_id)
    signed_in("staff")
    asked = auth.post(f"/samples/{sample_id}/result", {"result": "positive"})
    assert asked.status_code == 200
    assert 'name="confirmed"' in page_text(asked)
    with ctx(app).db.session() as s:
        assert s.get(Person, person_id).status == "monitoring"
    done = auth.post(f"/samples/{sample_id}/result", {"result": "positive", "ct_value": "21,5",
                                                      "confirmed": "y"})
    assert done.status_code == 303
    with ctx(app).db.session() as s:
        assert s.get(Person, person_id).status == "F0"
        assert s.scalars(select(CallTask.status)).all() == ["cancelled"]
        flag = s.scalars(select(Flag)).one()
        assert (flag.kind, flag.urgent) == ("positive", True)
    signed_in("supervisor")
    flag_page = page_text(auth.client.get(f"/flags/{flag.id}"))
    assert f"/samples/{sample_id}" in flag_page  # the flag leads to the sample


def test_a_pooled_sample_page_lists_members_for_retest_and_their_own_results(
        app, client, signed_in):
    first, second = monitored(app), monitored(app, "+84912000111", "Lê Văn Bảo")
    pool = sample(app, "G-1", kind="pooled", members=(first, second), result="positive")
    sample(app, "TH-C1", first, result="negative")
    signed_in("supervisor")
    page = page_text(client.get(f"/samples/{pool}"))
    assert "Lê Văn Bảo" in page and "TH-C1" in page and "Âm tính" in page
    with ctx(app).db.session() as s:
        flags = s.scalars(select(Flag).where(Flag.kind == "retest")).all()
    assert len(flags) == 2
    member_page = client.get(f"/flags/{flags[0].id}")
    link = re.search(r'href="(/samples/members/\d+)"', page_text(member_page)).group(1)
    assert client.get(link).headers["Location"].endswith(f"/samples/{pool}")


def test_a_results_workbook_is_previewed_then_imported_with_its_error_workbook(
        app, auth, signed_in):
    person_id = monitored(app)
    sample(app, "TH-D1", person_id)
    signed_in("staff")
    data = xlsx(["Mã mẫu", "Kết quả", "Giá trị Ct"], ["TH-D1", "Dương tính", 20],
                ["TH-NOPE", "Âm tính", None])
    preview = auth.post("/samples/upload", {"kind": "lab_results",
                                            "file": (io.BytesIO(data), "kq.xlsx")},
                        content_type="multipart/form-data")
    assert preview.status_code == 200, page_text(preview)
    text = page_text(preview)
    assert "không có mẫu nào mã &#39;TH-NOPE&#39;" in text or "TH-NOPE" in text
    with ctx(app).db.session() as s:
        assert s.get(Person, person_id).status == "monitoring"  # a preview writes nothing
    upload_id = re.search(r'name="upload"[^>]*value="([^"]+)"', text).group(1)
    errors = auth.client.get(f"/samples/upload/{upload_id}/errors.xlsx")
    assert errors.status_code == 200
    rows = list(load_workbook(io.BytesIO(errors.data)).worksheets[1].iter_rows(values_only=True))
    assert rows[1][0] == "TH-NOPE"
    committed = auth.post("/samples/upload/commit", {"upload": upload_id})
    assert committed.status_code == 200
    with ctx(app).db.session() as s:
        assert s.get(Person, person_id).status == "F0"
    again = auth.post("/samples/upload/commit", {"upload": upload_id})
    assert again.status_code == 409


# --- the residents' lookup ------------------------------------------------------------------


def lookup(client, phone, code, address="203.0.113.7"):
    form = client.get("/r", environ_base={"REMOTE_ADDR": address})
    token = _CSRF.search(page_text(form)).group(1)
    return client.post("/r", data={"csrf_token": token, "phone": phone, "sample_code": code},
                       environ_base={"REMOTE_ADDR": address})


def test_a_resident_sees_their_result_in_plain_vietnamese(app, client):
    negative_id = monitored(app)
    positive_id = monitored(app, "+84912000111", "Lê Văn Bảo")
    sample(app, "TH-E1", negative_id, result="negative")
    sample(app, "TH-E2", positive_id, result="positive")
    sample(app, "TH-E3", negative_id)
    form = client.get("/r")
    assert form.status_code == 200 and "<script" not in page_text(form)
    assert "Âm tính" in page_text(lookup(client, "0912 345 678", "th-e1"))
    positive = page_text(lookup(client, "+84 912 000 111", "TH-E2"))
    assert "Dương tính" in positive and "115" in positive
    assert "Chưa có kết quả" in page_text(lookup(client, "0912345678", "TH-E3"))


def test_a_wrong_code_and_someone_elses_code_get_the_same_page(app, client):
    owner = monitored(app)
    monitored(app, "+84912000111", "Lê Văn Bảo")
    sample(app, "TH-F1", owner, result="positive")
    wrong_code = lookup(client, "0912345678", "TH-F9")
    wrong_phone = lookup(client, "0912000111", "TH-F1")
    assert wrong_code.status_code == wrong_phone.status_code == 200
    assert wrong_code.data == wrong_phone.data
    assert "Không tìm thấy kết quả" in page_text(wrong_code)
    assert "Dương tính" not in page_text(wrong_phone)


def test_no_timing_oracle_between_a_wrong_code_and_a_wrong_phone(app_factory):
    app = app_factory(lookup_limit_client="1000 per minute", lookup_limit_phone="1000 per minute")
    client = app.test_client()
    owner = monitored(app)
    sample(app, "TH-G1", owner, result="negative")
    token = _CSRF.search(page_text(client.get("/r"))).group(1)

    def timed(phone, code):
        started = time.perf_counter()
        client.post("/r", data={"csrf_token": token, "phone": phone, "sample_code": code})
        return time.perf_counter() - started

    wrong_code, wrong_phone = [], []
    for _ in range(50):  # interleaved, so drifts of the machine hit both alike
        wrong_code.append(timed("0912345678", "TH-G9"))
        wrong_phone.append(timed("0987654321", "TH-G1"))
    slow, fast = sorted((statistics.median(wrong_code), statistics.median(wrong_phone)))
    assert slow <= fast * 1.5 or slow - fast <= 0.005, (slow, fast)


def test_lookups_are_limited_per_client_address_in_vietnamese(app_factory):
    app = app_factory(lookup_limit_client="3 per minute", lookup_limit_phone="100 per minute")
    client = app.test_client()
    for n in range(3):
        assert lookup(client, f"091234567{n}", "TH-X1").status_code == 200
    limited = lookup(client, "0912345679", "TH-X1")
    assert limited.status_code == 429
    assert "Tra cứu quá nhiều lần" in page_text(limited) and limited.headers["Retry-After"]
    assert lookup(client, "0912345679", "TH-X1", address="198.51.100.1").status_code == 200


def test_lookups_are_limited_per_phone_whatever_the_address(app_factory):
    app = app_factory(lookup_limit_client="100 per minute", lookup_limit_phone="2 per minute")
    client = app.test_client()
    assert lookup(client, "0912345678", "TH-1", address="198.51.100.1").status_code == 200
    assert lookup(client, "0912 345 678", "TH-2", address="198.51.100.2").status_code == 200
    limited = lookup(client, "+84912345678", "TH-3", address="198.51.100.3")
    assert limited.status_code == 429 and "Hãy chờ khoảng" in page_text(limited)
    assert lookup(client, "0912000111", "TH-3", address="198.51.100.3").status_code == 200
    with ctx(app).db.session() as s:  # the audit log keeps no phone number
        from callengine.store.accounts import AuditEvent
        kept = " ".join(s.scalars(select(AuditEvent.username)).all())
    assert "912345678" not in kept


def test_the_lookup_refuses_a_post_without_its_csrf_token(app, client):
    response = client.post("/r", data={"phone": "0912345678", "sample_code": "TH-1"})
    assert response.status_code == 400


# --- the API --------------------------------------------------------------------------------


def test_the_api_registers_samples_and_reads_them_by_id_only(app, client, token_of):
    person_id = monitored(app)
    headers = token_of("staff")
    by_id = client.post("/api/v1/samples", headers=headers, json={
        "person_id": person_id, "sample_code": "API-1", "type": "rt_pcr",
        "taken_at": "2026-11-30T08:00:00+07:00"})
    assert by_id.status_code == 201, by_id.json
    assert (by_id.json["person_id"], by_id.json["sample_code"]) == (person_id, "API-1")
    by_phone = client.post("/api/v1/samples", headers=headers, json={
        "phone": "0912 345 678", "full_name": "Nguyễn Văn An", "sample_code": "API-2",
        "type": "rapid_antigen", "taken_at": "2026-11-30T09:00"})
    assert by_phone.status_code == 201 and by_phone.json["person_id"] == person_id
    pool = client.post("/api/v1/samples", headers=headers, json={
        "sample_code": "API-G", "type": "pooled", "taken_at": "2026-11-30T09:00",
        "members": [{"person_id": person_id}, {"phone": "0987654321", "full_name": "Hà"}]})
    assert pool.status_code == 201 and len(pool.json["members"]) == 2
    again = client.post("/api/v1/samples", headers=headers, json={
        "person_id": person_id, "sample_code": "api-1", "type": "rt_pcr",
        "taken_at": "2026-11-30T08:00:00+07:00"})
    assert again.status_code == 409 and "API-1" in again.json["error"]["message"]
    read = client.get(f"/api/v1/samples/{by_id.json['id']}", headers=token_of("supervisor"))
    assert read.status_code == 200 and read.json["sample_code"] == "API-1"
    assert client.get("/api/v1/samples/API-1", headers=headers).status_code == 404
    bad = client.post("/api/v1/samples", headers=headers, json={
        "sample_code": "API-3", "type": "rt_pcr", "taken_at": "hôm nay", "person_id": 1})
    assert bad.status_code == 422 and bad.json["error"]["field"] == "taken_at"


def test_the_api_imports_a_lab_workbook_and_answers_the_importers_json(app, client, token_of):
    person_id = monitored(app)
    sample(app, "API-R1", person_id)
    data = xlsx(["Mã mẫu", "Kết quả"], ["API-R1", "DT"], ["API-R9", "AT"])
    response = client.post("/api/v1/lab-results", headers=token_of("staff"),
                           data={"file": (io.BytesIO(data), "kq.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["updated"], body["positive"], body["rejected"]) == (1, 1, 1)
    assert body["errors"][0]["row"] == 3 and "API-R9" in body["errors"][0]["reason"]
    with ctx(app).db.session() as s:
        assert s.get(Person, person_id).status == "F0"
    empty = client.post("/api/v1/lab-results", headers=token_of("staff"),
                        data={"file": (io.BytesIO(b""), "kq.xlsx")},
                        content_type="multipart/form-data")
    assert empty.status_code == 422 and empty.json["error"]["code"] == "unreadable"
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"/api/v1/samples", "/api/v1/samples/{sample_id}", "/api/v1/lab-results"} <= set(paths)
