"""Import rules end to end on SQLite and the real PostgreSQL server: identity, monitoring
periods, promotion, re-exposure, idempotent re-import and the all-or-nothing transaction."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from callengine.importer import service
from callengine.importer.service import UnreadableFiles, import_files
from callengine.store.models import ImportBatch, MonitoringPeriod, Person
from tests.fixtures.imports import workbooks as wb

NOW = datetime(2021, 8, 15, 1, 0, tzinfo=timezone.utc)
HEADER = ["Họ và tên", "Số điện thoại", "CCCD", "Phân loại", "Ngày tiếp xúc cuối", "Thôn",
          "Ghi chú"]


def write_list(path: Path, rows: list[list], header=HEADER, sheet="Danh sách") -> Path:
    book = Workbook()
    book.active.title = sheet
    book.active.append(header)
    for cells in rows:
        book.active.append(cells)
    book.save(path)
    return path


def person(name="Nguyễn Văn Thử", phone="0912000101", national_id=None, category="F1",
           day="12/08/2021", village=None, note=None):
    return [name, phone, national_id, category, day, village, note]


def run(db, *paths, list_date=wb.LIST_DATE, **kwargs):
    return import_files(db, list(paths), list_date=list_date, now=NOW, **kwargs)


def people(db) -> list[Person]:
    with db.session() as s:
        return list(s.scalars(select(Person).order_by(Person.id)))


def periods(db) -> list[tuple]:
    with db.session() as s:
        return [(p.person_id, p.category, p.start_date, p.end_date) for p in
                s.scalars(select(MonitoringPeriod).order_by(MonitoringPeriod.id))]


def count(db, model) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


# --- people and periods ---------------------------------------------------------------------


def test_an_imported_list_creates_people_monitored_from_their_dates(db, tmp_path):
    report = run(db, wb.title_block(tmp_path))
    assert (report.rows, report.created, report.updated, report.rejected, report.skipped) == (
        12, 4, 0, 0, 8)
    first = people(db)[0]
    assert (first.full_name, first.phone, first.category, first.status) == (
        "Nguyễn Văn Thử", "+84912000101", "returnee", "monitoring")
    assert (first.monitoring_start, first.monitoring_end) == (date(2021, 8, 10),
                                                              date(2021, 8, 24))
    assert (first.village, first.commune, first.birth_year, first.sex, first.carrier) == (
        "Thôn 1", "Xã Thử", 1985, "Nam", "vinaphone")
    assert periods(db)[0] == (first.id, "returnee", date(2021, 8, 10), date(2021, 8, 24))


def test_the_same_person_in_two_district_sheets_is_one_person(db, tmp_path):
    report = run(db, wb.districts(tmp_path))
    assert report.created == 4
    names = [p.full_name for p in people(db)]
    assert names.count("Trần Thị Mẫu") == 1 and "TRAN THI MAU" not in names


def test_a_person_is_never_duplicated_across_files_and_days(db, tmp_path):
    run(db, write_list(tmp_path / "a.xlsx", [person(day="10/08/2021")]))
    later = write_list(tmp_path / "b.xlsx", [person(name="NGUYEN VAN THU", day="14/08/2021")])
    report = run(db, later, list_date=date(2021, 8, 16))
    assert (report.created, report.updated) == (0, 1)
    [stored] = people(db)
    assert stored.full_name == "Nguyễn Văn Thử"  # the first spelling stays
    assert stored.monitoring_end == date(2021, 8, 28)


def test_an_identity_number_finds_a_person_whose_phone_changed(db, tmp_path):
    run(db, write_list(tmp_path / "a.xlsx", [person(national_id="038090000101")]))
    moved = person(name="Nguyễn V. Thử", phone="0388000101", national_id="038090000101")
    report = run(db, write_list(tmp_path / "b.xlsx", [moved]))
    assert (report.created, report.updated) == (0, 1)
    [stored] = people(db)
    assert (stored.phone, stored.alt_phones) == ("+84912000101", "+84388000101")


def test_people_sharing_a_household_phone_stay_separate_people(db, tmp_path):
    report = run(db, write_list(tmp_path / "a.xlsx", [
        person(name="Nguyễn Văn Thử"), person(name="Nguyễn Thị Mẫu")]))
    assert report.created == 2
    assert [p.phone for p in people(db)] == ["+84912000101", "+84912000101"]


def test_a_second_appearance_fills_empty_fields_and_never_erases(db, tmp_path):
    run(db, write_list(tmp_path / "a.xlsx", [person(village="Thôn 1", note="Đã lấy mẫu")]))
    run(db, write_list(tmp_path / "b.xlsx", [
        person(phone="0912000101 / 0987000101", national_id="038090000101", village="Thôn 9",
               note="Ho nhẹ")]))
    [stored] = people(db)
    assert (stored.village, stored.national_id, stored.alt_phones) == (
        "Thôn 1", "038090000101", "+84987000101")
    assert stored.notes == "Đã lấy mẫu\nHo nhẹ"


# --- classes and monitoring periods ---------------------------------------------------------


def test_an_f2_named_later_as_f1_is_promoted_and_monitored_longer(db, tmp_path):
    run(db, write_list(tmp_path / "f2.xlsx", [person(category="F2", day="12/08/2021")]))
    assert people(db)[0].monitoring_end == date(2021, 8, 19)
    report = run(db, write_list(tmp_path / "f1.xlsx", [person(category="F1",
                                                              day="12/08/2021")]),
                 list_date=date(2021, 8, 16))
    assert report.updated == 1
    [stored] = people(db)
    assert (stored.category, stored.monitoring_end) == ("F1", date(2021, 8, 26))
    assert [(c, s, e) for _, c, s, e in periods(db)] == [
        ("F2", date(2021, 8, 12), date(2021, 8, 19)), ("F1", date(2021, 8, 12),
                                                      date(2021, 8, 26))]


def test_a_re_exposure_restarts_the_count(db, tmp_path):
    run(db, write_list(tmp_path / "a.xlsx", [person(category="F1", day="01/08/2021")]))
    run(db, write_list(tmp_path / "b.xlsx", [person(category="F1", day="14/08/2021")]))
    [stored] = people(db)
    assert (stored.monitoring_start, stored.monitoring_end) == (date(2021, 8, 1),
                                                                date(2021, 8, 28))
    assert len(periods(db)) == 2


def test_monitoring_never_shortens_and_the_most_severe_class_stays(db, tmp_path):
    run(db, write_list(tmp_path / "a.xlsx", [person(category="F1", day="12/08/2021")]))
    run(db, write_list(tmp_path / "b.xlsx", [person(category="F2", day="13/08/2021")]),
        list_date=date(2021, 8, 16))
    [stored] = people(db)
    assert (stored.category, stored.monitoring_end) == ("F1", date(2021, 8, 26))


def test_a_tie_in_severity_takes_the_newer_lists_class(db, tmp_path):
    older = write_list(tmp_path / "a.xlsx", [person(category="VVD", day="10/08/2021")])
    run(db, older, list_date=date(2021, 8, 12))
    run(db, write_list(tmp_path / "b.xlsx", [person(category="F2", day="11/08/2021")]),
        list_date=date(2021, 8, 14))
    assert people(db)[0].category == "F2"
    run(db, older, list_date=date(2021, 8, 12))  # the older list again changes nothing
    assert people(db)[0].category == "F2"


def test_an_f0_is_stored_but_not_monitored(db, tmp_path):
    run(db, write_list(tmp_path / "a.xlsx", [person(category="F1", day="10/08/2021"),
                                             person(name="Lê Thị Mẫu", phone="0912000102",
                                                    category="F0", day="12/08/2021")]))
    run(db, write_list(tmp_path / "b.xlsx", [person(category="Dương tính", day="14/08/2021")]))
    assert [(p.full_name, p.category, p.status) for p in people(db)] == [
        ("Nguyễn Văn Thử", "F0", "F0"), ("Lê Thị Mẫu", "F0", "F0")]


def test_a_person_whose_monitoring_ended_is_monitored_again_after_a_new_exposure(db, tmp_path):
    run(db, write_list(tmp_path / "a.xlsx", [person(category="F2", day="01/08/2021")]))
    with db.session() as s:
        s.get(Person, people(db)[0].id).status = "ended"  # what the daily plan does
    run(db, write_list(tmp_path / "b.xlsx", [person(category="F2", day="14/08/2021")]))
    assert people(db)[0].status == "monitoring"


def test_monitoring_periods_can_be_set_per_class(db, tmp_path):
    run(db, write_list(tmp_path / "a.xlsx", [person(category="F1")]), period_days={"F1": 21})
    assert people(db)[0].monitoring_end == date(2021, 9, 2)


# --- idempotence, dry run, transaction ------------------------------------------------------


def test_re_importing_the_same_files_changes_nothing(db, tmp_path):
    files = [wb.title_block(tmp_path), wb.districts(tmp_path), wb.phone_formats(tmp_path)]
    first = run(db, *files)
    before = ([(p.id, p.full_name, p.phone, p.alt_phones, p.notes, p.category, p.status,
                p.monitoring_end, p.updated_at) for p in people(db)], periods(db))
    again = run(db, *files)
    assert (again.created, again.updated, again.unchanged) == (0, 0, first.created)
    assert again.rejected == first.rejected
    after = ([(p.id, p.full_name, p.phone, p.alt_phones, p.notes, p.category, p.status,
               p.monitoring_end, p.updated_at) for p in people(db)], periods(db))
    assert after == before


def test_a_dry_run_counts_but_writes_nothing(db, tmp_path):
    report = run(db, wb.title_block(tmp_path), dry_run=True)
    assert (report.created, report.dry_run) == (4, True)
    assert count(db, Person) == count(db, ImportBatch) == 0


def test_a_failure_part_way_through_the_write_writes_nothing(db, tmp_path, monkeypatch):
    run(db, write_list(tmp_path / "old.xlsx", [person(name="Người Cũ", phone="0912000999")]))
    original = service._write_periods

    def write_then_fail(session, *args, **kwargs):
        original(session, *args, **kwargs)  # people and periods were sent to the database
        raise RuntimeError("mất kết nối giữa chừng")

    monkeypatch.setattr(service, "_write_periods", write_then_fail)
    with pytest.raises(RuntimeError):
        run(db, wb.title_block(tmp_path), wb.districts(tmp_path))
    assert [p.full_name for p in people(db)] == ["Người Cũ"]
    assert (len(periods(db)), count(db, ImportBatch)) == (1, 1)


def test_an_unreadable_file_among_good_ones_imports_nothing(db, tmp_path):
    with pytest.raises(UnreadableFiles):
        run(db, wb.title_block(tmp_path), wb.broken_files(tmp_path)["truncated"])
    assert count(db, Person) == 0


def test_each_imported_file_leaves_an_audit_row(db, tmp_path):
    import hashlib

    path = wb.districts(tmp_path)
    run(db, path, wb.title_block(tmp_path))
    with db.session() as s:
        batches = list(s.scalars(select(ImportBatch).order_by(ImportBatch.id)))
    assert [(b.file_name, b.sheets, b.rows, b.created, b.skipped) for b in batches] == [
        ("ds_cac_huyen.xlsx", 3, 5, 4, 0), ("ds_tieu_de.xlsx", 1, 12, 4, 8)]
    assert batches[0].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    with db.session() as s:
        sources = s.scalars(select(MonitoringPeriod.source).order_by(MonitoringPeriod.id)).all()
    assert sources[0] == "ds_cac_huyen.xlsx › Huyện Nga Sơn › dòng 3"
