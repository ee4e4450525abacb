"""The record-workbook import machinery (importer/records.py): header synonyms, row errors in
Vietnamese, the error workbook, and one transaction, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from callengine.importer.error_book import write_error_workbook
from callengine.importer.records import (
    Column,
    InvalidValue,
    RecordSpec,
    choice_value,
    datetime_value,
    import_records,
    number_value,
    read_records,
)
from callengine.importer.rows import RowError
from callengine.importer.service import UnreadableFiles
from callengine.store.models import Person

TODAY = date(2021, 8, 12)


def _code(raw: object) -> str:
    text = str(raw).strip().upper()
    if not text.isalnum():
        raise InvalidValue(f"mã '{raw}' chỉ được gồm chữ và số")
    return text


SPEC = RecordSpec(
    columns=(
        Column("code", ("mã mẫu", "mã xét nghiệm"), required=True, parse=_code,
               missing="thiếu mã mẫu"),
        Column("result", ("kết quả",), required=True,
               parse=choice_value({"dương tính": "positive", "âm tính": "negative",
                                   "DT": "positive", "+": "positive", "-": "negative"},
                                  "Dương tính hoặc Âm tính"), missing="thiếu kết quả"),
        Column("ct", ("giá trị ct", "ct"), parse=number_value(0, 50, "giá trị Ct")),
        Column("at", ("thời gian trả kết quả",), parse=datetime_value(TODAY)),
    ),
    noun="kết quả xét nghiệm",
)


def workbook(path, *sheets):
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def test_headers_match_their_synonyms_accent_and_case_insensitively(tmp_path):
    path = workbook(tmp_path / "kq.xlsx", ("KQ", [
        ["SỞ Y TẾ THANH HÓA"],
        [],
        ["STT", "MA XET NGHIEM", "Kết quả xét nghiệm", "Giá trị CT", "Thời gian trả kết quả"],
        [1, " tq001 ", "Dương Tính", 24.5, "12/08/2021 14:30"],
        [2, "TQ002", "âm tính", None, None],
        [3, None, None, None, None],  # a numbered blank row
        [4, "TQ003", "+", "31,2", "12/08/2021"],
    ]))
    validation = read_records([path], SPEC)
    assert [r.values for r in validation.records] == [
        {"code": "TQ001", "result": "positive", "ct": 24.5, "at": datetime(2021, 8, 12, 14, 30)},
        {"code": "TQ002", "result": "negative"},
        {"code": "TQ003", "result": "positive", "ct": 31.2, "at": datetime(2021, 8, 12)},
    ]
    assert [r.row for r in validation.records] == [4, 5, 7]
    assert validation.skipped == 1 and not validation.errors


def test_every_bad_cell_of_a_row_is_a_vietnamese_reason_naming_column_and_value(tmp_path):
    path = workbook(tmp_path / "kq.xlsx", ("KQ", [
        ["Mã mẫu", "Kết quả", "Ct", "Thời gian trả kết quả"],
        ["A-1", "chưa rõ", 99, "32/08/2021"],
        ["", "Âm tính", None, None],
    ]))
    validation = read_records([path], SPEC)
    assert validation.records == [] and validation.rejected == 2
    reasons = [(e.row, e.column, e.value, e.reason) for e in validation.errors]
    assert reasons == [
        (2, "Mã mẫu", "A-1", "Cột 'Mã mẫu': mã 'A-1' chỉ được gồm chữ và số"),
        (2, "Kết quả", "chưa rõ",
         "Cột 'Kết quả': không nhận ra 'chưa rõ' (dùng Dương tính hoặc Âm tính)"),
        (2, "Ct", "99", "Cột 'Ct': giá trị Ct '99' phải từ 0 đến 50"),
        (2, "Thời gian trả kết quả", "32/08/2021",
         "Cột 'Thời gian trả kết quả': ngày '32/08/2021' không có thật "
         "(tháng 8 không có ngày 32)"),
        (3, "Mã mẫu", "", "Cột 'Mã mẫu' để trống: thiếu mã mẫu"),
    ]


def test_a_file_without_the_required_headers_is_refused_naming_the_missing_column(tmp_path):
    path = workbook(tmp_path / "sai.xlsx", ("Trang1", [["Mã mẫu", "Họ tên"], ["TQ1", "An"]]))
    with pytest.raises(UnreadableFiles) as refused:
        read_records([path], SPEC)
    assert str(refused.value) == ("sai.xlsx: không tìm thấy dòng tiêu đề có cột 'Kết quả' "
                                  "trong 20 dòng đầu; trang này không được nhập")


def test_error_workbook_keeps_rejected_rows_and_imports_again_once_fixed(tmp_path, db):
    path = workbook(tmp_path / "kq.xlsx", ("KQ", [
        ["Mã mẫu", "Kết quả"], ["TQ1", "Dương tính"], ["TQ2", "???"]]))
    report = import_records(db, read_records([path], SPEC), lambda s, v: {"stored": 1})
    errors_path = tmp_path / "loi.xlsx"
    assert write_error_workbook(report, errors_path) == 1
    book = load_workbook(errors_path)
    rows = [list(r) for r in book["KQ"].iter_rows(values_only=True)]
    assert rows[0] == ["Mã mẫu", "Kết quả", "Dòng gốc", "Lý do"]
    assert rows[1][:3] == ["TQ2", "???", 3] and "không nhận ra '???'" in rows[1][3]
    sheet = book["KQ"]
    sheet["B2"] = "Âm tính"
    book.save(errors_path)
    again = read_records([errors_path], SPEC)
    assert [r.values for r in again.records] == [{"code": "TQ2", "result": "negative"}]
    assert not again.errors  # the summary sheet and the added columns are ignored


def test_a_failure_while_writing_writes_nothing(tmp_path, db):
    path = workbook(tmp_path / "kq.xlsx", ("KQ", [["Mã mẫu", "Kết quả"], ["TQ1", "DT"]]))
    stamp = datetime(2021, 8, 12, 7)

    def write(session, validation):
        session.add(Person(full_name="Lê An", phone="+84912345678", created_at=stamp,
                           updated_at=stamp))
        session.flush()
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        import_records(db, read_records([path], SPEC), write)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 0


def test_the_writer_rejects_what_only_the_database_knows_and_the_report_counts_it(tmp_path, db):
    path = workbook(tmp_path / "kq.xlsx", ("KQ", [
        ["Mã mẫu", "Kết quả"], ["TQ1", "DT"], ["TQ9", "-"]]))

    def write(session, validation):
        for record in list(validation.records):
            if record.get("code") == "TQ9":
                validation.reject(record, RowError("Mã mẫu", "TQ9",
                                                   "Cột 'Mã mẫu': không có mẫu mã 'TQ9'"))
        return {"updated": len(validation.records)}

    report = import_records(db, read_records([path], SPEC), write)
    assert report.to_json() == {
        "rows": 2, "accepted": 1, "updated": 1, "rejected": 1, "skipped": 0, "dry_run": False,
        "files": [{"name": "kq.xlsx", "sha256": report.files[0].sha256, "sheets": 1,
                   "rows": 2, "rejected": 1, "skipped": 0}],
        "errors": [{"file": "kq.xlsx", "sheet": "KQ", "row": 3, "column": "Mã mẫu",
                    "value": "TQ9", "reason": "Cột 'Mã mẫu': không có mẫu mã 'TQ9'"}]}
    assert report.exit_code == 1


def test_a_dry_run_writes_nothing(tmp_path, db):
    path = workbook(tmp_path / "kq.xlsx", ("KQ", [["Mã mẫu", "Kết quả"], ["TQ1", "DT"]]))
    stamp = datetime(2021, 8, 12, 7)

    def write(session, validation):
        session.add(Person(full_name="Lê An", phone="+84912345678", created_at=stamp,
                           updated_at=stamp))
        return {"created": 1}

    report = import_records(db, read_records([path], SPEC), write, dry_run=True)
    assert report.counts == {"created": 1} and report.dry_run
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 0
