"""Import, reading: every sheet and format staff send, headers found wherever they are."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from callengine.importer import headers as h
from callengine.importer.headers import HeaderNotFound, find_header, match_header
from callengine.importer.reader import UnreadableFile, read_file
from callengine.importer.service import UnreadableFiles, validate_files
from tests.fixtures.imports import workbooks as wb

LIST_DATE = wb.LIST_DATE


def validate(*paths, category=None):
    return validate_files(list(paths), list_date=LIST_DATE, category=category)


def by_name(validation):
    return {loc.record.full_name: loc.record for loc in validation.records}


# --- title blocks, merged cells, two-row headers -------------------------------------------


def test_title_block_and_merged_cells_above_the_header_do_not_hide_the_list(tmp_path):
    result = validate(wb.title_block(tmp_path))
    assert sorted(by_name(result)) == ["Lê Văn Giả", "Nguyễn Văn Thử", "Phạm Thị Thí Dụ",
                                       "Trần Thị Mẫu"]
    assert result.rows == wb.TITLE_BLOCK_ROWS
    assert result.rejected == 0 and result.issues == []


def test_totals_signatures_and_column_numbers_are_skipped_silently(tmp_path):
    result = validate(wb.title_block(tmp_path))
    assert result.skipped == wb.TITLE_BLOCK_ROWS - wb.TITLE_BLOCK_PEOPLE
    assert result.issues == []


def test_nam_nu_columns_under_nam_sinh_give_birth_year_and_sex(tmp_path):
    people = by_name(validate(wb.title_block(tmp_path)))
    assert (people["Nguyễn Văn Thử"].birth_year, people["Nguyễn Văn Thử"].sex) == (1985, "Nam")
    assert (people["Trần Thị Mẫu"].birth_year, people["Trần Thị Mẫu"].sex) == (1990, "Nữ")


def test_address_sub_headers_fill_village_and_commune(tmp_path):
    person = by_name(validate(wb.title_block(tmp_path)))["Lê Văn Giả"]
    assert (person.village, person.commune, person.address) == ("Thôn 3", "Xã Mẫu", None)


def test_header_row_is_searched_only_in_the_first_20_rows():
    rows = [[] for _ in range(20)] + [["Họ và tên", "SĐT"], ["Nguyễn Văn Thử", "0912000101"]]
    with pytest.raises(HeaderNotFound, match="20 dòng đầu"):
        find_header(rows)
    assert find_header(rows[1:]).row == 19


def test_a_header_with_a_phone_but_no_name_column_is_reported_as_such():
    with pytest.raises(HeaderNotFound, match="không có cột họ tên") as caught:
        find_header([["SĐT", "Địa chỉ"], ["0912000101", "Thôn 1"]])
    assert caught.value.has_phone


# --- sheets ---------------------------------------------------------------------------------


def test_every_sheet_is_read_and_a_district_sheet_name_gives_the_district(tmp_path):
    people = by_name(validate(wb.districts(tmp_path)))
    assert people["Hoàng Văn Ví Dụ"].district == "Huyện Nga Sơn"
    assert people["Đỗ Văn Minh Họa"].district == "Huyện Hậu Lộc"
    assert people["Vũ Thị Thử"].district == "TX Nghi Sơn"


def test_a_sheet_without_name_and_phone_columns_is_reported_not_guessed(tmp_path):
    result = validate(wb.districts(tmp_path))
    [issue] = result.issues  # 'Hướng dẫn'; the empty and the hidden sheet are not reported
    assert (issue.sheet, issue.row, issue.column) == ("Hướng dẫn", None, None)
    assert "không tìm thấy dòng tiêu đề" in issue.reason
    assert [f.sheets for f in result.files] == [3]


# --- header spellings -------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "field"), [
    ("Họ và tên", h.NAME), ("HỌ VÀ TÊN", h.NAME), ("Ho ten", h.NAME), ("  Họ   tên ", h.NAME),
    ("Tên", h.NAME), ("Họ và tên người về", h.NAME),
    ("Số điện thoại", h.PHONE), ("SĐT", h.PHONE), ("S.Đ.T", h.PHONE), ("Điện thoại", h.PHONE),
    ("ĐT liên hệ", h.PHONE), ("Số ĐT", h.PHONE), ("Số điện thoại (di động)", h.PHONE),
    ("CCCD", h.NATIONAL_ID), ("CMND", h.NATIONAL_ID), ("Số CCCD/CMND", h.NATIONAL_ID),
    ("Số định danh", h.NATIONAL_ID),
    ("Phân loại", h.CATEGORY), ("Đối tượng", h.CATEGORY), ("Đối tượng (F1/F2)", h.CATEGORY),
    ("Ngày về", h.ARRIVAL_DATE), ("Ngày đến", h.ARRIVAL_DATE),
    ("Ngày về địa phương", h.ARRIVAL_DATE),
    ("Ngày tiếp xúc", h.CONTACT_DATE), ("Ngày tiếp xúc cuối", h.CONTACT_DATE),
    ("Ngày tiếp xúc gần nhất", h.CONTACT_DATE),
    ("Năm sinh", h.BIRTH_YEAR), ("Giới tính", h.SEX),
    ("Thôn/Xóm", h.VILLAGE), ("Xã/Phường/Thị trấn", h.COMMUNE), ("Huyện", h.DISTRICT),
    ("Địa chỉ", h.ADDRESS), ("Về từ", h.ORIGIN), ("Nơi đi", h.ORIGIN),
    ("Ghi chú", h.NOTE), ("STT", h.IGNORED), ("Nghề nghiệp", None), ("Quê quán", None),
])
def test_headers_match_accent_case_and_spacing_insensitively(header, field):
    assert match_header(header) == field


def test_every_header_variant_sheet_imports_the_same_fields(tmp_path):
    people = by_name(validate(wb.header_variants(tmp_path)))
    assert {n: (p.national_id, p.category) for n, p in people.items()} == {
        "Nguyễn Văn Một": ("038090000301", "F1"),
        "Nguyễn Văn Hai": ("038090000302", "F2"),  # numeric CCCD cell: leading zero restored
        "Nguyễn Văn Ba": ("173000303", "F1"),
        "Nguyễn Thị Bốn": ("173000304", "returnee"),
    }
    four = people["Nguyễn Thị Bốn"]
    assert (four.event_date, four.sex, four.commune, four.district, four.origin) == (
        date(2021, 8, 13), "Nữ", "Xã Thử", "Huyện Mẫu", "TP Hồ Chí Minh")


def test_the_last_contact_column_wins_and_the_other_date_is_kept_as_a_note(tmp_path):
    person = by_name(validate(wb.header_variants(tmp_path)))["Nguyễn Văn Ba"]
    assert person.event_date == date(2021, 8, 12)
    assert "Ngày tiếp xúc: 01/08/2021" in person.notes


# --- formats ----------------------------------------------------------------------------------


def test_legacy_xls_workbook_is_read_with_numbers_dates_and_row_numbers(tmp_path):
    result = validate(wb.legacy_xls(tmp_path))
    people = by_name(result)
    assert people["Nguyễn Văn Thử"].phone.e164 == "+84912000801"  # numeric cell
    assert people["Nguyễn Văn Thử"].event_date == date(2021, 8, 12)  # Excel date cell
    assert people["Lê Thị Mẫu"].phone.e164 == "+84362000802"  # 0166 -> 036
    [issue] = result.issues
    assert (issue.sheet, issue.row, issue.column, issue.value) == (
        "Xã Thử", 6, "SĐT", "0912 000 80")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1258"])
def test_csv_in_utf8_utf8_with_bom_and_windows_1258_gives_the_same_people(tmp_path, encoding):
    result = validate(wb.csv_file(tmp_path, encoding))
    people = by_name(result)
    assert sorted(people) == ["Lê Thị Mẫu", "Nguyễn Văn Thử"]
    assert all(unicodedata.is_normalized("NFC", name) for name in people)
    assert people["Lê Thị Mẫu"].village == "Xóm Hạ"
    assert people["Lê Thị Mẫu"].notes == ("Số điện thoại: chồng",)
    assert [loc.record.row for loc in result.records] == [4, 5]


def test_csv_separated_by_semicolons_is_read(tmp_path):
    people = by_name(validate(wb.csv_file(tmp_path, "utf-8", delimiter=";")))
    assert people["Nguyễn Văn Thử"].phone.e164 == "+84912000901"


def test_excel_row_numbers_count_the_blank_rows_above_the_data(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active["C4"], book.active["D4"] = "Họ tên", "SĐT"
    book.active["C7"], book.active["D7"] = "Nguyễn Văn Thử", "0912 000 12"
    book.save(tmp_path / "lech.xlsx")
    [issue] = validate(tmp_path / "lech.xlsx", category="F1").issues
    assert issue.row == 7
    assert read_file(tmp_path / "lech.xlsx").sheets[0].rows[6][2] == "Nguyễn Văn Thử"


# --- files that cannot be read ------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "reason"), [
    ("not_a_spreadsheet", "không phải tệp Excel"),
    ("truncated", "bị hỏng hoặc không đầy đủ"),
    ("empty", "tệp rỗng"),
    ("html", "trang web"),
    ("no_phone", "không tìm thấy cột số điện thoại"),
])
def test_a_file_that_cannot_be_read_has_one_clear_vietnamese_reason(tmp_path, kind, reason):
    path = wb.broken_files(tmp_path)[kind]
    with pytest.raises(UnreadableFiles) as caught:
        validate(path)
    [problem] = caught.value.problems
    assert problem.name == path.name
    assert reason in problem.reason
    assert "\n" not in str(problem)


def test_a_missing_file_is_reported_by_name(tmp_path):
    with pytest.raises(UnreadableFile, match="không tìm thấy tệp"):
        read_file(tmp_path / "khong_co.xlsx")


def test_every_unreadable_file_is_reported_not_just_the_first(tmp_path):
    broken = wb.broken_files(tmp_path)
    with pytest.raises(UnreadableFiles) as caught:
        validate(wb.title_block(tmp_path), broken["empty"], broken["truncated"])
    assert [p.name for p in caught.value.problems] == ["rong.csv", "tai_chua_xong.xlsx"]


def test_a_sheet_without_a_class_column_needs_a_class_for_the_whole_file(tmp_path):
    path = wb.no_category_column(tmp_path)
    with pytest.raises(UnreadableFiles, match="--category"):
        validate(path)
    assert {r.category for r in by_name(validate(path, category="returnee")).values()} == {
        "returnee"}


# --- a class inferred from the title block or the columns -----------------------------------


def _titled(tmp_path, title_rows, header, name="ds.xlsx"):
    from openpyxl import Workbook

    book = Workbook()
    for row in (*title_rows, header, ["Nguyễn Văn Thử", "0912000701", "12/08/2021", "Hà Nội"]):
        book.active.append(row)
    book.save(tmp_path / name)
    return tmp_path / name


@pytest.mark.parametrize("title, category", [
    ("DANH SÁCH CÔNG DÂN TRỞ VỀ TỪ VÙNG DỊCH", "returnee"),
    ("Danh sách F1 xã Thử", "F1"),
    ("DANH SÁCH NGƯỜI TIẾP XÚC GẦN VỚI CA BỆNH", "F1"),
    ("Danh sách người tiếp xúc với F1", "F2"),
])
def test_a_sheet_without_a_class_column_takes_the_class_its_title_names(tmp_path, title,
                                                                        category):
    path = _titled(tmp_path, [["SỞ Y TẾ THANH HÓA"], [title]],
                   ["Họ và tên", "Số điện thoại", "Ngày về", "Ghi chú"])
    result = validate(path)
    assert {r.category for r in by_name(result).values()} == {category}
    assert [(i.category, i.evidence) for i in result.inferred] == [(category, title)]


def test_arrival_date_and_origin_columns_make_a_returnee_list(tmp_path):
    path = _titled(tmp_path, [], ["Họ và tên", "Số điện thoại", "Ngày về", "Về từ"])
    result = validate(path)
    assert {r.category for r in by_name(result).values()} == {"returnee"}
    assert result.inferred[0].evidence == "Ngày về, Về từ"


def test_a_title_naming_two_classes_still_needs_a_class(tmp_path):
    path = _titled(tmp_path, [["DANH SÁCH F1, F2"]],
                   ["Họ và tên", "Số điện thoại", "Ngày về", "Ghi chú"])
    with pytest.raises(UnreadableFiles, match="--category"):
        validate(path)


def test_the_summary_says_the_class_was_inferred(tmp_path, monkeypatch, capsys):
    from callengine.cli import main

    monkeypatch.delenv("CALLENGINE_CONFIG", raising=False)
    monkeypatch.setenv("CALLENGINE_DATABASE_URL", f"sqlite:///{tmp_path / 'c.db'}")
    path = _titled(tmp_path, [["DANH SÁCH CÔNG DÂN TRỞ VỀ TỪ VÙNG DỊCH"]],
                   ["Họ và tên", "Số điện thoại", "Ngày về", "Ghi chú"])
    assert main(["import", str(path), "--date", LIST_DATE.isoformat(), "--dry-run"]) == 0
    assert ("Trang 'Sheet' (ds.xlsx) không có cột phân loại: đã suy ra người về từ vùng dịch "
            "từ 'DANH SÁCH CÔNG DÂN TRỞ VỀ TỪ VÙNG DỊCH'") in capsys.readouterr().out


def test_a_sheet_with_duplicate_headers_is_reported_and_the_others_imported(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    good = book.active
    good.append(["Họ và tên", "Số điện thoại", "Phân loại"])
    good.append(["Nguyễn Văn Thử", "0912000701", "F1"])
    twice = book.create_sheet("Xã Mẫu")
    twice.append(["Họ và tên", "SĐT", "Phân loại", "SĐT"])
    twice.append(["Lê Thị Mẫu", "0912000702", "F1", "0912000703"])
    book.save(tmp_path / "hai.xlsx")
    result = validate(tmp_path / "hai.xlsx")
    assert list(by_name(result)) == ["Nguyễn Văn Thử"]
    (issue,) = result.issues
    assert issue.sheet == "Xã Mẫu" and "hai cột 'SĐT' (cột B) và 'SĐT' (cột D)" in issue.reason
