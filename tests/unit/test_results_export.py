"""The CDC's daily export: CSV, and Excel with a sheet per district and a summary."""

import csv
import os
import stat
from datetime import date, datetime, timezone

import pytest
from openpyxl import load_workbook

from callengine.dialer.records import AttemptRecords, Ending
from callengine.dialer.retry import RetryPolicy
from callengine.dialer.window import Window
from callengine.questionnaire import load_questionnaire
from callengine.results import export
from callengine.settings import DEFAULT_QUESTIONNAIRE, Settings, parse_window
from callengine.store.models import Person
from callengine.tasks import schedule_call

DAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)
QUESTIONNAIRE = load_questionnaire(DEFAULT_QUESTIONNAIRE)


def populate(db):
    window = Window(parse_window("w", "08:00-20:00"), "Asia/Ho_Chi_Minh", 300)
    records = AttemptRecords(db, QUESTIONNAIRE, RetryPolicy.from_settings(Settings()), window, "s")
    people = [("0912000001", "Lê Văn A", "Thọ Xuân", "Xuân Lai", "completed"),
              ("0912000002", "=HYPERLINK(\"http://x\")", "Thọ Xuân", "Xuân Lai", "busy"),
              ("0912000003", "Trần Thị C", "Nga Sơn", "Nga Bạch", "invalid_number"),
              ("0912000004", "Phạm D", None, None, None)]
    for phone, name, district, commune, _ in people:
        schedule_call(db, phone, DAY, NOW, name)
        with db.session() as s:
            person = s.query(Person).filter_by(full_name=name).one()
            person.district, person.commune = district, commune
    for task in records.due_tasks(DAY, NOW, 10):
        outcome = {"+84" + p[0][1:]: p[4] for p in people}.get(task.phone)
        if outcome is None:
            continue
        records.claim(task, f"a{task.task_id}", "viettel", NOW)
        answers = {"fever": "1", "breath": "2"} if outcome == "completed" else None
        records.finish(f"a{task.task_id}", Ending(outcome, stage="done", answers=answers), NOW)


def test_csv_has_one_row_per_person_with_answers_and_no_formula(db, tmp_path):
    populate(db)
    path = tmp_path / "r.csv"
    assert export(db, QUESTIONNAIRE, DAY, "csv", path) == 4
    rows = {r["phone"]: r for r in csv.DictReader(path.open(encoding="utf-8-sig"))}
    # Phones as Excel text ("+84..." alone would open as the number 84912000001).
    first = rows['="+84912000001"']
    assert first["fever"] == "yes" and first["cough"] == "" and first["flagged"] == "yes"
    assert rows['="+84912000002"']["full_name"].startswith("'=")  # neutralised
    assert rows['="+84912000004"']["outcome"] == ""


def test_workbook_has_a_summary_and_one_sheet_per_district(db, tmp_path):
    populate(db)
    path = tmp_path / "r.xlsx"
    export(db, QUESTIONNAIRE, DAY, "xlsx", path)
    book = load_workbook(path)
    assert book.sheetnames == ["Tổng hợp", "Chưa rõ huyện", "Nga Sơn", "Thọ Xuân"]
    summary = [list(r) for r in book["Tổng hợp"].iter_rows(min_row=3, values_only=True)]
    assert ["Thọ Xuân", "Xuân Lai", 2, 1, 1, 1, 1] in summary
    assert ["Nga Sơn", "Nga Bạch", 1, 0, 0, 1, 1] in summary
    names = {r[1].value: r[1] for r in book["Thọ Xuân"].iter_rows(min_row=2)}
    formula_like = names['=HYPERLINK("http://x")']  # as typed, no apostrophe shown
    assert formula_like.data_type == "s" and formula_like.quotePrefix  # text, never run
    assert all(c.data_type != "f" for row in book["Thọ Xuân"].iter_rows() for c in row)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_is_readable_by_its_owner_only(db, tmp_path, fmt):
    populate(db)
    path = tmp_path / f"r.{fmt}"
    path.write_bytes(b"")
    path.chmod(0o644)  # an older export that others could read
    export(db, QUESTIONNAIRE, DAY, fmt, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
