"""/imports: upload, preview, error workbook, commit, discard, history, progress, refusals."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from callengine import audit
from callengine.audit import AuditFilter
from callengine.importer.service import import_files
from callengine.store.models import ImportBatch, ImportPreview, Person
from tests.admin.conftest import page_text
from tests.fixtures.imports import workbooks as wb

HOSTILE = "<script>alert(1)</script>.xlsx"
LIST_DAY = wb.LIST_DATE.isoformat()


def count(db, model) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def stored(app) -> list[Path]:
    root = app.extensions["callengine"].settings.data_dir / "imports"
    return sorted(root.iterdir()) if root.exists() else []


def upload(auth, *files: tuple[str, bytes], **fields):
    """Post the upload form with (name, content) files, as the browser does."""
    data = {"list_date": LIST_DAY, "category": "", **fields,
            "files": [(io.BytesIO(content), name) for name, content in files]}
    return auth.post("/imports", data, content_type="multipart/form-data")


def staged_preview(auth, tmp_path, name="ds_web.xlsx") -> str:
    """Upload web_upload() and return its preview's URL."""
    response = upload(auth, (name, wb.web_upload(tmp_path).read_bytes()))
    assert response.status_code == 302, page_text(response)
    assert re.fullmatch(r"/imports/[A-Za-z0-9_-]{22,}", response.headers["Location"])
    return response.headers["Location"]


def actions(db) -> list[tuple[str, str]]:
    return [(e.action, e.username) for e in reversed(audit.query(db, AuditFilter()).items)
            if e.action.startswith("import.")]


@pytest.fixture
def staff(signed_in):
    return signed_in("staff")


def test_the_form_asks_for_files_the_lists_date_and_the_class(client, staff):
    page = page_text(client.get("/imports"))
    assert 'accept=".xlsx,.xls,.csv"' in page and "multiple" in page
    assert 'type="date"' in page and "Ngày của danh sách" in page
    assert "Phân loại (chỉ dùng khi trang không có cột phân loại)" in page
    assert 'src="/static/imports.js"' in page and "<script>" not in page


def test_a_preview_shows_counts_and_every_rejected_row_and_writes_no_one(client, auth, staff,
                                                                         db, tmp_path):
    page = page_text(client.get(staged_preview(auth, tmp_path)))
    counts = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", page))
    assert counts == {"Tạo mới": "3", "Cập nhật": "0", "Không đổi": "0", "Bị từ chối": "1",
                      "Bỏ qua": "0"}
    row = page.split('class="rejected-rows"')[1].split("</tbody>")[0]
    for cell in ("ds_web.xlsx", "Danh sách", 'data-label="Dòng">5</td>', "Số điện thoại",
                 "&lt;img src=x onerror=alert(1)&gt;"):
        assert cell in row
    assert "<img src=x" not in page
    assert "Ghi vào hệ thống" in page and "Tải sổ lỗi" in page
    assert count(db, Person) == 0 and count(db, ImportBatch) == 0


def test_commit_writes_the_people_and_the_history_shows_who(client, auth, staff, db, tmp_path):
    url = staged_preview(auth, tmp_path)
    response = auth.post(f"{url}/commit")
    assert response.status_code == 302
    assert response.headers["Location"] == "/imports#history"
    assert count(db, Person) == wb.WEB_PEOPLE
    page = page_text(client.get("/imports"))
    assert "Đã nhập danh sách: 3 tạo mới, 0 cập nhật, 0 không đổi, 1 bị từ chối." in page
    history = page.split('id="history"')[1]
    assert staff.username in history and "ds_web.xlsx" in history and "15/08/2021" in history
    assert actions(db) == [("import.stage", staff.username), ("import.commit", staff.username)]


def test_a_second_commit_of_the_same_preview_is_refused(client, auth, staff, db, tmp_path):
    url = staged_preview(auth, tmp_path)
    assert auth.post(f"{url}/commit").status_code == 302
    again = auth.post(f"{url}/commit")
    assert again.status_code == 409
    assert f"bởi {staff.username}; không nhập lại lần nữa" in page_text(again)
    assert "Ghi vào hệ thống</button>" not in page_text(again)
    assert (count(db, Person), count(db, ImportBatch)) == (wb.WEB_PEOPLE, 1)


def test_a_preview_made_stale_by_another_import_is_refused(client, auth, staff, db, tmp_path):
    url = staged_preview(auth, tmp_path)
    import_files(db, [wb.web_upload(tmp_path, "cung_nguoi.xlsx")], list_date=wb.LIST_DATE)
    response = auth.post(f"{url}/commit")
    assert response.status_code == 409
    assert "một lần nhập khác hoặc một chỉnh sửa đã thay đổi" in page_text(response)
    assert (count(db, Person), count(db, ImportBatch)) == (wb.WEB_PEOPLE, 1)


def test_a_broken_file_gets_the_importers_message_and_nothing_is_stored(app, client, auth,
                                                                         staff, db):
    response = upload(auth, ("ds.xlsx", bytes(range(256)) * 64))
    assert response.status_code == 422
    page = page_text(response)
    assert "Tệp tải lên bị từ chối; không có gì được lưu." in page
    problem = page.split('class="problems"')[1].split("</ul>")[0]
    assert "ds.xlsx" in problem and len(problem) > 40
    assert (count(db, ImportPreview), count(db, Person), stored(app)) == (0, 0, [])


def test_a_50_mb_upload_is_refused_with_the_limit_in_vietnamese(app, client, auth, staff, db):
    response = upload(auth, ("lon.xlsx", bytes(50 * 2**20)))
    assert response.status_code == 413
    assert "Tệp hoặc yêu cầu quá lớn (tối đa 20 MB)." in page_text(response)
    assert (count(db, ImportPreview), stored(app)) == (0, [])


def test_a_zip_bomb_is_refused_with_a_message(app_factory, db):
    app = app_factory(import_max_unpacked_size=8 * 2**20)
    from tests.admin.conftest import PASSWORD, AuthActions  # a client on this app
    client = app.test_client()
    app.extensions["callengine"].accounts.create_user("lan", PASSWORD, "staff")
    auth = AuthActions(client)
    auth.sign_in("lan")
    data = wb.zip_bomb(16 * 2**20)
    assert len(data) < 32 * 2**10
    response = upload(auth, ("bom.xlsx", data))
    assert response.status_code == 413
    assert "bom.xlsx: khi giải nén vượt giới hạn 8 MB" in page_text(response)
    assert (count(db, ImportPreview), stored(app)) == (0, [])


def test_a_file_that_is_not_a_spreadsheet_is_refused_by_its_type(client, auth, staff, db):
    response = upload(auth, ("ds.pdf", b"%PDF-1.4"))
    assert response.status_code == 422
    assert "ds.pdf: chỉ nhận tệp .xlsx, .xls hoặc .csv" in page_text(response)


def test_an_upload_without_files_asks_for_one(client, auth, staff):
    response = upload(auth)
    assert response.status_code == 400
    assert "Hãy chọn ít nhất một tệp." in page_text(response)


def test_a_hostile_filename_stays_inert(client, auth, staff, tmp_path):
    url = staged_preview(auth, tmp_path, name=HOSTILE)
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;.xlsx"
    preview = page_text(client.get(url))
    assert escaped in preview and "<script>alert" not in preview
    auth.post(f"{url}/commit")
    history = page_text(client.get("/imports"))
    assert escaped in history and "<script>alert" not in history


def test_the_error_workbook_downloads_with_the_reason_column(client, auth, staff, db,
                                                             tmp_path):
    url = staged_preview(auth, tmp_path)
    response = client.get(f"{url}/errors.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == \
        "attachment; filename=so-loi-2021-08-15.xlsx"
    book = load_workbook(io.BytesIO(response.data))
    cells = [str(c) for sheet in book for row in sheet.iter_rows(values_only=True)
             for c in row if c is not None]
    assert "Lý do" in cells and wb.WEB_BAD_PHONE in cells
    assert any("Số điện thoại" in c and c != "Số điện thoại" for c in cells)  # the reason
    assert ("import.errors_download", staff.username) in actions(db)


def test_discard_withdraws_the_preview_and_it_cannot_be_committed(client, auth, staff, db,
                                                                  app, tmp_path):
    url = staged_preview(auth, tmp_path)
    response = auth.post(f"{url}/discard", follow_redirects=True)
    assert "Đã bỏ bản xem trước; không có gì được nhập." in page_text(response)
    assert stored(app) == []
    refused = auth.post(f"{url}/commit")
    assert refused.status_code == 409 and "đã bị huỷ" in page_text(refused)
    assert count(db, Person) == 0
    assert ("import.discard", staff.username) in actions(db)


def test_an_unknown_preview_is_404(client, auth, staff):
    assert client.get("/imports/AAAAAAAAAAAAAAAAAAAAAA").status_code == 404
    assert auth.post("/imports/AAAAAAAAAAAAAAAAAAAAAA/commit").status_code == 404


def test_the_progress_of_the_reading_is_kept_for_the_waiting_page(client, auth, staff,
                                                                   signed_in, tmp_path):
    job = "a-progress-key-0123456789"
    response = upload(auth, ("ds_web.xlsx", wb.web_upload(tmp_path).read_bytes()), job=job)
    assert response.status_code == 302
    assert client.get(f"/imports/progress/{job}").json == {
        "state": "done", "label": "ds_web.xlsx › Danh sách", "done": 4, "total": 4}
    signed_in("staff")  # someone else does not see it
    assert client.get(f"/imports/progress/{job}").json == {"state": "waiting"}


def test_the_history_pages_by_keyset(app_factory, db, tmp_path, client, auth, staff):
    for index in range(3):
        import_files(db, [wb.web_upload(tmp_path, f"ds_{index}.xlsx")], list_date=wb.LIST_DATE)
    import admin.imports
    admin.imports.HISTORY_PAGE, old = 2, admin.imports.HISTORY_PAGE
    try:
        first = page_text(client.get("/imports"))
        assert "ds_2.xlsx" in first and "ds_1.xlsx" in first and "ds_0.xlsx" not in first
        older = re.search(r'href="(/imports\?after=\d+#history)"', first).group(1)
        second = page_text(client.get(older.replace("&amp;", "&")))
        assert "ds_0.xlsx" in second and "ds_2.xlsx" not in second
        assert "dòng lệnh" in second  # imported from the command line
    finally:
        admin.imports.HISTORY_PAGE = old
