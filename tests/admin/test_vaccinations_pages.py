"""The vaccination pages: a person's doses and the dose form, the certificate page (its QR
code read back and verified), the public verify page, the workbook upload, the coverage
export and the dashboard section. SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import io
import re
from datetime import date

import pytest
import zxingcpp
from openpyxl import Workbook, load_workbook
from PIL import Image
from sqlalchemy import select

from callengine.certificates import keyfiles, verify
from callengine.store.accounts import AuditEvent
from callengine.store.vaccinations import VaccinationDose
from callengine.vaccination.doses import record_dose
from callengine.vaccination.rules import DoseEntry
from tests.admin.conftest import page_text
from tests.unit.casework_helpers import add_person

_QR = re.compile(r'src="data:image/png;base64,([^"]+)"')


@pytest.fixture
def person_id(db):
    with db.session() as s:
        person = add_person(s, "+84912345678", "Trần Thị Diệu")
        person.birth_year = 1985
        return person.id


@pytest.fixture
def keys(app, clock):
    settings = app.extensions["callengine"].settings
    return keyfiles.generate(settings.certificate_key_path, settings.certificate_signer_path,
                             clock.now())


def _dose(app, person_id, number=1, product="AZ", day=date(2021, 8, 1)):
    ctx = app.extensions["callengine"]
    return record_dose(ctx.db, person_id, DoseEntry(product, number, day, "A1", "TYT"),
                       actor="lan", now=ctx.clock.now(), settings=ctx.settings)


def _actions(db, name):
    with db.session() as s:
        return s.scalars(select(AuditEvent).where(AuditEvent.action == name)).all()


def test_staff_record_a_dose_on_the_persons_vaccination_page(signed_in, auth, client, db,
                                                             person_id):
    signed_in("staff")
    person_page = page_text(client.get(f"/people/{person_id}"))
    assert f"/people/{person_id}/vaccinations" in person_page and "Tiêm chủng" in person_page
    page = client.get(f"/people/{person_id}/vaccinations")
    assert page.status_code == 200 and "Nhập mũi tiêm" in page_text(page)
    sent = auth.post(f"/people/{person_id}/vaccinations",
                     {"product": "EU/1/21/1529", "dose_number": "1", "given_on": "2021-08-01",
                      "lot": "NJ0123", "site": "TYT Nga Liên"})
    assert sent.status_code == 303
    listed = page_text(client.get(f"/people/{person_id}/vaccinations"))
    assert "NJ0123" in listed and "AstraZeneca Vaxzevria" in listed and "01/08/2021" in listed
    assert _actions(db, "vaccination.record")[0].object_id == str(person_id)


def test_the_form_says_why_a_dose_is_refused_and_writes_nothing(signed_in, auth, db,
                                                                person_id):
    signed_in("staff")
    refused = auth.post(f"/people/{person_id}/vaccinations",
                        {"product": "EU/1/20/1528", "dose_number": "2",
                         "given_on": "2021-08-01"})
    assert refused.status_code == 422
    assert "Chưa có mũi 1: nhập mũi 1 trước mũi 2." in page_text(refused)
    with db.session() as s:
        assert s.scalars(select(VaccinationDose)).all() == []


def test_the_certificate_page_shows_a_qr_code_that_verifies(app, signed_in, client, db,
                                                           person_id, keys, clock):
    _dose(app, person_id, 1)
    _dose(app, person_id, 2, "Pfizer", date(2021, 9, 1))
    signed_in("staff")
    page = client.get(f"/people/{person_id}/certificate")
    assert page.status_code == 200
    text = page_text(page)
    assert "THI&lt;DIEU" in text and "URN:UVCI:01:VN:" in text
    png = base64.b64decode(_QR.search(text).group(1))
    (code,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    settings = app.extensions["callengine"].settings
    result = verify.verify(code.text, keyfiles.trusted_keys(settings.certificate_signer_path),
                           clock.now())
    assert result.valid and result.hcert["v"][0]["dn"] == 2
    assert len(_actions(db, "certificate.issue")) == 1


def test_without_a_signing_key_the_certificate_page_says_how_to_make_one(app, signed_in,
                                                                        client, person_id):
    _dose(app, person_id, 1)
    signed_in("staff")
    page = client.get(f"/people/{person_id}/certificate")
    assert page.status_code == 503
    assert "callengine certificates keygen" in page_text(page)


def test_the_public_verify_page_says_valid_or_why_not(app, client, auth, person_id, keys):
    _dose(app, person_id, 1)
    ctx = app.extensions["callengine"]
    from callengine.vaccination.certificate import person_certificate
    made = person_certificate(ctx.db, person_id, keys, ctx.clock.now(), ctx.settings)
    valid = auth.post("/certificates/verify", {"hc1": made.hc1})  # no one signed in
    assert valid.status_code == 200
    shown = page_text(valid)
    assert "Hợp lệ" in shown and "Trần Thị Diệu" in shown and "1985" in shown
    broken = page_text(auth.post("/certificates/verify", {"hc1": made.hc1[:-8] + "ABCDEFGH"}))
    assert "Không hợp lệ" in broken and "Trần" not in broken
    garbage = page_text(auth.post("/certificates/verify", {"hc1": "xin chào"}))
    assert "Mã không đúng định dạng" in garbage
    assert client.get("/certificates/signer.pem").data.startswith(b"-----BEGIN CERTIFICATE")


def _workbook(*rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["Họ và tên", "Số điện thoại", "Tên vắc xin", "Mũi số", "Ngày tiêm",
                  "Số lô"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_dose_workbook_is_uploaded_and_its_rejected_rows_downloaded(signed_in, auth,
                                                                      client, db, person_id):
    signed_in("staff")
    data = _workbook(["Trần Thị Diệu", "0912345678", "Vero Cell", 1, "01/08/2021", "L1"],
                     ["Trần Thị Diệu", "0912345678", "Vero Cell", 3, "01/10/2021", "L3"])
    done = auth.post("/vaccinations/import",
                     {"file": (io.BytesIO(data), "tiem.xlsx")},
                     content_type="multipart/form-data")
    assert done.status_code == 200
    text = page_text(done)
    assert "ghi 1 mũi tiêm, từ chối 1 dòng" in text and "Chưa có mũi 2" in text
    link = re.search(r'href="(/vaccinations/import/[^"]+/errors\.xlsx)"', text).group(1)
    book = load_workbook(io.BytesIO(client.get(link).data))
    assert any("Chưa có mũi 2" in str(c.value) for row in book.worksheets[-1].iter_rows()
               for c in row)
    with db.session() as s:
        assert [d.dose_number for d in s.scalars(select(VaccinationDose))] == [1]
    bad = auth.post("/vaccinations/import", {"file": (io.BytesIO(b"x"), "tiem.pdf")},
                    content_type="multipart/form-data")
    assert bad.status_code == 422 and "chỉ nhận tệp .xlsx" in page_text(bad)


def test_coverage_on_the_dashboard_and_in_the_export(app, signed_in, client, person_id):
    _dose(app, person_id, 1)
    _dose(app, person_id, 2, day=date(2021, 9, 1))
    signed_in("staff")
    board = page_text(client.get("/"))
    assert "Độ bao phủ tiêm chủng" in board and "Nga Sơn" in board
    csv_text = client.get("/vaccinations/coverage.csv").data.decode("utf-8-sig")
    assert csv_text.splitlines()[1].startswith("Nga Sơn,Nga Liên,1,1,1,100.0,100.0")
    xlsx = client.get("/vaccinations/coverage.xlsx")
    assert load_workbook(io.BytesIO(xlsx.data)).active.cell(2, 2).value == "Nga Liên"
    assert client.get("/vaccinations/coverage.pdf").status_code == 404
