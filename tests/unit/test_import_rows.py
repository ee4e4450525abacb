"""Import, rows: what a row becomes, and the Vietnamese reason when it cannot be imported."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from callengine.importer.categories import parse_category
from callengine.importer.headers import find_header
from callengine.importer.rows import PersonRecord, Rejected, SheetContext, validate_row
from callengine.importer.service import validate_files
from tests.fixtures.imports import workbooks as wb

LIST_DATE = wb.LIST_DATE
HEADER = ["STT", "Họ và tên", "Số điện thoại", "Phân loại", "Ngày về", "CCCD", "Năm sinh",
          "Tuổi", "Giới tính", "Nghề nghiệp", "Ghi chú"]


def row(name="Nguyễn Văn Thử", phone="0912000101", category="F1", arrived="12/08/2021",
        national_id=None, born=None, age=None, sex=None, job=None, note=None):
    return [1, name, phone, category, arrived, national_id, born, age, sex, job, note]


def check(cells, default_category=None, list_date=LIST_DATE):
    header = find_header([HEADER, cells])
    return validate_row(cells, 2, SheetContext(header, list_date, default_category))


def accepted(cells, **kwargs) -> PersonRecord:
    outcome = check(cells, **kwargs)
    assert isinstance(outcome, PersonRecord), outcome
    return outcome


def rejected(cells, **kwargs) -> Rejected:
    outcome = check(cells, **kwargs)
    assert isinstance(outcome, Rejected), outcome
    return outcome


# --- phones -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def phone_sheet(tmp_path_factory):
    result = validate_files([wb.phone_formats(tmp_path_factory.mktemp("phones"))],
                            list_date=LIST_DATE)
    records = {loc.record.row: loc.record for loc in result.records}
    issues = {issue.row: issue for issue in result.issues}
    return records, issues


@pytest.mark.parametrize(("index", "case"), list(enumerate(wb.PHONE_CASES, start=2)),
                         ids=[repr(c[0]) for c in wb.PHONE_CASES])
def test_every_phone_format_staff_type_is_read_or_rejected(phone_sheet, index, case):
    records, issues = phone_sheet
    _cell, primary, alternates, note = case
    if primary is None:
        assert index in issues and index not in records
        assert issues[index].column == "Số điện thoại"
        return
    record = records[index]
    assert record.phone.e164 == primary
    assert tuple(a.e164 for a in record.alt_phones) == alternates
    assert record.notes == ((f"Số điện thoại: {note}",) if note else ())


@pytest.mark.parametrize("cell", [np.int64(912000101), np.float64(912000101.0), 912000101.0,
                                  "0912000101", " 0912 000 101 "])
def test_numpy_and_numeric_phone_cells_from_pandas_are_accepted(cell):
    assert accepted(row(phone=cell)).phone.e164 == "+84912000101"


def test_the_carrier_of_each_number_is_kept_for_trunk_routing():
    record = accepted(row(phone="0912000101 / 0388000102"))
    assert (record.phone.carrier, record.alt_phones[0].carrier) == ("vinaphone", "viettel")


def test_a_wrong_number_is_rejected_with_the_column_and_the_value():
    [error] = rejected(row(phone="0912 000 10")).errors
    assert (error.column, error.value) == ("Số điện thoại", "0912 000 10")
    assert error.reason == ("Cột 'Số điện thoại': Số điện thoại '0912 000 10' sai độ dài "
                            "(9 chữ số kể cả số 0 đầu, cần 10)")


def test_a_name_without_any_phone_is_rejected():
    [error] = rejected(row(phone=None)).errors
    assert error.reason == "Cột 'Số điện thoại' để trống: không có số điện thoại để gọi"


def test_a_valid_number_with_a_broken_second_number_is_kept_with_a_note():
    record = accepted(row(phone="0912000101 / 0987 000 1"))
    assert record.phone.e164 == "+84912000101" and record.alt_phones == ()
    assert "số không dùng được '0987 000 1'" in record.notes[0]


def test_a_phone_without_a_name_is_still_called():
    record = accepted(row(name=None))
    assert (record.full_name, record.phone.e164) == ("", "+84912000101")


@pytest.mark.parametrize("cells", [
    [None] * 11,
    [None, "Tổng cộng: 25 người", None, None],
    ["Tổng", "25", None],
    [None, "NGƯỜI LẬP BIỂU", None, None, None, None, None, None, None, "GIÁM ĐỐC"],
    [None, "(Ký, ghi rõ họ tên)"],
    ["II.", "Xã Nga Thủy"],
    [None, "Thanh Hóa, ngày 15 tháng 8 năm 2021"],
    ["(1)", "(2)", "(3)", "(4)", "(5)"],
])
def test_blank_total_signature_and_heading_rows_are_skipped(cells):
    assert check(cells) is None


def test_a_heading_row_under_a_real_header_is_skipped_and_a_named_row_is_not():
    # found by mypy: the check looked fields up by column and raised KeyError on any heading
    header = find_header([HEADER, row()])
    context = SheetContext(header, LIST_DATE, None)
    assert validate_row([None, "Xã Nga Thủy"] + [None] * 9, 3, context) is None
    assert isinstance(validate_row(row(name="Xã Nga Thủy", phone=None), 3, context), Rejected)


def test_a_surname_that_looks_like_a_word_is_not_mistaken_for_a_total():
    assert isinstance(check(row(name="Tống Văn Thử", phone=None)), Rejected)


# --- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cell", "expected"), wb.DATE_CASES, ids=[repr(c) for c, _ in
                                                                   wb.DATE_CASES])
def test_dates_typed_day_first_or_as_excel_dates(cell, expected):
    outcome = check(row(category="VVD", arrived=cell))
    if expected is None:
        [error] = outcome.errors
        assert error.column == "Ngày về" and error.reason.startswith("Cột 'Ngày về': ")
    else:
        assert outcome.event_date == expected


def test_a_pandas_timestamp_cell_is_a_date():
    assert accepted(row(arrived=pd.Timestamp("2021-08-13"))).event_date == date(2021, 8, 13)


def test_day_and_month_without_a_year_in_a_january_list_belong_to_december():
    record = accepted(row(arrived="28/12"), list_date=date(2022, 1, 3))
    assert record.event_date == date(2021, 12, 28)


def test_two_dates_in_one_cell_are_rejected_not_guessed():
    [error] = rejected(row(arrived="10/8 - 12/8")).errors
    assert "nhiều ngày" in error.reason


# --- classes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "category"), [
    ("F0", "F0"), ("ca bệnh", "F0"), ("Dương tính", "F0"), ("f1", "F1"), ("F 1", "F1"),
    ("Tiếp xúc gần (F1)", "F1"), ("tiếp xúc gần", "F1"), ("F2", "F2"),
    ("Tiếp xúc với F1", "F2"), ("F1 (tiếp xúc với F0)", "F1"),
    ("Người về từ vùng dịch", "returnee"), ("về từ vùng dịch", "returnee"),
    ("VVD", "returnee"), ("Trở về từ TP Hồ Chí Minh", "returnee"), ("returnee", "returnee"),
    ("F3", None), ("nghi ngờ", None), ("âm tính", None),
])
def test_class_spellings(text, category):
    assert parse_category(text) == category


def test_an_unknown_class_is_rejected_with_its_value():
    [error] = rejected(row(category="F3")).errors
    assert (error.column, error.value) == ("Phân loại", "F3")
    assert "không nhận ra phân loại 'F3'" in error.reason


def test_a_blank_class_takes_the_command_line_class_or_is_rejected():
    assert accepted(row(category=None), default_category="F2").category == "F2"
    [error] = rejected(row(category=None)).errors
    assert "để trống" in error.reason


def test_every_problem_of_a_row_is_listed():
    outcome = rejected(row(phone="1900 1234", category="X", arrived="31/02/2021"))
    assert [e.column for e in outcome.errors] == ["Số điện thoại", "Phân loại", "Ngày về"]


# --- other columns ------------------------------------------------------------------------------


def test_unknown_columns_and_remarks_are_kept_as_notes(tmp_path):
    result = validate_files([wb.unknown_columns(tmp_path)], list_date=LIST_DATE)
    first, second = (loc.record for loc in result.records)
    assert first.notes == ("Đã lấy mẫu lần 1", "Nghề nghiệp: Giáo viên", "Quê quán: Nam Định")
    assert second.notes == ()


@pytest.mark.parametrize(("cell", "expected"), [
    (38090000123, "038090000123"), ("038 090 000 123", "038090000123"),
    (17300012, "017300012"), ("173000123", "173000123"), ("C1234567", "C1234567"),
])
def test_identity_numbers_get_their_leading_zero_back(cell, expected):
    assert accepted(row(national_id=cell)).national_id == expected


def test_a_malformed_identity_number_is_a_note_not_a_rejection():
    record = accepted(row(national_id="12345"))
    assert record.national_id is None
    assert record.notes == ("CCCD: '12345' (không phải số CCCD/CMND hợp lệ)",)


def test_birth_year_from_a_year_a_date_or_an_age():
    assert accepted(row(born=1985)).birth_year == 1985
    assert accepted(row(born=datetime(1985, 3, 2))).birth_year == 1985
    assert accepted(row(born="02/03/1985")).birth_year == 1985
    assert accepted(row(age=36)).birth_year == 1985
    assert accepted(row(sex="nu")).sex == "Nữ"


def test_text_is_nfc_with_whitespace_collapsed_and_names_fold_for_matching():
    decomposed = unicodedata.normalize("NFD", "  Nguyễn   Văn\u00a0An ")
    record = accepted(row(name=decomposed))
    assert record.full_name == "Nguyễn Văn An"
    assert record.name_key == accepted(row(name="NGUYEN VAN AN")).name_key == "nguyen van an"
