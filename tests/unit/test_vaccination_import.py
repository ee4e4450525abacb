"""Dose workbooks: header synonyms, people found by the importer's identity rules, the dose
rules per row (against stored doses and earlier rows), the error workbook, one transaction,
exit codes; the coverage export (xlsx and CSV)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timezone

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from callengine.cli import main
from callengine.importer.error_book import write_error_workbook
from callengine.importer.service import UnreadableFiles
from callengine.settings import Settings
from callengine.store.models import ImportBatch
from callengine.store.vaccinations import VaccinationDose
from callengine.vaccination.coverage import coverage_by_commune
from callengine.vaccination.export import write_coverage
from callengine.vaccination.importing import import_doses
from tests.unit.casework_helpers import add_person

NOW = datetime(2021, 11, 30, 3, 0, tzinfo=timezone.utc)
HEADER = ["STT", "Họ và tên", "Số điện thoại", "Số CCCD", "Tên vắc xin", "Mũi số",
          "Ngày tiêm", "Số lô", "Điểm tiêm"]


def _book(path, *rows, header=HEADER):
    book = Workbook()
    sheet = book.active
    sheet.title = "Nga Sơn"
    sheet.append(["DANH SÁCH TIÊM CHỦNG COVID-19"])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@pytest.fixture
def people(db):
    with db.session() as s:
        an = add_person(s, "+84912345678", "Nguyễn Văn An")
        binh = add_person(s, "+84987654321", "Trần Thị Bình", national_id="038190000123")
        return an.id, binh.id


def _doses(db):
    with db.session() as s:
        return s.execute(select(VaccinationDose.person_id, VaccinationDose.dose_number,
                                VaccinationDose.product)
                         .order_by(VaccinationDose.person_id,
                                   VaccinationDose.dose_number)).all()


def test_a_dose_workbook_is_imported_by_the_importer_identity_rules(db, people, tmp_path):
    an, binh = people
    path = _book(tmp_path / "tiem.xlsx",
                 [1, "NGUYEN VAN AN", "0912 345 678", None, "AZ", "Mũi 2", "29/08/2021", "B2"],
                 [2, "Nguyễn Văn An", "0912345678", None, "AstraZeneca", 1, "01/08/2021",
                  "A1", "TYT Nga Liên"],
                 [3, "Trần Thị Bình", None, "038190000123", "Vero Cell", 1,
                  datetime(2021, 9, 1)])
    report = import_doses(db, [path], settings=Settings(), now=NOW, actor="lan")
    assert (report.accepted, report.rejected, report.counts) == (3, 0, {"created": 3})
    assert _doses(db) == [(an, 1, "EU/1/21/1529"), (an, 2, "EU/1/21/1529"),
                          (binh, 1, "BBIBP-CorV")]
    with db.session() as s:
        batch = s.scalars(select(ImportBatch)).one()
        assert (batch.created, batch.created_by, batch.file_name) == (3, "lan", "tiem.xlsx")
        assert s.scalar(select(func.count()).where(VaccinationDose.batch_id == batch.id)) == 3


def test_rows_breaking_a_rule_are_rejected_with_a_vietnamese_reason(db, people, tmp_path):
    path = _book(tmp_path / "tiem.xlsx",
                 ["1", "Nguyễn Văn An", "0912345678", None, "AZ", 2, "01/09/2021"],
                 ["2", "Lê Văn Lạ", "0911111111", None, "AZ", 1, "01/09/2021"],
                 ["3", "Trần Thị Bình", None, "038190000123", "Covaxin", 1, "01/09/2021"],
                 ["4", "Trần Thị Bình", None, "038190000123", "Pfizer", 1, "01/12/2021"],
                 ["5", "Trần Thị Bình", None, "038190000123", "Pfizer", "một", "01/09/2021"])
    report = import_doses(db, [path], settings=Settings(), now=NOW)
    assert (report.accepted, report.rejected) == (0, 5)
    reasons = {e.row: e.reason for e in report.errors}
    assert "Chưa có mũi 1" in reasons[3]
    assert "không tìm thấy người" in reasons[4]
    assert "Covaxin" in reasons[5] and "không có trong danh mục" in reasons[5]
    assert "ở tương lai" in reasons[6]
    assert "không phải số mũi" in reasons[7]
    assert _doses(db) == []
    out = tmp_path / "loi.xlsx"
    assert write_error_workbook(report, out) == 5
    assert load_workbook(out).sheetnames[0]  # the summary sheet and the rows as they were


def test_a_workbook_without_the_dose_columns_is_refused_whole(db, people, tmp_path):
    path = _book(tmp_path / "sai.xlsx", ["1", "Nguyễn Văn An"], header=["STT", "Họ và tên"])
    with pytest.raises(UnreadableFiles, match="Tên vắc xin"):
        import_doses(db, [path], settings=Settings(), now=NOW)


def test_the_command_exit_codes_and_json(db, people, tmp_path, monkeypatch, capsys,
                                          database_url):
    monkeypatch.setenv("CALLENGINE_DATABASE_URL", database_url)
    good = _book(tmp_path / "a.xlsx", ["1", "Nguyễn Văn An", "0912345678", None, "Pfizer", 1,
                                       "01/08/2021"])
    assert main(["vaccinations", "import", str(good), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["created"] == 1
    again = _book(tmp_path / "b.xlsx", ["1", "Nguyễn Văn An", "0912345678", None, "Pfizer", 1,
                                        "01/08/2021"])
    errors = tmp_path / "loi.xlsx"
    assert main(["vaccinations", "import", str(again), "--errors-out", str(errors)]) == 1
    printed = capsys.readouterr().out
    assert "đã có mũi 1" in printed and errors.exists()
    (tmp_path / "rong.txt").write_text("không phải bảng tính")
    assert main(["vaccinations", "import", str(tmp_path / "rong.txt")]) == 2


def test_the_coverage_export_keeps_names_as_text(db, tmp_path):
    with db.session() as s:
        add_person(s, "+84912000001", "Lê Văn A", commune="=HYPERLINK(1)", district="-Nga Sơn")
    rows = coverage_by_commune(db, date(2021, 11, 30))
    out = io.BytesIO()
    write_coverage(rows, date(2021, 11, 30), "csv", out)
    lines = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    assert lines[0][:3] == ["Huyện", "Xã", "Số người"]
    assert lines[1][:3] == ["'-Nga Sơn", "'=HYPERLINK(1)", "1"]
    assert lines[-1][0] == "Toàn tỉnh"
    book_bytes = io.BytesIO()
    write_coverage(rows, date(2021, 11, 30), "xlsx", book_bytes)
    sheet = load_workbook(io.BytesIO(book_bytes.getvalue())).active
    assert sheet.cell(2, 2).value == "=HYPERLINK(1)" and sheet.cell(2, 2).data_type == "s"
    assert sheet.cell(2, 3).value == 1


def test_the_coverage_command_writes_the_table(db, people, tmp_path, monkeypatch, capsys,
                                               database_url):
    monkeypatch.setenv("CALLENGINE_DATABASE_URL", database_url)
    out = tmp_path / "bao-phu.xlsx"
    assert main(["vaccinations", "coverage", "--format", "xlsx", "--date", "2021-11-30",
                 str(out)]) == 0
    assert "30/11/2021" in capsys.readouterr().out
    sheet = load_workbook(out).active
    assert (sheet.cell(2, 2).value, sheet.cell(2, 3).value) == ("Nga Liên", 2)
