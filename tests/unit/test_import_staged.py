"""Staged imports (the web's upload, preview and commit), on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import os
import stat
import struct
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from callengine.importer import service, staged
from callengine.importer.history import history
from callengine.importer.limits import UploadRefused
from callengine.importer.service import UnreadableFiles, import_files
from callengine.settings import load_settings
from callengine.store.models import ImportBatch, ImportPreview, Person
from tests.fixtures.imports import workbooks as wb

NOW = datetime(2021, 8, 15, 2, 0, tzinfo=timezone.utc)  # 09:00 in Thanh Hóa
HOSTILE = "<script>alert(1)</script>.csv"


@pytest.fixture
def settings(tmp_path):
    return load_settings({}, data_dir=tmp_path / "data")


def upload(db, settings, *files, actor="lan", category=None, now=NOW, **kwargs):
    """Stage files given as paths (uploaded under their own names) or (name, content)."""
    uploads = [f if isinstance(f, tuple) else (f.name, f.read_bytes()) for f in files]
    return staged.stage(db, uploads, list_date=wb.LIST_DATE, category=category, actor=actor,
                        now=now, settings=settings, **kwargs)


def count(db, model) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def stored_folders(settings) -> list[Path]:
    root = settings.data_dir / "imports"
    return sorted(root.iterdir()) if root.exists() else []


def counts(preview) -> tuple[int, ...]:
    return tuple(preview.to_dict()[k] for k in ("created", "updated", "unchanged", "rejected"))


def follow_up_list(folder: Path) -> Path:
    """After districts(): one person unchanged, one named again as F1, one new, one rejected."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Bổ sung"
    sheet.append(["Họ và tên", "Số điện thoại", "Phân loại", "Ngày tiếp xúc cuối"])
    sheet.append(["Hoàng Văn Ví Dụ", "0912000201", "F1", "12/08/2021"])
    sheet.append(["Trần Thị Mẫu", "0912000202", "F1", "14/08/2021"])
    sheet.append(["Người Mới Thử", "0912000299", "F2", "14/08/2021"])
    sheet.append(["Số Sai Thử", "0912 000", "F2", "14/08/2021"])
    path = folder / "ds_bo_sung.xlsx"
    book.save(path)
    return path


# --- stage: the preview -------------------------------------------------------------------------


def test_a_preview_counts_what_an_import_would_do_and_writes_no_one(db, settings, tmp_path):
    import_files(db, [wb.districts(tmp_path)], list_date=wb.LIST_DATE, now=NOW)
    preview = upload(db, settings, follow_up_list(tmp_path))
    assert counts(preview) == (1, 1, 1, 1)
    error = preview.to_dict()["errors"][0]
    assert (error["file"], error["sheet"], error["row"], error["column"], error["value"]) == (
        "ds_bo_sung.xlsx", "Bổ sung", 5, "Số điện thoại", "0912 000")
    assert "Số điện thoại" in error["reason"]
    assert count(db, Person) == 4  # the districts' people only
    assert count(db, ImportBatch) == 1


def test_a_preview_is_the_importers_json_plus_its_id_files_and_dates(db, settings, tmp_path):
    preview = upload(db, settings, wb.phone_formats(tmp_path), actor="lan")
    data = preview.to_dict()
    assert (data["rows"], data["created"], data["rejected"], data["skipped"]) == (25, 21, 4, 0)
    assert len(data["id"]) >= 22 and data["status"] == "staged"
    assert data["files"][0]["name"] == "ds_so_dien_thoai.xlsx"
    assert (data["list_date"], data["created_by"]) == ("2021-08-15", "lan")
    assert data["expires_at"] == "2021-08-15T03:00:00+00:00"  # an hour by default
    assert staged.get_preview(db, preview.id).to_dict() == data


def test_stage_reports_the_progress_of_each_sheet(db, settings, tmp_path):
    seen = []
    upload(db, settings, wb.districts(tmp_path), on_progress=lambda *a: seen.append(a))
    assert ("ds_cac_huyen.xlsx › Huyện Nga Sơn", 0, 2) in seen
    assert ("ds_cac_huyen.xlsx › Huyện Nga Sơn", 2, 2) in seen


def test_uploaded_files_are_private_and_stored_under_generated_names(db, settings, tmp_path):
    preview = upload(db, settings, ("../../ds.xlsx", wb.title_block(tmp_path).read_bytes()),
                     (HOSTILE, wb.csv_file(tmp_path, "utf-8").read_bytes()))
    (folder,) = stored_folders(settings)
    assert folder.name == preview.id
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert sorted(os.listdir(folder)) == ["01.xlsx", "02.csv"]
    assert {stat.S_IMODE((folder / n).stat().st_mode) for n in os.listdir(folder)} == {0o600}
    assert [f["name"] for f in preview.files] == ["../../ds.xlsx", HOSTILE]


# --- refusals before parsing ----------------------------------------------------------------------


@pytest.fixture
def no_parsing(monkeypatch):
    def fail(*_args, **_kwargs):
        raise AssertionError("the file was parsed")

    monkeypatch.setattr(service, "read_file", fail)


def refused(db, settings, *files, **kwargs) -> UploadRefused:
    with pytest.raises(UploadRefused) as caught:
        upload(db, settings, *files, **kwargs)
    assert stored_folders(settings) == [] and count(db, ImportPreview) == 0
    return caught.value


def test_a_50_mb_upload_is_refused_naming_the_limit(db, settings, no_parsing):
    error = refused(db, settings, ("ds.xlsx", b"PK\x03\x04" + bytes(50 * 2**20)))
    assert str(error) == ("ds.xlsx: tệp lớn 50 MB, vượt giới hạn 20 MB cho mỗi tệp; hãy chia "
                          "danh sách thành nhiều tệp nhỏ hơn")
    assert error.code == "too_large"


def test_files_over_the_limit_per_upload_are_refused(db, settings, no_parsing):
    small = load_settings({}, data_dir=settings.data_dir, import_max_file_size=2**20,
                          import_max_request_size=3 * 2**19)
    error = refused(db, small, ("a.csv", bytes(2**20)), ("b.csv", bytes(2**20)))
    assert "vượt giới hạn 1,5 MB cho mỗi lần tải" in str(error)


def test_only_spreadsheets_and_csv_are_accepted(db, settings, no_parsing):
    error = refused(db, settings, ("ds.pdf", b"%PDF-1.4"), ("ds.xlsx.exe", b"MZ"))
    assert error.problems == ["ds.pdf: chỉ nhận tệp .xlsx, .xls hoặc .csv",
                              "ds.xlsx.exe: chỉ nhận tệp .xlsx, .xls hoặc .csv"]


bomb = wb.zip_bomb


def test_a_zip_bomb_is_refused_before_parsing(db, settings, no_parsing):
    small = load_settings({}, data_dir=settings.data_dir, import_max_unpacked_size=8 * 2**20)
    data = bomb(16 * 2**20)
    assert len(data) < 32 * 2**10
    error = refused(db, small, ("bom.xlsx", data))
    assert "khi giải nén vượt giới hạn 8 MB" in str(error) and error.code == "too_large"


def test_a_member_packed_beyond_the_ratio_is_refused(db, settings, no_parsing):
    error = refused(db, settings, ("bom.xlsx", bomb(4 * 2**20)))
    assert "tỉ lệ nén vượt giới hạn 100:1" in str(error)


def test_a_zip_that_understates_its_sizes_is_refused(db, settings, no_parsing):
    data = bytearray(bomb(16 * 2**20))
    entry = data.find(b"PK\x01\x02", data.find(b"xl/worksheets/sheet1.xml") + 1)
    while data[entry + 46:entry + 46 + 24] != b"xl/worksheets/sheet1.xml":
        entry = data.find(b"PK\x01\x02", entry + 1)
    data[entry + 24:entry + 28] = struct.pack("<I", 1000)  # declared: 1000 bytes
    small = load_settings({}, data_dir=settings.data_dir, import_max_unpacked_size=8 * 2**20)
    assert "vượt giới hạn 8 MB" in str(refused(db, small, ("nho.xlsx", bytes(data))))


def test_a_zip_that_is_not_a_workbook_is_refused(db, settings, no_parsing):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("photo.jpg", b"\xff\xd8")
    error = refused(db, settings, ("anh.xlsx", out.getvalue()))
    assert str(error) == "anh.xlsx: là tệp nén nhưng không phải bảng tính Excel (.xlsx)"


def test_a_broken_file_gets_the_importers_message_and_nothing_is_stored(db, settings,
                                                                          tmp_path):
    good = wb.title_block(tmp_path)
    for name, path in wb.broken_files(tmp_path).items():
        with pytest.raises(UnreadableFiles) as caught:
            upload(db, settings, good, path)
        (problem,) = caught.value.problems
        assert problem.name == path.name and problem.reason, name
    assert stored_folders(settings) == []
    assert (count(db, ImportPreview), count(db, Person)) == (0, 0)


# --- commit -------------------------------------------------------------------------------------


def commit(db, settings, preview, actor="hoa", now=NOW + timedelta(minutes=5)):
    return staged.commit(db, preview.id, actor=actor, now=now, settings=settings)


def test_commit_imports_the_preview_once(db, settings, tmp_path):
    preview = upload(db, settings, wb.phone_formats(tmp_path))
    report = commit(db, settings, preview)
    assert (report.created, report.rejected) == (21, 4)
    assert count(db, Person) == 21
    after = staged.get_preview(db, preview.id)
    assert after.status == "committed" and len(after.batch_ids) == 1
    with pytest.raises(staged.StalePreview) as caught:
        commit(db, settings, preview, now=NOW + timedelta(minutes=6))
    assert caught.value.code == "committed"
    assert str(caught.value) == ("Danh sách này đã được nhập lúc 09:05 15/08/2021 bởi hoa; "
                                 "không nhập lại lần nữa")
    assert (count(db, Person), count(db, ImportBatch)) == (21, 1)


def test_a_preview_whose_people_were_imported_meanwhile_is_refused(db, settings, tmp_path):
    preview = upload(db, settings, wb.title_block(tmp_path))
    import_files(db, [wb.title_block(tmp_path)], list_date=wb.LIST_DATE, now=NOW)
    with pytest.raises(staged.StalePreview) as caught:
        commit(db, settings, preview)
    assert caught.value.code == "changed"
    assert "một lần nhập khác hoặc một chỉnh sửa đã thay đổi" in str(caught.value)
    assert (count(db, Person), count(db, ImportBatch)) == (wb.TITLE_BLOCK_PEOPLE, 1)
    assert staged.get_preview(db, preview.id).status == "refused"
    with pytest.raises(staged.StalePreview):  # and it stays refused
        commit(db, settings, preview)


def test_a_preview_is_refused_when_its_people_changed_though_its_counts_did_not(db, settings,
                                                                              tmp_path):
    import_files(db, [wb.districts(tmp_path)], list_date=wb.LIST_DATE, now=NOW)
    preview = upload(db, settings, follow_up_list(tmp_path))
    book = Workbook()
    book.active.append(["Họ và tên", "Số điện thoại", "Phân loại", "Ngày tiếp xúc cuối", "Thôn"])
    book.active.append(["Hoàng Văn Ví Dụ", "0912000201", "F1", "12/08/2021", "Thôn Đông"])
    book.save(tmp_path / "thon.xlsx")
    import_files(db, [tmp_path / "thon.xlsx"], list_date=wb.LIST_DATE, now=NOW)
    assert counts(upload(db, settings, follow_up_list(tmp_path))) == counts(preview)
    with pytest.raises(staged.StalePreview) as caught:
        commit(db, settings, preview)
    assert caught.value.code == "changed" and count(db, Person) == 4


def test_an_import_of_other_people_meanwhile_leaves_the_preview_valid(db, settings, tmp_path):
    preview = upload(db, settings, wb.title_block(tmp_path))
    import_files(db, [wb.districts(tmp_path)], list_date=wb.LIST_DATE, now=NOW)
    assert commit(db, settings, preview).created == wb.TITLE_BLOCK_PEOPLE
    assert count(db, Person) == wb.TITLE_BLOCK_PEOPLE + 4


def test_an_expired_preview_is_refused_and_writes_nothing(db, settings, tmp_path):
    preview = upload(db, settings, wb.title_block(tmp_path))
    with pytest.raises(staged.StalePreview) as caught:
        commit(db, settings, preview, now=NOW + timedelta(hours=1))
    assert caught.value.code == "expired"
    assert "đã hết hạn (quá 60 phút)" in str(caught.value)
    assert (count(db, Person), count(db, ImportBatch)) == (0, 0)
    assert staged.get_preview(db, preview.id).status == "expired"


def test_a_failure_during_the_commit_writes_nothing(db, settings, tmp_path, monkeypatch):
    preview = upload(db, settings, wb.title_block(tmp_path))

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(service, "_write_periods", broken)
    with pytest.raises(RuntimeError):
        commit(db, settings, preview)
    assert (count(db, Person), count(db, ImportBatch)) == (0, 0)
    assert staged.get_preview(db, preview.id).status == "staged"  # can be tried again
    monkeypatch.undo()
    assert commit(db, settings, preview).created == wb.TITLE_BLOCK_PEOPLE


def test_an_unknown_or_malformed_id_is_not_found(db, settings):
    for preview_id in ("x" * 22, "../../etc", ""):
        with pytest.raises(staged.PreviewNotFound):
            staged.commit(db, preview_id, actor="hoa", now=NOW, settings=settings)


# --- hostile names, error workbook, discard, clean-up, history ----------------------------------


def test_a_hostile_filename_is_kept_as_plain_text(db, settings, tmp_path):
    preview = upload(db, settings, (HOSTILE, wb.csv_file(tmp_path, "utf-8").read_bytes()))
    assert preview.files[0]["name"] == HOSTILE
    commit(db, settings, preview)
    assert history(db).items[0].file_name == HOSTILE
    assert count(db, Person) == 2


def test_the_error_workbook_holds_the_rejected_rows_and_their_reasons(db, settings, tmp_path):
    preview = upload(db, settings, wb.phone_formats(tmp_path))
    book = load_workbook(io.BytesIO(staged.error_workbook(db, preview.id, settings=settings)))
    summary = list(book["Tổng hợp lỗi"].iter_rows(min_row=2, values_only=True))
    assert [row[5] for row in summary] == [e["reason"] for e in preview.report["errors"]]
    rows = list(book["SĐT"].iter_rows(values_only=True))
    assert rows[0][-2:] == ("Dòng gốc", "Lý do") and len(rows) == 1 + 4
    assert rows[1][2] == "1900 1234" and "số dịch vụ" in rows[1][-1]


def test_a_discarded_preview_loses_its_files_and_cannot_be_committed(db, settings, tmp_path):
    preview = upload(db, settings, wb.title_block(tmp_path))
    staged.discard(db, preview.id, actor="lan", now=NOW, settings=settings)
    assert stored_folders(settings) == []
    with pytest.raises(staged.StalePreview) as caught:
        commit(db, settings, preview)
    assert caught.value.code == "discarded" and count(db, Person) == 0


def test_cleanup_expires_old_previews_and_deletes_their_files(db, settings, tmp_path):
    old = upload(db, settings, wb.title_block(tmp_path))
    live = upload(db, settings, wb.districts(tmp_path), now=NOW + timedelta(minutes=50))
    orphan = settings.data_dir / "imports" / ("o" * 22)
    orphan.mkdir()
    os.utime(orphan, (0, 0))  # left by a crash long ago
    removed = staged.cleanup(db, now=NOW + timedelta(minutes=61), settings=settings)
    assert removed == 2
    assert [f.name for f in stored_folders(settings)] == [live.id]
    assert staged.get_preview(db, old.id).status == "expired"
    assert staged.get_preview(db, live.id).status == "staged"


def test_history_names_who_imported_what_newest_first_by_keyset(db, settings, tmp_path):
    for actor, make in (("lan", wb.districts), ("hoa", wb.title_block),
                        ("minh", wb.phone_formats)):
        commit(db, settings, upload(db, settings, make(tmp_path), actor=actor), actor=actor)
    import_files(db, [wb.header_variants(tmp_path)], list_date=wb.LIST_DATE, now=NOW)
    first = history(db, limit=2)
    assert [(i.file_name, i.created_by, i.uploaded_by) for i in first.items] == [
        ("ds_tieu_de_khac_nhau.xlsx", None, None), ("ds_so_dien_thoai.xlsx", "minh", "minh")]
    assert (first.items[1].created, first.items[1].rejected) == (21, 4)
    second = history(db, after=first.next, limit=2)
    assert [i.created_by for i in second.items] == ["hoa", "lan"]
    assert second.next is None
