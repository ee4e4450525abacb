"""Check-ins: the visitor's values, merging repeats within 30 minutes, linking people by the
import's identity rules, declaration flags, the per-venue limit, retention and its command."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from callengine.health.checkins import (
    check_in,
    mask_name,
    purge_checkins,
    read_visitor,
    recent_checkins,
    venue_retry_after,
)
from callengine.health.errors import InvalidForm
from callengine.health.venues import create_venue
from callengine.store.models import PERSON_UNMONITORED, Person
from callengine.store.supervision import FLAG_DECLARATION, Flag
from callengine.store.venues import CheckIn
from tests.unit.casework_helpers import add_person

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)  # 10:00 in Thanh Hóa
TZ = "Asia/Ho_Chi_Minh"
VISITOR = {"full_name": "Lê Thị Lan", "phone": "0912 345 678"}


@pytest.fixture
def venue(db):
    return create_venue(db, {"name": "Chợ Vườn Hoa", "kind": "market"}, now=NOW,
                        created_by="lan")


def _visit(db, venue, at=NOW, **values):
    return check_in(db, venue.id, read_visitor({**VISITOR, **values}), now=at, tz=TZ)


def _rows(db, model, *where):
    with db.session() as s:
        return list(s.scalars(select(model).where(*where).order_by(model.id)))


def test_the_visitor_is_read_with_the_importers_phone_and_id_rules():
    visitor = read_visitor({"full_name": "  Lê   Thị Lan ", "phone": "84-912-345-678",
                            "national_id": "038 123 456 789", "fever": "1", "travel": "on",
                            "cough": ""})
    assert (visitor.full_name, visitor.phone.e164, visitor.national_id) == (
        "Lê Thị Lan", "+84912345678", "038123456789")
    assert visitor.declared == {"fever", "travel"} and visitor.symptoms == ("fever",)


def test_bad_values_are_named_in_vietnamese():
    with pytest.raises(InvalidForm) as refused:
        read_visitor({"full_name": "12345", "phone": "0123", "national_id": "12-34"})
    errors = refused.value.errors
    assert set(errors) == {"full_name", "phone", "national_id"}
    assert errors["phone"].startswith("Số điện thoại '0123'")
    assert "CCCD" in errors["national_id"]
    with pytest.raises(InvalidForm) as empty:
        read_visitor({})
    assert empty.value.errors == {"full_name": "Hãy nhập họ và tên.",
                                  "phone": "Hãy nhập số điện thoại."}


def test_a_repeat_within_30_minutes_is_merged_and_one_after_is_a_new_visit(db, venue):
    first = _visit(db, venue)
    again = _visit(db, venue, NOW + timedelta(minutes=20), phone="+84912345678")
    later = _visit(db, venue, NOW + timedelta(minutes=49))  # 29 minutes after the last scan
    apart = _visit(db, venue, NOW + timedelta(minutes=80))  # 31 minutes after
    assert (first.merged, again.merged, later.merged, apart.merged) == (False, True, True,
                                                                        False)
    assert first.checkin_id == again.checkin_id == later.checkin_id != apart.checkin_id
    visits = _rows(db, CheckIn)
    assert [(v.visits, v.checked_in_at, v.last_seen_at) for v in visits] == [
        (3, NOW.replace(tzinfo=None), (NOW + timedelta(minutes=49)).replace(tzinfo=None)),
        (1, (NOW + timedelta(minutes=80)).replace(tzinfo=None),
         (NOW + timedelta(minutes=80)).replace(tzinfo=None))]


def test_another_phone_or_another_venue_is_not_merged(db, venue):
    other = create_venue(db, {"name": "Siêu thị Big C"}, now=NOW, created_by="lan")
    _visit(db, venue)
    assert not _visit(db, venue, NOW + timedelta(minutes=5), phone="0987654321").merged
    assert not check_in(db, other.id, read_visitor(VISITOR), now=NOW, tz=TZ).merged
    assert len(_rows(db, CheckIn)) == 3


def test_a_check_in_links_the_person_the_import_would_find(db, venue):
    with db.session() as s:
        lan = add_person(s, "+84912345678", "LE THI LAN").id
        add_person(s, "+84912345678", "Lê Văn Hùng")  # shares the phone: another person
        by_id = add_person(s, "+84987000111", "Trần Văn Bình", national_id="038123456789").id
    _visit(db, venue)
    _visit(db, venue, full_name="Trần Văn Bình", phone="0911000222",
           national_id="038123456789")
    _visit(db, venue, full_name="Phạm Văn Cường", phone="0911000333")
    assert [v.person_id for v in _rows(db, CheckIn)] == [lan, by_id, None]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 3  # nobody created


def test_a_symptom_raises_one_flag_for_a_person_created_unmonitored(db, venue):
    result = _visit(db, venue, full_name="Phạm Văn Cường", phone="0911000333", cough="1",
                    contact_f0="1")
    (flag,) = _rows(db, Flag)
    (person,) = _rows(db, Person)
    assert (flag.id, flag.kind, flag.urgent, flag.person_id) == (
        result.flag_id, FLAG_DECLARATION, False, person.id)
    assert flag.reference == f"checkin:{result.checkin_id}"
    assert flag.detail == "Tự khai báo tại Chợ Vườn Hoa: ho, tiếp xúc gần với F0"
    assert (person.full_name, person.phone, person.status) == (
        "Phạm Văn Cường", "+84911000333", PERSON_UNMONITORED)
    merged = _visit(db, venue, NOW + timedelta(minutes=10), full_name="Phạm Văn Cường",
                    phone="0911000333", breath="1")
    (flag,) = _rows(db, Flag)  # the same visit: the same flag, now urgent
    assert (merged.flag_id, flag.urgent) == (flag.id, True)
    assert "khó thở" in flag.detail and "ho" in flag.detail


def test_breath_difficulty_is_urgent_and_contact_or_travel_alone_is_not_flagged(db, venue):
    _visit(db, venue, contact_f0="1", travel="1")
    assert _rows(db, Flag) == [] and _rows(db, Person) == []
    (visit,) = _rows(db, CheckIn)
    assert (visit.contact_f0, visit.travel, visit.fever) == (True, True, False)
    urgent = _visit(db, venue, full_name="Đỗ Thị Hoa", phone="0911000444", breath="1")
    (flag,) = _rows(db, Flag)
    assert (flag.id, flag.urgent) == (urgent.flag_id, True)
    assert flag.day == NOW.date()


def test_the_venue_limit_counts_new_visits_not_merged_repeats(db, venue):
    rate = (2, 600.0)
    _visit(db, venue)
    _visit(db, venue, NOW + timedelta(minutes=1))  # merged
    assert venue_retry_after(db, venue.id, NOW + timedelta(minutes=2), rate) is None
    _visit(db, venue, NOW + timedelta(minutes=2), phone="0987654321")
    assert venue_retry_after(db, venue.id, NOW + timedelta(minutes=3), rate) == 600
    assert venue_retry_after(db, venue.id, NOW + timedelta(minutes=13), rate) is None


def test_recent_check_ins_are_masked(db, venue):
    _visit(db, venue, fever="1")
    (row,) = recent_checkins(db, venue.id)
    assert (row.name_masked, row.phone_masked, row.declared) == (
        "Lê T*** L***", "********678", ("fever",))
    assert mask_name("") == ""


def test_retention_deletes_only_check_ins_older_than_the_setting(db, venue):
    _visit(db, venue, NOW - timedelta(days=31))
    _visit(db, venue, NOW - timedelta(days=29), phone="0987654321")
    assert purge_checkins(db, now=NOW, retention_days=30) == 1
    assert [v.phone for v in _rows(db, CheckIn)] == ["+84987654321"]
    assert purge_checkins(db, now=NOW, retention_days=30) == 0


def test_the_purge_command_says_how_many_went(db, venue, database_url, monkeypatch, capsys):
    from callengine.cli import main

    monkeypatch.setenv("CALLENGINE_DATABASE_URL", database_url)
    monkeypatch.delenv("CALLENGINE_CONFIG", raising=False)
    real_now = datetime.now(timezone.utc)
    _visit(db, venue, real_now - timedelta(days=40))
    _visit(db, venue, real_now - timedelta(days=3), phone="0987654321")
    assert main(["checkins", "purge"]) == 0
    assert capsys.readouterr().out == "Đã xóa 1 lượt khai báo cũ hơn 30 ngày.\n"
    assert main(["checkins", "purge", "--days", "2"]) == 0
    assert "Đã xóa 1 lượt" in capsys.readouterr().out
    assert main(["checkins", "purge", "--days", "0"]) == 2
    assert "--days" in capsys.readouterr().err


def test_the_daily_job_purges_by_the_setting_and_never_fails_the_plan(db, venue, caplog):
    from callengine.scheduler import purge_old_checkins
    from callengine.settings import load_settings

    _visit(db, venue, NOW - timedelta(days=8))
    _visit(db, venue, NOW - timedelta(days=6), phone="0987654321")
    purge_old_checkins(db, NOW, load_settings({}, checkin_retention_days=7))
    assert [v.phone for v in _rows(db, CheckIn)] == ["+84987654321"]
    broken = type("Broken", (), {"session": lambda self: 1 / 0})()
    purge_old_checkins(broken, NOW, load_settings({}))  # logged, not raised
    assert "retention clean-up failed" in caplog.text
