"""Samples and lab results: registering, importing both workbooks, and what a positive result
does to the person, their calls and the flags; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from callengine.casework.errors import NotAllowedNow
from callengine.health.imports import ImportRequest, import_results, import_samples
from callengine.health.results import NewResult, enter_result
from callengine.health.samples import NewSample, PersonRef, get_sample, register_sample
from callengine.importer.error_book import write_error_workbook
from callengine.importer.service import UnreadableFiles
from callengine.phones import normalize_phone
from callengine.planning import plan_day
from callengine.settings import Settings
from callengine.store.models import CallTask, Person
from callengine.store.samples import PoolMember, Sample
from callengine.store.supervision import Flag
from tests.unit.casework_helpers import DAY, NOW, WINDOW, add_person, add_task

SETTINGS = Settings()
TAKEN = NOW - timedelta(hours=2)
SAMPLE_HEADER = ["STT", "Mã mẫu", "Họ và tên", "Số điện thoại", "Loại mẫu",
                 "Thời gian lấy mẫu", "Nơi lấy mẫu", "Tổ lấy mẫu"]
RESULT_HEADER = ["Mã xét nghiệm", "Kết quả", "Giá trị Ct", "Thời gian trả kết quả"]


def workbook(path, header, *rows, title="Trang1"):
    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(["DANH SÁCH LẤY MẪU XÉT NGHIỆM"])
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def request(*paths, dry_run=False, now=NOW):
    return ImportRequest(list(paths), now, "lab.thanhhoa", dry_run)


def count(db, model, *where):
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def person_with_call(db, phone="+84912345678", name="Nguyễn Văn An"):
    """Someone under monitoring with today's planned call still pending."""
    with db.session() as s:
        person = add_person(s, phone, name)
        add_task(s, person, status="pending", last_outcome=None, attempts=0)
        return person.id


# --- registering ----------------------------------------------------------------------------


def test_a_sample_by_phone_and_name_finds_the_monitored_person_as_an_import_would(db):
    person_id = person_with_call(db)
    view = register_sample(db, NewSample(
        "th-0001", "rt_pcr", TAKEN,
        PersonRef(phone=normalize_phone("0912 345 678"), full_name="NGUYEN VAN AN"),
        site="Trạm y tế Nga Liên"), actor="staff1", now=NOW)
    assert (view.person_id, view.code, view.result) == (person_id, "TH-0001", None)
    assert view.phone_masked != "+84912345678" and view.phone_masked.endswith("678")


def test_an_unknown_phone_creates_an_unmonitored_person_who_is_not_called(db):
    view = register_sample(db, NewSample(
        "TH-0002", "rapid_antigen", TAKEN,
        PersonRef(phone=normalize_phone("0987654321"), full_name="Lê Thị Hoa")),
        actor="staff1", now=NOW)
    with db.session() as s:
        person = s.get(Person, view.person_id)
        assert (person.full_name, person.status) == ("Lê Thị Hoa", "unmonitored")
    plan_day(db, DAY, NOW, WINDOW)
    assert count(db, CallTask, CallTask.person_id == view.person_id) == 0


def test_a_code_is_registered_once(db):
    person_id = person_with_call(db)
    new = NewSample("TH-0003", "rt_pcr", TAKEN, PersonRef(person_id=person_id))
    register_sample(db, new, actor="staff1", now=NOW)
    with pytest.raises(NotAllowedNow, match="TH-0003' đã được đăng ký"):
        register_sample(db, new, actor="staff1", now=NOW)


# --- importing samples ----------------------------------------------------------------------


def test_a_sampling_workbook_imports_people_pools_and_reports_bad_rows(db, tmp_path):
    person_id = person_with_call(db)
    path = workbook(tmp_path / "lay-mau.xlsx", SAMPLE_HEADER,
                    [1, "TH-1001", "Nguyễn Văn An", "0912345678", "RT-PCR", "30/11/2026 08:15",
                     "Nhà văn hóa thôn 3", "Tổ 1"],
                    [2, "G-01", "Trần Văn Bình", "0903111222", "Gộp", "30/11/2026 08:20"],
                    [3, "G-01", "Phạm Thị Cúc", "0903111333", "gộp mẫu", "30/11/2026 08:21"],
                    [4, "TH-1002", "Hoàng Văn Dũng", "12345", "Test nhanh", "30/11/2026"],
                    [5, "TH-1003", "Đỗ Văn Em", "0904555666", "PCR", "ngày mai"],
                    [6, "TH-1001", "Lê Văn Phúc", "0905777888", "RT-PCR", "30/11/2026"])
    report = import_samples(db, request(path), SETTINGS)
    assert report.counts == {"created": 2, "members_added": 1, "unchanged": 0}
    assert (report.rows, report.rejected, report.exit_code) == (6, 3, 1)
    reasons = {e.row: e.reason for e in report.errors}
    assert reasons[6].startswith("Cột 'Số điện thoại': ")
    assert reasons[7].startswith("Cột 'Thời gian lấy mẫu': không đọc được ngày 'ngày mai'")
    assert reasons[8] == ("Cột 'Mã mẫu': mã mẫu 'TH-1001' lặp lại (đã có ở dòng 3); chỉ mẫu "
                          "gộp mới dùng chung mã")
    with db.session() as s:
        single = s.scalars(select(Sample).where(Sample.code == "TH-1001")).one()
        assert (single.person_id, single.site, single.team) == (person_id, "Nhà văn hóa thôn 3",
                                                                "Tổ 1")
        assert single.taken_at == datetime(2026, 11, 30, 1, 15)  # 08:15 local, stored UTC
        pool = s.scalars(select(Sample).where(Sample.code == "G-01")).one()
        assert pool.person_id is None
        assert sorted(m.person.full_name for m in pool.members) == ["Phạm Thị Cúc",
                                                                    "Trần Văn Bình"]
    again = import_samples(db, request(path), SETTINGS)  # the same workbook twice
    assert again.counts == {"created": 0, "members_added": 0, "unchanged": 3}
    assert count(db, Sample) == 2 and count(db, PoolMember) == 2


def test_the_error_workbook_of_a_samples_import_holds_the_rows_and_reasons(db, tmp_path):
    path = workbook(tmp_path / "lay-mau.xlsx", SAMPLE_HEADER,
                    [1, "TH-1", "An", "0912345678", "RT-PCR", "30/11/2026"],
                    [2, "", "Bình", "0912345679", "RT-PCR", "30/11/2026"])
    report = import_samples(db, request(path), SETTINGS)
    write_error_workbook(report, tmp_path / "loi.xlsx")
    rows = list(load_workbook(tmp_path / "loi.xlsx")["Trang1"].iter_rows(values_only=True))
    assert rows[0][-2:] == ("Dòng gốc", "Lý do")
    assert rows[1][-2:] == (4, "Cột 'Mã mẫu' để trống: thiếu mã mẫu")


def test_a_workbook_without_the_sample_columns_imports_nothing(db, tmp_path):
    path = workbook(tmp_path / "sai.xlsx", ["Họ và tên", "Số điện thoại"], ["An", "0912345678"])
    with pytest.raises(UnreadableFiles, match="không tìm thấy dòng tiêu đề có cột 'Mã mẫu'"):
        import_samples(db, request(path), SETTINGS)
    assert count(db, Person) == 0


# --- importing results ----------------------------------------------------------------------


def _sample(db, code, person_id=None, kind="rt_pcr", members=()):
    return register_sample(db, NewSample(
        code, kind, TAKEN, PersonRef(person_id=person_id) if person_id else None,
        tuple(PersonRef(person_id=m) for m in members)), actor="staff1", now=NOW).id


def test_a_positive_result_makes_the_person_f0_cancels_calls_and_flags_at_once(db, tmp_path):
    person_id = person_with_call(db)
    other_id = person_with_call(db, "+84912000111", "Lê Văn Bảo")
    _sample(db, "TH-2001", person_id)
    _sample(db, "TH-2002", other_id)
    path = workbook(tmp_path / "ket-qua.xlsx", RESULT_HEADER,
                    ["th-2001", "Dương tính", "22,5", "30/11/2026 09:00"],
                    ["TH-2002", "AT", None, None])
    report = import_results(db, request(path), SETTINGS)
    assert report.counts == {"updated": 2, "unchanged": 0, "positive": 1, "retests": 0}
    with db.session() as s:
        person = s.get(Person, person_id)
        assert (person.category, person.status) == ("F0", "F0")
        statuses = dict(s.execute(select(CallTask.person_id, CallTask.status)).all())
        assert statuses == {person_id: "cancelled", other_id: "pending"}
        flag = s.scalars(select(Flag).where(Flag.person_id == person_id)).one()
        sample = s.scalars(select(Sample).where(Sample.code == "TH-2001")).one()
        assert (flag.kind, flag.urgent, flag.reference, flag.task_id, flag.day) == (
            "positive", True, f"sample:{sample.id}", None, DAY)
        assert "Ct 22.5" in flag.detail
        assert s.scalar(select(func.count()).select_from(Flag)
                        .where(Flag.person_id == other_id)) == 0
        sample = s.scalars(select(Sample).where(Sample.code == "TH-2001")).one()
        assert (sample.result, sample.ct_value) == ("positive", 22.5)
        assert sample.result_at == datetime(2026, 11, 30, 2, 0)
    tomorrow = DAY + timedelta(days=1)
    plan_day(db, tomorrow, NOW + timedelta(days=1), WINDOW)
    assert count(db, CallTask, CallTask.day == tomorrow, CallTask.person_id == person_id) == 0
    assert count(db, CallTask, CallTask.day == tomorrow, CallTask.person_id == other_id) == 1
    again = import_results(db, request(path), SETTINGS)
    assert again.counts == {"updated": 0, "unchanged": 2, "positive": 0, "retests": 0}
    assert count(db, Flag) == 1


def test_a_pooled_positive_asks_each_member_to_retest_without_making_anyone_f0(db, tmp_path):
    first, second = person_with_call(db), person_with_call(db, "+84912000111", "Lê Văn Bảo")
    pool_id = _sample(db, "G-7", kind="pooled", members=(first, second))
    path = workbook(tmp_path / "ket-qua.xlsx", RESULT_HEADER, ["G-7", "+", 30, None])
    report = import_results(db, request(path), SETTINGS)
    assert report.counts["retests"] == 2 and report.counts["positive"] == 0
    with db.session() as s:
        assert {p.status for p in s.scalars(select(Person))} == {"monitoring"}
        flags = s.scalars(select(Flag).order_by(Flag.person_id)).all()
        assert [(f.person_id, f.kind, f.urgent) for f in flags] == [
            (first, "retest", False), (second, "retest", False)]
        assert count(db, CallTask, CallTask.status == "pending") == 2
    view = get_sample(db, pool_id)
    assert all(m.retest_requested_at is not None for m in view.members)
    _sample(db, "TH-77", first)  # the member's own re-test is negative: shown, clears nothing
    enter_result(db, get_sample_id(db, "TH-77"), NewResult("negative"), actor="lab",
                 now=NOW + timedelta(hours=1), settings=SETTINGS)
    member = next(m for m in get_sample(db, pool_id).members if m.person_id == first)
    assert member.later_results == (("TH-77", "Âm tính"),)
    assert count(db, Flag, Flag.status == "open") == 2


def get_sample_id(db, code):
    with db.session() as s:
        return s.scalar(select(Sample.id).where(Sample.code == code))


def test_unknown_codes_conflicting_results_and_bad_values_are_row_errors(db, tmp_path):
    person_id = person_with_call(db)
    sample_id = _sample(db, "TH-3001", person_id)
    enter_result(db, sample_id, NewResult("negative"), actor="lab", now=NOW, settings=SETTINGS)
    path = workbook(tmp_path / "ket-qua.xlsx", RESULT_HEADER,
                    ["TH-9999", "Âm tính", None, None],
                    ["TH-3001", "Dương tính", None, None],
                    ["TH-3001", "có thể", None, None],
                    ["TH-3001", "Âm tính", 77, "31/02/2026"])
    report = import_results(db, request(path), SETTINGS)
    reasons = [e.reason for e in report.errors]
    assert reasons[0] == ("Cột 'Mã xét nghiệm': không có mẫu nào mã 'TH-9999' (kiểm tra lại mã,"
                          " hoặc nhập danh sách mẫu trước)")
    assert reasons[1].startswith("Cột 'Kết quả': mẫu 'TH-3001' đã có kết quả Âm tính ngày "
                                 "30/11/2026, khác với Dương tính; không ghi đè")
    assert reasons[2].startswith("Cột 'Kết quả': không nhận ra 'có thể'")
    assert reasons[3] == "Cột 'Giá trị Ct': giá trị Ct '77' phải từ 0 đến 50"
    assert reasons[4].startswith("Cột 'Thời gian trả kết quả': ngày '31/02/2026' không có thật")
    assert report.rejected == 4 and report.exit_code == 1
    with db.session() as s:
        assert s.get(Person, person_id).status == "monitoring"


def test_a_failing_result_import_writes_nothing(db, tmp_path, monkeypatch):
    person_id = person_with_call(db)
    _sample(db, "TH-4001", person_id)
    _sample(db, "TH-4002", person_id)
    path = workbook(tmp_path / "ket-qua.xlsx", RESULT_HEADER,
                    ["TH-4001", "Dương tính", None, None], ["TH-4002", "xx", None, None])
    import callengine.health.imports as imports

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")
    monkeypatch.setattr(imports, "_finish_import_rows", broken)
    with pytest.raises(RuntimeError):
        import_results(db, request(path), SETTINGS)
    with db.session() as s:
        assert s.get(Person, person_id).status == "monitoring"
        assert s.scalar(select(func.count()).select_from(Flag)) == 0
        assert {t.status for t in s.scalars(select(CallTask))} == {"pending"}


def test_an_entered_positive_has_the_same_effects_as_an_imported_one(db):
    person_id = person_with_call(db)
    sample_id = _sample(db, "TH-5001", person_id)
    outcome = enter_result(db, sample_id, NewResult("positive", 18.0), actor="staff1",
                           now=NOW, settings=SETTINGS)
    assert (outcome.became_f0, outcome.calls_cancelled) == (True, 1)
    with db.session() as s:
        assert s.get(Person, person_id).status == "F0"
        assert s.scalars(select(Flag.reference)).all() == [f"sample:{sample_id}"]
    with pytest.raises(NotAllowedNow, match="đã có kết quả Dương tính"):
        enter_result(db, sample_id, NewResult("negative"), actor="staff1", now=NOW,
                     settings=SETTINGS)


# --- the commands ---------------------------------------------------------------------------


def _cli(database_url, *args):
    return subprocess.run([sys.executable, "-m", "callengine.cli", *args],
                          capture_output=True, text=True, timeout=120,
                          env={"CALLENGINE_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin",
                               "HOME": "/tmp"})


def test_the_commands_import_both_workbooks_with_exit_codes_0_1_2(database_url, db, tmp_path):
    samples = workbook(tmp_path / "mau.xlsx", SAMPLE_HEADER,
                       [1, "TH-6001", "Nguyễn Văn An", "0912345678", "RT-PCR",
                        datetime.now().strftime("%d/%m/%Y")])
    done = _cli(database_url, "samples", "import", str(samples), "--by", "to1")
    assert done.returncode == 0, done.stderr
    assert "Mẫu mới:" in done.stdout and "1" in done.stdout
    results = workbook(tmp_path / "kq.xlsx", RESULT_HEADER, ["TH-6001", "DT", None, None],
                       ["TH-0000", "AT", None, None])
    done = _cli(database_url, "lab-results", "import", str(results), "--json")
    assert done.returncode == 1, done.stderr
    answer = json.loads(done.stdout)
    assert (answer["updated"], answer["positive"], answer["rejected"]) == (1, 1, 1)
    (tmp_path / "rong.xlsx").write_bytes(b"")
    done = _cli(database_url, "lab-results", "import", str(tmp_path / "rong.xlsx"))
    assert done.returncode == 2 and "tệp rỗng" in done.stderr
