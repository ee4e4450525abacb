"""Import, hostile and broken files: one clear Vietnamese line, exit 2, nothing written; and
what the reader and the exports do with characters Excel cannot store."""

from __future__ import annotations

import csv
import re
import subprocess
import sys

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from callengine.cli import main
from callengine.importer.people_export import export_people
from callengine.store.db import Database
from callengine.store.models import Person
from tests.fixtures.imports import hostile
from tests.unit.test_import_cli import DATE, people_count


@pytest.mark.parametrize("case", sorted(hostile.REFUSED))
def test_a_hostile_or_broken_file_gets_one_line_exit_2_and_nothing_written(
        case, any_url, tmp_path, capsys):
    make, message = hostile.REFUSED[case]
    path = make(tmp_path)
    assert main(["import", str(path), *DATE]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"callengine: {path.name}: ")
    assert message in err[0]
    assert "Traceback" not in err[0]
    assert people_count(any_url) == 0


def test_a_good_file_beside_a_hostile_one_is_not_imported_either(sqlite_url, tmp_path,
                                                                 capsys):
    good = hostile._list(tmp_path / "tot.xlsx")
    assert main(["import", str(good), str(hostile.huge_dimension(tmp_path)), *DATE]) == 2
    assert people_count(sqlite_url) == 0


_REPORT_PEAK = """
import atexit, re, sys
def peak():
    status = open("/proc/self/status").read()
    print("peak", re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1), "kB", file=sys.stderr)
atexit.register(peak)
from callengine.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_huge_sheet_is_refused_without_the_memory_it_asks_for(sqlite_url, tmp_path):
    """In a process of its own, which reports its own peak (VmHWM: the resident high-water
    mark of its memory since exec; ru_maxrss would carry the forking test process's)."""
    for path in (hostile.huge_dimension(tmp_path),
                 hostile.lying_dimension(tmp_path, row=1_000_000)):
        child = subprocess.run([sys.executable, "-c", _REPORT_PEAK, "import", str(path), *DATE],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert child.returncode == 2
        assert "vượt giới hạn 300.000 dòng" in child.stderr
        peak_kb = int(re.search(r"peak (\d+) kB", child.stderr).group(1))
        assert peak_kb / 1024 < 250  # MB: the interpreter and its libraries


def test_the_sheet_limits_are_settings(sqlite_url, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CALLENGINE_IMPORT_MAX_ROWS", "1")
    assert main(["import", str(hostile._list(tmp_path / "hai_dong.xlsx")), *DATE]) == 2
    assert "vượt giới hạn 1 dòng của một trang" in capsys.readouterr().err
    monkeypatch.setenv("CALLENGINE_IMPORT_MAX_ROWS", "2")
    assert main(["import", str(tmp_path / "hai_dong.xlsx"), *DATE]) == 0


def test_a_zip_bomb_within_the_ratio_is_refused_by_its_unpacked_size(sqlite_url, tmp_path,
                                                                     capsys, monkeypatch):
    monkeypatch.setenv("CALLENGINE_IMPORT_MAX_COMPRESSION_RATIO", "100000")
    monkeypatch.setenv("CALLENGINE_IMPORT_MAX_UNPACKED_SIZE", "1MB")
    assert main(["import", str(hostile.zip_bomb(tmp_path)), *DATE]) == 2
    assert "khi giải nén vượt giới hạn 1 MB" in capsys.readouterr().err


def test_control_characters_are_removed_from_every_text_cell(any_url, tmp_path,
                                                             capsys):
    assert main(["import", str(hostile.control_characters_csv(tmp_path)), *DATE]) == 0
    db = Database(any_url)
    try:
        with db.session() as s:
            people = {p.full_name: p.notes for p in s.query(Person)}
    finally:
        db.dispose()
    assert people == {"Nguyễn Văn Thử": "ghi chú", "Lê Thị Mẫu": None}


def test_rows_stored_with_control_characters_still_export(any_url, tmp_path,
                                                          capsys):
    main(["import", str(hostile._list(tmp_path / "ds.xlsx")), *DATE])
    db = Database(any_url)
    try:
        with db.session() as s:  # as an import before this fix left them (PostgreSQL: no NUL)
            s.execute(update(Person).values(full_name="Nguyễn\x01 Văn\x1f Thử",
                                            notes="=cmd\x0b|x"))
        assert export_people(db, "xlsx", tmp_path / "p.xlsx") == 1
        assert export_people(db, "csv", tmp_path / "p.csv") == 1
    finally:
        db.dispose()
    header, row = load_workbook(tmp_path / "p.xlsx").active.iter_rows(values_only=True)
    assert dict(zip(header, row))["full_name"] == "Nguyễn Văn Thử"
    (line,) = csv.DictReader((tmp_path / "p.csv").open(encoding="utf-8-sig"))
    assert (line["full_name"], line["notes"], line["phone"]) == (
        "Nguyễn Văn Thử", "'=cmd|x", '="+84912000101"')


def test_an_xlsx_named_csv_is_read_by_its_content(sqlite_url, tmp_path, capsys):
    path = tmp_path / "ds.csv"
    path.write_bytes(hostile._list(tmp_path / "ds.xlsx").read_bytes())
    assert main(["import", str(path), *DATE]) == 0
    assert people_count(sqlite_url) == 1
