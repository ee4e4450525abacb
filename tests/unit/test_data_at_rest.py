"""Personal data at rest and in errors: owner-only files, and database errors that never
carry a row's values (names, phones, IDs) into a log or the terminal."""

from __future__ import annotations

import logging
import os
import stat
from datetime import datetime, timezone

import pytest
from sqlalchemy.exc import IntegrityError

from callengine.private_files import private_dir, share_with_asterisk
from callengine.store.db import Database
from callengine.store.models import Person

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)
NATIONAL_ID, PHONE, NAME = "038199004321", "0912345678", "Lê Thị Hoa"


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path):
    old = os.umask(0o022)  # a usual umask would give 0644 / 0755
    try:
        database = Database(f"sqlite:///{tmp_path / 'data' / 'callengine.db'}")
        database.dispose()
    finally:
        os.umask(old)
    assert mode(tmp_path / "data") == 0o700
    assert mode(tmp_path / "data" / "callengine.db") == 0o600


def person(**values) -> Person:
    return Person(full_name=NAME, name_key="le thi hoa", phone=PHONE, national_id=NATIONAL_ID,
                  category="F1", created_at=NOW.replace(tzinfo=None),
                  updated_at=NOW.replace(tzinfo=None), **values)


def test_an_integrity_error_carries_no_names_phones_or_ids(db, caplog):
    with db.session() as s:
        s.add(person())
    with caplog.at_level(logging.ERROR):
        with pytest.raises(IntegrityError) as error:
            with db.session() as s:
                s.add(person())
        logging.getLogger("callengine").exception("import failed")
    shown = str(error.value) + caplog.text
    assert "national_id" in shown or "UNIQUE" in shown.upper()  # still says what failed
    for value in (NATIONAL_ID, PHONE, NAME):
        assert value not in shown


def test_greetings_are_owner_only_unless_asterisk_has_its_own_group(tmp_path):
    import grp

    folder = private_dir(tmp_path / "greetings" / "a")
    assert (mode(tmp_path / "greetings"), mode(folder)) == (0o700, 0o700)
    greeting = folder / "g.wav"
    greeting.write_bytes(b"RIFF")
    assert mode(share_with_asterisk(greeting)) == 0o600
    group = grp.getgrgid(os.getgid()).gr_name  # stands for Asterisk's group
    assert mode(share_with_asterisk(greeting, group)) == 0o640
    assert mode(share_with_asterisk(folder, group)) == 0o750
