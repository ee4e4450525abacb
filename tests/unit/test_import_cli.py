"""`callengine import` and `callengine people export` as CDC staff use them."""

from __future__ import annotations

import csv
import io
import json
import stat

import pytest
from openpyxl import Workbook, load_workbook

from callengine.cli import main
from callengine.importer.progress import Progress
from callengine.store.db import Database
from tests.fixtures.imports import workbooks as wb

DATE = ["--date", wb.LIST_DATE.isoformat()]


def people_count(url: str) -> int:
    from sqlalchemy import func, select

    from callengine.store.models import Person

    db = Database(url)
    try:
        with db.session() as s:
            return s.scalar(select(func.count()).select_from(Person))
    finally:
        db.dispose()


def test_json_output_is_exactly_the_object_of_the_issue(any_url, tmp_path, capsys):
    code = main(["import", str(wb.phone_formats(tmp_path)), *DATE, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1  # imported, with rejected rows
    assert list(out) == ["rows", "created", "updated", "rejected", "skipped", "errors"]
    assert (out["rows"], out["created"], out["updated"], out["rejected"], out["skipped"]) == (
        25, 21, 0, 4, 0)
    assert out["errors"][0] == {
        "file": "ds_so_dien_thoai.xlsx", "sheet": "SĐT", "row": 23,
        "column": "Số điện thoại", "value": "1900 1234",
        "reason": "Cột 'Số điện thoại': Số điện thoại '1900 1234' là số dịch vụ, không gọi được"}
    assert people_count(any_url) == 21


def test_second_run_of_the_same_file_reports_nothing_created_or_updated(any_url, tmp_path,
                                                                       capsys):
    path = str(wb.districts(tmp_path))
    main(["import", path, *DATE, "--json"])
    capsys.readouterr()
    main(["import", path, *DATE, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert (out["created"], out["updated"]) == (0, 0)


def test_the_summary_is_in_vietnamese_and_lists_rejected_rows(sqlite_url, tmp_path, capsys):
    code = main(["import", str(wb.legacy_xls(tmp_path)), *DATE])
    out = capsys.readouterr().out
    assert code == 1
    assert "đã đọc 3 dòng từ 1 tệp" in out
    assert "Người mới:            2" in out
    assert ("ds_cu.xls › Xã Thử › dòng 6: Cột 'SĐT': Số điện thoại '0912 000 80' sai độ dài"
            in out)


def test_a_clean_list_exits_zero(sqlite_url, tmp_path, capsys):
    assert main(["import", str(wb.title_block(tmp_path)), *DATE]) == 0


def test_an_unreadable_file_prints_one_line_exits_2_and_imports_nothing(sqlite_url, tmp_path,
                                                                      capsys):
    broken = wb.broken_files(tmp_path)
    code = main(["import", str(wb.title_block(tmp_path)), str(broken["truncated"]), *DATE])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"callengine: {broken['truncated'].name}: tệp Excel bị hỏng hoặc không đầy đủ "
        "(có thể tải về chưa xong)"]
    assert people_count(sqlite_url) == 0


def test_a_list_without_a_class_column_is_imported_with_category(sqlite_url, tmp_path, capsys):
    path = str(wb.no_category_column(tmp_path))
    assert main(["import", path, *DATE]) == 2
    assert "--category" in capsys.readouterr().err
    assert main(["import", path, *DATE, "--category", "người về từ vùng dịch"]) == 0
    assert people_count(sqlite_url) == 2


def test_an_unknown_category_option_is_refused(sqlite_url, tmp_path, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["import", str(wb.no_category_column(tmp_path)), "--category", "F9"])
    assert caught.value.code == 2


def test_dry_run_validates_and_writes_nothing(sqlite_url, tmp_path, capsys):
    code = main(["import", str(wb.title_block(tmp_path)), *DATE, "--dry-run"])
    assert code == 0
    assert "--dry-run" in capsys.readouterr().out
    assert people_count(sqlite_url) == 0


def test_the_error_workbook_holds_rejected_rows_as_they_were_and_can_be_fixed(sqlite_url,
                                                                            tmp_path, capsys):
    source = tmp_path / "Xã Thử.csv"  # text from a web form: formulas arrive as plain text
    source.write_text("DANH SÁCH F1\n"
                      "Họ và tên,Số điện thoại,Phân loại,Nghề nghiệp\n"
                      "Nguyễn Văn Thử,0912000101,F1,\n"
                      "\"=HYPERLINK(\"\"http://x\"\")\",0912 000 10,F1,@SUM(A1)\n"
                      "Lê Thị Mẫu,0912000103,F7,-giáo viên\n", encoding="utf-8")
    errors = tmp_path / "loi.xlsx"
    main(["import", str(source), *DATE, "--errors-out", str(errors)])
    assert stat.S_IMODE(errors.stat().st_mode) == 0o600  # names and phones: owner only
    result = load_workbook(errors)
    assert result.sheetnames == ["Tổng hợp lỗi", "Xã Thử"]
    rows = [list(r) for r in result["Xã Thử"].iter_rows(values_only=True)]
    assert rows[0] == ["Họ và tên", "Số điện thoại", "Phân loại", "Nghề nghiệp", "Dòng gốc",
                       "Lý do"]
    assert rows[1][:5] == ["=HYPERLINK(\"http://x\")", "0912 000 10", "F1", "@SUM(A1)", 4]
    assert rows[2][:5] == ["Lê Thị Mẫu", "0912000103", "F7", "-giáo viên", 5]  # as typed
    assert all(c.data_type != "f" for row in result["Xã Thử"].iter_rows() for c in row)
    assert "không nhận ra phân loại 'F7'" in rows[2][5]
    summary = [list(r) for r in result["Tổng hợp lỗi"].iter_rows(values_only=True)]
    assert summary[0] == ["Tệp", "Trang", "Dòng", "Cột", "Giá trị", "Lý do"]
    assert summary[2][:5] == ["Xã Thử.csv", "Xã Thử", 5, "Phân loại", "F7"]
    # Staff fix the cells in the error workbook and import it as it is.
    result["Xã Thử"]["B2"] = "0912 000 102"
    result["Xã Thử"]["C3"] = "F1"
    result.save(errors)
    capsys.readouterr()
    assert main(["import", str(errors), *DATE, "--json"]) == 0  # the summary sheet is skipped
    out = json.loads(capsys.readouterr().out)
    assert (out["created"], out["rejected"]) == (2, 0)
    assert people_count(sqlite_url) == 3


def test_people_export_as_csv_has_the_columns_staff_need(sqlite_url, tmp_path, capsys):
    main(["import", str(wb.districts(tmp_path)), *DATE])
    path = tmp_path / "people.csv"
    assert main(["people", "export", "--format", "csv", str(path)]) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # health data: owner only
    assert "4 người" in capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert list(rows[0])[:10] == ["full_name", "phone", "alt_phones", "national_id",
                                  "category", "monitoring_start", "monitoring_end", "commune",
                                  "district", "status"]
    assert {k: rows[0][k] for k in ("full_name", "phone", "category", "monitoring_start",
                                    "monitoring_end", "district", "status")} == {
        "full_name": "Hoàng Văn Ví Dụ", "phone": '="+84912000201"', "category": "F1",
        "monitoring_start": "2021-08-12", "monitoring_end": "2021-08-26",
        "district": "Huyện Nga Sơn", "status": "monitoring"}


def test_people_export_as_excel_neutralises_formulas(any_url, tmp_path, capsys):
    book = Workbook()
    book.active.append(["Họ và tên", "SĐT", "Phân loại", "Ghi chú"])
    book.active.append(["@Nguyễn Văn Thử", "0912000101", "F1", "+cmd|' /C calc'!A0"])
    book.save(tmp_path / "ds.xlsx")
    main(["import", str(tmp_path / "ds.xlsx"), *DATE])
    path = tmp_path / "people.xlsx"
    assert main(["people", "export", str(path)]) == 0  # format from the file name
    header, first = load_workbook(path).active.iter_rows()
    row = {h.value: cell for h, cell in zip(header, first)}
    assert (row["full_name"].value, row["notes"].value, row["phone"].value) == (
        "@Nguyễn Văn Thử", "+cmd|' /C calc'!A0", "+84912000101")  # shown as typed
    assert all(row[c].data_type == "s" and row[c].quotePrefix for c in ("full_name", "notes"))
    assert row["monitoring_end"].value.date().isoformat() == "2021-08-29"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_shows_only_on_a_terminal_and_for_large_sheets():
    terminal, pipe = _Terminal(), io.StringIO()
    for stream, total in ((terminal, 5000), (pipe, 5000), (_Terminal(), 100)):
        bar = Progress("ds.xlsx › Nga Sơn", total, stream)
        for _ in range(total):
            bar.advance()
        bar.close()
    assert terminal.getvalue().endswith("5000/5000 dòng\n")
    assert pipe.getvalue() == ""
