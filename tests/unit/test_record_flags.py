"""Flags raised by health records (a check-in, a sample), with no call behind them."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from sqlalchemy import inspect, select, text

from callengine.casework.errors import NotAllowedNow
from callengine.casework.flag_actions import act
from callengine.casework.flag_detail import flag_detail
from callengine.casework.flag_queue import flag_queue
from callengine.casework.person_actions import call_now
from callengine.flags import raise_record_flag
from callengine.store.db import make_engine
from callengine.store.models import CallTask
from callengine.store.supervision import FLAG_POSITIVE, FLAG_RETEST, Flag
from tests.migrations import migrate
from tests.unit.casework_helpers import (
    DAY,
    NOW,
    QUESTIONNAIRE,
    WINDOW,
    add_flag,
    add_person,
)


def _positive(s, person, reference="sample:7", urgent=True):
    return raise_record_flag(s, person_id=person.id, kind=FLAG_POSITIVE, urgent=urgent,
                             detail=None, reference=reference, day=DAY, now=NOW)


def test_a_record_flag_joins_the_queue_urgent_first_and_its_page_has_no_call(db):
    with db.session() as s:
        calm = add_person(s, "+84912000001", "Lê Thị Bình")
        add_flag(s, calm)  # a call's flag, not urgent
        case = add_person(s, "+84912000002", "Trần Văn Cường", status="F0", category="F0")
        flag_id = _positive(s, case).id
    rows = flag_queue(db, now=NOW).items
    assert [r.kind for r in rows] == ["positive", "symptom"]
    assert rows[0].phone_masked != "+84912000002"
    detail = flag_detail(db, flag_id, QUESTIONNAIRE)
    assert (detail.attempt, detail.day, detail.reference) == (None, DAY, "sample:7")
    assert detail.urgent and detail.person.name == "Trần Văn Cường"


def test_raising_a_record_flag_twice_keeps_one_flag_and_the_strongest_urgency(db):
    with db.session() as s:
        person = add_person(s)
        first = raise_record_flag(s, person_id=person.id, kind=FLAG_RETEST, urgent=False,
                                  detail="mẫu gộp P1", reference="sample:9", day=DAY, now=NOW)
        again = raise_record_flag(s, person_id=person.id, kind=FLAG_RETEST, urgent=True,
                                  detail="mẫu gộp P1", reference="sample:9", day=DAY, now=NOW)
        assert first.id == again.id
    with db.session() as s:
        flags = s.scalars(select(Flag)).all()
        assert len(flags) == 1 and flags[0].urgent and flags[0].task_id is None


def test_no_automatic_call_for_an_f0_from_a_flag_or_the_person_page(db):
    with db.session() as s:
        case = add_person(s, status="F0", category="F0")
        flag_id, person_id = _positive(s, case).id, case.id
    result = act(db, flag_id, "called_back_not_reached", None, "lan", 1, NOW, WINDOW)
    assert result.effect == "call_not_for_f0"
    with pytest.raises(NotAllowedNow, match="F0"):
        call_now(db, person_id, "lan", NOW, WINDOW)
    with db.session() as s:
        assert s.scalars(select(CallTask)).all() == []


def test_the_migration_keeps_call_flags_days_and_allows_flags_without_a_call(database_url):
    engine = make_engine(database_url)
    try:
        migrate(engine, command.upgrade, "0011")
        with engine.begin() as c:
            c.execute(text("INSERT INTO people (id, full_name, name_key, phone, alt_phones, "
                           "carrier, status, created_at, updated_at) VALUES (1, 'A', 'a', "
                           "'+84912345678', '', 'viettel', 'monitoring', :t, :t)"),
                      {"t": "2026-11-30 03:00:00"})
            c.execute(text("INSERT INTO call_tasks (id, person_id, day, status, origin, "
                           "attempts, callback_requested, created_at, updated_at) VALUES "
                           "(5, 1, :d, 'done', 'plan', 1, false, :t, :t)"),
                      {"d": date(2026, 11, 29), "t": "2026-11-30 03:00:00"})
            c.execute(text("INSERT INTO flags (person_id, task_id, kind, urgent, status, "
                           "created_at, version) VALUES (1, 5, 'symptom', false, 'open', :t, 1)"),
                      {"t": "2026-11-30 03:00:00"})
        migrate(engine, command.upgrade, "0012")
        with engine.begin() as c:
            assert c.execute(text("SELECT day FROM flags")).scalar() in (
                date(2026, 11, 29), "2026-11-29")
        columns = {c["name"]: c for c in inspect(engine).get_columns("flags")}
        assert columns["task_id"]["nullable"] and not columns["day"]["nullable"]
        migrate(engine, command.downgrade, "0011")
        assert "reference" not in {c["name"] for c in inspect(engine).get_columns("flags")}
    finally:
        engine.dispose()
