"""Official place codes in the database (SQLite and PostgreSQL): the list import fills them,
`callengine places check` reports names that match nothing, `places backfill` fills rows
stored before the codes, and the map's figures count a commune written three ways once."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select, update

from callengine.cli import main
from callengine.clock import to_db
from callengine.importer.service import import_files
from callengine.places import backfill_place_codes, check_places, place_codes
from callengine.reports.map import COUNT, FIGURES, PERCENT, UnknownFigure, legend, map_data
from callengine.store.models import Person
from callengine.store.supervision import Flag
from tests.unit.casework_helpers import DAY, NOW, add_person, add_task

LIST_DAY = DAY - timedelta(days=2)
HEADER = ["Họ và tên", "Số điện thoại", "Phân loại", "Ngày tiếp xúc cuối", "Huyện", "Xã"]
HOANG_QUY, HOANG_QUY_NEW, HOANG_HOA = "15886", "15880", "399"
TZ = "Asia/Ho_Chi_Minh"


def write_list(path: Path, rows: list[list]) -> Path:
    book = Workbook()
    book.active.append(HEADER)
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


THREE_WAYS = [
    ["Lê Văn Một", "0912000101", "F1", "27/11/2026", "H. Hoằng Hóa", "X. Hoằng Quỳ"],
    ["Lê Văn Hai", "0912000102", "F0", "27/11/2026", "huyện Hoằng Hoá", "xã Hoằng Quỳ"],
    ["Lê Văn Ba", "0912000103", "F0", "27/11/2026", "Hoằng Hóa", "Hoằng Quỳ"],
    ["Lê Văn Bốn", "0912000104", "F0", "27/11/2026", "Huyện Hoằng Hóa", "Xã Không Có"],
    ["Lê Văn Năm", "0912000105", "F1", "27/11/2026", None, "Lam Sơn"],
]


def codes(db) -> dict[str, tuple]:
    with db.session() as s:
        return {p.full_name: (p.district_code, p.commune_code, p.new_commune_code)
                for p in s.scalars(select(Person))}


def test_the_list_import_stores_the_official_codes_beside_the_names(db, tmp_path):
    path = write_list(tmp_path / "ds.xlsx", THREE_WAYS)
    report = import_files(db, [path], list_date=LIST_DAY, now=NOW)
    assert report.created == 5
    stored = codes(db)
    for name in ("Lê Văn Một", "Lê Văn Hai", "Lê Văn Ba"):
        assert stored[name] == (HOANG_HOA, HOANG_QUY, HOANG_QUY_NEW)
    assert stored["Lê Văn Bốn"] == (HOANG_HOA, None, None)  # kept as written, no code
    assert stored["Lê Văn Năm"] == (None, None, None)  # four Lam Sơn in the province
    with db.session() as s:
        assert s.scalar(select(Person.commune).where(Person.full_name == "Lê Văn Bốn")) \
            == "Xã Không Có"
    again = import_files(db, [path], list_date=LIST_DAY, now=NOW)
    assert (again.created, again.updated) == (0, 0)  # the same list changes nothing


def test_a_later_list_that_fills_the_commune_fills_its_code(db, tmp_path):
    first = write_list(tmp_path / "a.xlsx", [
        ["Lê Văn Một", "0912000101", "F1", "27/11/2026", "Hoằng Hóa", None]])
    import_files(db, [first], list_date=LIST_DAY, now=NOW)
    assert codes(db)["Lê Văn Một"] == (HOANG_HOA, None, None)
    second = write_list(tmp_path / "b.xlsx", [
        ["Lê Văn Một", "0912000101", "F1", "28/11/2026", "Hoằng Hóa", "Hoằng Quỳ"]])
    assert import_files(db, [second], list_date=LIST_DAY, now=NOW).updated == 1
    assert codes(db)["Lê Văn Một"] == (HOANG_HOA, HOANG_QUY, HOANG_QUY_NEW)


def _legacy_rows(db) -> None:
    """People stored before migration 0016: names, no codes."""
    with db.session() as s:
        add_person(s, "+84912000201", "Trần Thị A", district="H. Hoằng Hóa",
                   commune="X. Hoằng Quỳ")
        add_person(s, "+84912000202", "Trần Thị B", district="Hoằng Hóa", commune="hoằng quỳ")
        add_person(s, "+84912000203", "Trần Thị C", district="Nga Sơn", commune="Nga Liên")
        add_person(s, "+84912000204", "Trần Thị D", district="Nga Sơn", commune="Xã Mặt Trăng")
        add_person(s, "+84912000205", "Trần Thị E", district="Huyện Sao Hỏa", commune="Lam Sơn")


def test_check_reports_unmatched_and_ambiguous_names_with_counts(db):
    _legacy_rows(db)
    report = check_places(db)
    assert (report.matched_people, report.matched_names) == (3, 3)
    assert report.to_backfill == 4  # no codes yet: the matched rows, and D's district
    problems = {(p.district, p.commune, p.problem): p for p in report.problems}
    assert problems[("Nga Sơn", "Xã Mặt Trăng", "unmatched")].people == 1
    ambiguous = problems[("Huyện Sao Hỏa", "Lam Sơn", "ambiguous")]
    assert len(ambiguous.candidates) == 4
    assert "Xã Lam Sơn (Huyện Ngọc Lặc)" in ambiguous.candidates
    assert "Thị trấn Lam Sơn (Huyện Thọ Xuân)" in ambiguous.candidates
    assert ("Huyện Sao Hỏa", None, "district") in problems
    assert report.problem_people == 2


def test_backfill_fills_the_codes_of_existing_rows_once(db):
    _legacy_rows(db)
    assert backfill_place_codes(db) == 4
    stored = codes(db)
    assert stored["Trần Thị A"] == stored["Trần Thị B"] == (HOANG_HOA, HOANG_QUY,
                                                            HOANG_QUY_NEW)
    assert stored["Trần Thị C"][0] == "401" and stored["Trần Thị C"][1]
    assert stored["Trần Thị D"] == ("401", None, None)
    assert backfill_place_codes(db) == 0
    assert check_places(db).to_backfill == 0


def test_the_commands_speak_vietnamese_and_exit_1_on_problems(db, database_url, monkeypatch,
                                                             capsys):
    monkeypatch.delenv("CALLENGINE_CONFIG", raising=False)
    monkeypatch.setenv("CALLENGINE_DATABASE_URL", database_url)
    _legacy_rows(db)
    assert main(["places", "check"]) == 1
    out = capsys.readouterr().out
    assert "Đã khớp danh mục: 3 người" in out
    assert "1 người · Nga Sơn / Xã Mặt Trăng · không có trong danh mục" in out
    assert "trùng tên, cần ghi rõ huyện: Phường Lam Sơn (Thành phố Thanh Hóa)" in out
    assert "4 người chưa có mã đơn vị hành chính" in out
    assert main(["places", "backfill"]) == 0
    assert "Đã điền mã đơn vị hành chính cho 4 người." in capsys.readouterr().out
    assert main(["places", "check", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["to_backfill"] == 0 and data["problem_people"] == 2
    with db.session() as s:
        s.execute(update(Person).where(Person.commune.in_(["Xã Mặt Trăng", "Lam Sơn"]))
                  .values(commune="Nga Liên", district="Nga Sơn"))
    assert main(["places", "check"]) == 1  # their codes are stale until backfilled
    assert main(["places", "backfill"]) == 0
    assert main(["places", "check"]) == 0


def test_place_codes_is_the_one_function_writers_call():
    assert place_codes("H. Hoằng Hóa", "X. Hoằng Quỳ") == {
        "district_code": HOANG_HOA, "commune_code": HOANG_QUY,
        "new_commune_code": HOANG_QUY_NEW}
    assert place_codes(None, "Xã Không Có") == {
        "district_code": None, "commune_code": None, "new_commune_code": None}


# --- the map's figures --------------------------------------------------------------------


def _map_people(db) -> None:
    with db.session() as s:
        for i, (district, commune) in enumerate((("H. Hoằng Hóa", "X. Hoằng Quỳ"),
                                                 ("Hoằng Hóa", "xã Hoằng Quỳ"),
                                                 ("huyện Hoằng Hoá", "Hoằng Quỳ"))):
            add_person(s, f"+8491200030{i}", f"Ca bệnh {i}", status="F0", category="F0",
                       district=district, commune=commune)
        add_person(s, "+84912000310", "Hoằng Quý F0", status="F0", category="F0",
                   district="Hoằng Hóa", commune="Hoằng Quý")  # another commune
        add_person(s, "+84912000311", "Không rõ", status="F0", category="F0",
                   district="Hoằng Hóa", commune="Xã Không Có")
        monitored = add_person(s, "+84912000320", "Đang theo dõi", district="Hoằng Hóa",
                               commune="Hoằng Quỳ")
        add_person(s, "+84912000321", "Hết theo dõi", status="ended", district="Hoằng Hóa",
                   commune="Hoằng Quỳ", period=(DAY - timedelta(days=20), DAY - timedelta(1)))
        task = add_task(s, monitored)
        s.add(Flag(person_id=monitored.id, task_id=task.id, kind="symptom", urgent=True,
                   day=task.day, created_at=to_db(NOW)))
        old_task = add_task(s, monitored, day=DAY - timedelta(days=1))
        s.add(Flag(person_id=monitored.id, task_id=old_task.id, kind="callback",
                   day=old_task.day, created_at=to_db(NOW - timedelta(days=1))))
    backfill_place_codes(db)


def test_f0_per_commune_counts_a_commune_written_three_ways_once(db):
    _map_people(db)
    data = map_data(db, "f0", "old", DAY, TZ)
    by_code = data.by_code()
    assert by_code[HOANG_QUY].value == 3 and by_code["15916"].value == 1  # Quỳ, Quý
    assert by_code[HOANG_QUY].name == "Xã Hoằng Quỳ"
    assert by_code[HOANG_QUY].district == "Huyện Hoằng Hóa"
    assert len(data.units) == 547 and sum(u.value for u in data.units) == 4
    assert data.unplaced == 1  # Xã Không Có
    assert data.classes[0].high == 0 and data.classes[-1].high == 3


def test_the_new_division_adds_up_the_merged_communes(db):
    _map_people(db)
    data = map_data(db, "f0", "new", DAY, TZ)
    assert len(data.units) == 166 and data.units[0].district is None
    merged = {u.code: u.value for u in data.units}
    assert merged[HOANG_QUY_NEW] + merged["15889"] == 4
    assert data.to_dict()["units"][0].keys() == {"code", "name", "district", "value"}


def test_monitoring_and_flagged_today_per_commune(db):
    _map_people(db)
    monitoring = map_data(db, "monitoring", "old", DAY, TZ).by_code()
    assert monitoring[HOANG_QUY].value == 1  # the ended one is not counted, nor F0
    flagged = map_data(db, "flagged", "old", DAY, TZ).by_code()
    assert flagged[HOANG_QUY].value == 1  # today's open flag; yesterday's is not today's
    assert map_data(db, "flagged", "old", DAY + timedelta(days=1), TZ).by_code()[
        HOANG_QUY].value == 0


def test_the_figure_registry_holds_the_maps_figures_and_refuses_others():
    assert list(FIGURES) == ["f0", "monitoring", "flagged", "coverage", "coverage_full"]
    assert FIGURES["coverage"].kind == PERCENT and FIGURES["f0"].kind == COUNT
    with pytest.raises(UnknownFigure):
        map_data(None, "hospitals", "old", DAY, TZ)


@pytest.mark.parametrize("values", [[0, 0, 1, 1, 2, 3, 5, 8, 13, 40], [0, 1, 2, 4], [0, 7],
                                    list(range(30)), [0, 0]])
def test_legend_classes_are_never_empty_and_hold_every_value(values):
    classes = legend(values, COUNT)
    assert classes[0].low == classes[0].high == 0 and len(classes) <= 6
    assert all(any(c.holds(v) for v in values) for c in classes[1:])
    assert all(sum(c.holds(v) for c in classes) == 1 for v in values)
    assert [c.index for c in classes] == list(range(len(classes)))


def test_percentages_have_fixed_fifths():
    classes = legend([12.5, 99.0], PERCENT)
    assert [(c.low, c.high) for c in classes] == [(0, 20), (20, 40), (40, 60), (60, 80),
                                                  (80, 100)]
