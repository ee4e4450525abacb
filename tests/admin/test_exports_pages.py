"""/exports: the day's results and the people list as .xlsx downloads, audited."""

from __future__ import annotations

import io
from datetime import date, datetime, timezone

import pytest
from openpyxl import load_workbook

from callengine import audit
from callengine.audit import AuditFilter
from callengine.importer.service import import_files
from callengine.planning import plan_day
from tests.admin.conftest import page_text
from tests.fixtures.imports import workbooks as wb
from tests.unit.casework_helpers import WINDOW

FORMULA = '=HYPERLINK("http://x.invalid","Bấm")'
PLANNED = date(2021, 8, 16)  # the day after the list: everyone on it is called
PLAN_TIME = datetime(2021, 8, 16, 0, 30, tzinfo=timezone.utc)


@pytest.fixture
def people(db, tmp_path):
    """The web_upload() people: one named as a formula, in two districts."""
    import_files(db, [wb.web_upload(tmp_path)], list_date=wb.LIST_DATE)


def cells(response) -> list[list]:
    book = load_workbook(io.BytesIO(response.data))
    return [list(row) for sheet in book for row in sheet.iter_rows(values_only=True)]


def last_event(db, action: str):
    return audit.query(db, AuditFilter(action=action)).items[0]


def test_the_page_offers_both_downloads_with_the_filters(client, signed_in, people):
    signed_in("staff")
    page = page_text(client.get("/exports"))
    assert "Tải kết quả gọi" in page and "Tải danh sách người theo dõi" in page
    assert '<option value="Huyện Thử">' in page and '<option value="Xã Ba">' in page


def test_the_people_list_downloads_filtered_with_formulas_neutralised(client, auth, signed_in,
                                                                      people, db):
    staff = signed_in("staff")
    response = auth.post("/exports/people", {"district": "Huyện Thử", "category": "",
                                             "commune": "", "status": ""})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith(
        "attachment; filename=nguoi-theo-doi-")
    assert response.mimetype.endswith("spreadsheetml.sheet")
    header, *rows = cells(response)
    names = sorted(row[header.index("full_name")] for row in rows)
    assert names == [FORMULA, "Nguyễn Văn Web"]  # a text cell; Huyện Mẫu's person left out
    event = last_event(db, "export.people")
    assert (event.username, event.detail) == (staff.username,
                                              {"district": "Huyện Thử", "rows": 2})


def test_the_results_workbook_downloads_for_the_chosen_day(client, auth, signed_in, people,
                                                          db):
    plan_day(db, PLANNED, PLAN_TIME, WINDOW)
    staff = signed_in("staff")
    response = auth.post("/exports/results", {"day": PLANNED.isoformat()})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == \
        "attachment; filename=ket-qua-2021-08-16.xlsx"
    rows = cells(response)
    assert [c for c in rows[0] if c] == ["Kết quả gọi ngày 2021-08-16"]
    names = {row[1] for row in rows if row and str(row[0]).startswith("+84")}
    assert names == {FORMULA, "Nguyễn Văn Web", "Trần Thị Web"}
    event = last_event(db, "export.results")
    assert (event.username, event.object_id, event.detail["rows"]) == (
        staff.username, "2021-08-16", 3)


def test_a_bad_day_is_refused_on_the_page(client, auth, signed_in):
    signed_in("staff")
    response = auth.post("/exports/results", {"day": "31/02/2026"})
    assert response.status_code == 400
    assert "Hãy nhập ngày dạng 31/12/2021." in page_text(response)
