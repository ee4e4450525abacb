"""Campaign control as the admin and the CLI use it, on SQLite and the real PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import datetime, time, timezone

import pytest
from sqlalchemy import select

from callengine import campaign
from callengine.cli import main
from callengine.settings import CallWindow, Settings, Trunk
from callengine.store.campaign import CampaignRow

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)  # 10:00 local
SETTINGS = Settings(trunks=(Trunk("viettel", "viettel", ("viettel",), 30, 10),
                            Trunk("default", "other", (), 10, 2)))


def stored(db) -> dict:
    """The campaign row as stored, for checking that nothing was written."""
    with db.session() as s:
        row = s.scalars(select(CampaignRow)).one()
        return {c.name: getattr(row, c.name) for c in CampaignRow.__table__.columns}


def test_with_nothing_stored_the_campaign_is_the_settings(db):
    now = campaign.current(db, SETTINGS)
    assert (now.revision, now.paused, now.overridden) == (0, False, frozenset())
    assert now.call_window == SETTINGS.call_window
    assert now.trunks["viettel"] == campaign.TrunkLimits(30, 10.0)
    assert now.retry_busy == 900 and now.max_attempts_per_day == 4
    assert now.apply_to(SETTINGS) == SETTINGS


def test_stored_values_overlay_the_settings_and_none_puts_them_back(db):
    changed = campaign.update(db, SETTINGS, {
        "call_window": "07:30-19:00", "trunk.viettel.max_channels": "20",
        "trunks": {"default": {"cps": 0.5}}, "retry_busy": "10m",
        "max_attempts_per_day": 2}, "lan", NOW)
    read = campaign.current(db, SETTINGS)
    assert read == changed
    assert read.call_window == CallWindow(time(7, 30), time(19, 0))
    assert read.trunks == {"viettel": campaign.TrunkLimits(20, 10.0),
                           "default": campaign.TrunkLimits(10, 0.5)}
    assert (read.retry_busy, read.retry_no_answer, read.max_attempts_per_day) == (600, 3600, 2)
    assert read.overridden == {"call_window", "trunk.viettel.max_channels", "trunk.default.cps",
                               "retry_busy", "max_attempts_per_day"}
    effective = read.apply_to(SETTINGS)
    assert effective.trunks[0].max_channels == 20 and effective.trunks[0].endpoint == "viettel"
    back = campaign.update(db, SETTINGS, {"call_window": None, "trunk.viettel.max_channels": None},
                           "lan", NOW)
    assert back.call_window == SETTINGS.call_window
    assert back.trunks["viettel"].max_channels == 30
    assert back.trunks["default"].cps == 0.5  # untouched
    assert back.updated_by == "lan" and back.updated_at == NOW


@pytest.mark.parametrize("changes, field, words", [
    ({"call_window": "25:00-19:00"}, "call_window", "Khung giờ gọi"),
    ({"call_window": "19:00-08:00"}, "call_window", "giờ kết thúc sau giờ bắt đầu"),
    ({"retry_busy": -5}, "retry_busy", "số giây không âm"),
    ({"retry_no_answer": float("nan")}, "retry_no_answer", "Gọi lại sau khi không nghe máy"),
    ({"retry_failed": "inf"}, "retry_failed", "không hợp lệ"),
    ({"trunk.mobifone.max_channels": 5}, "trunk.mobifone.max_channels", "'mobifone' không có"),
    ({"trunks": {"viettel": {"cps": "nan"}}}, "trunk.viettel.cps", "số lớn hơn 0"),
    ({"trunk.viettel.max_channels": 0}, "trunk.viettel.max_channels", "từ 1 trở lên"),
    ({"max_attempts_per_day": "2.5"}, "max_attempts_per_day", "Số lần gọi tối đa"),
    ({"paused": "maybe"}, "paused", "true hoặc false"),
    ({"ring_timeout": 10}, "ring_timeout", "không phải thiết lập của chiến dịch"),
    ({"revision": 7}, "revision", "chỉ đọc"),
])
def test_a_bad_value_names_its_field_in_vietnamese_and_nothing_is_written(db, changes, field,
                                                                          words):
    before = stored(db)
    good = {"call_window": "09:00-17:00"} if field != "call_window" else {"retry_busy": 60}
    with pytest.raises(campaign.CampaignError) as error:
        campaign.update(db, SETTINGS, {**good, **changes}, "lan", NOW)
    assert error.value.field == field and list(error.value.errors) == [field]
    assert words in str(error.value) and error.value.code == "invalid_campaign"
    assert stored(db) == before


def test_every_bad_field_is_reported_at_once(db):
    with pytest.raises(campaign.CampaignError) as error:
        campaign.update(db, SETTINGS, {"call_window": "x", "retry_busy": "y"}, "lan", NOW)
    assert set(error.value.errors) == {"call_window", "retry_busy"}


def test_a_change_needs_someone_to_make_it(db):
    with pytest.raises(campaign.CampaignError) as error:
        campaign.pause(db, SETTINGS, "  ", NOW)
    assert error.value.field == "by"
    assert campaign.revision(db) == 0


def test_each_change_raises_the_revision_and_changed_since_sees_it(db):
    assert campaign.changed_since(db, SETTINGS, 0) is None
    paused = campaign.pause(db, SETTINGS, "hoa", NOW)
    assert (paused.revision, paused.paused, paused.paused_by, paused.paused_at) == \
        (1, True, "hoa", NOW)
    assert campaign.changed_since(db, SETTINGS, 0) == paused
    assert campaign.changed_since(db, SETTINGS, 1) is None
    again = campaign.pause(db, SETTINGS, "lan", NOW)
    assert again.paused_by == "hoa"  # still paused since hoa paused it
    resumed = campaign.resume(db, SETTINGS, "lan", NOW)
    assert (resumed.revision, resumed.paused, resumed.paused_by) == (3, False, None)
    assert campaign.revision(db) == 3


def test_a_change_based_on_an_old_revision_is_refused(db):
    campaign.update(db, SETTINGS, {"retry_busy": 60}, "lan", NOW)
    with pytest.raises(campaign.CampaignConflict) as error:
        campaign.update(db, SETTINGS, {"retry_busy": 120}, "hoa", NOW, expected_revision=0)
    assert "lan" in str(error.value) and error.value.code == "campaign_conflict"
    assert campaign.current(db, SETTINGS).retry_busy == 60
    assert campaign.update(db, SETTINGS, {"retry_busy": 120}, "hoa", NOW,
                           expected_revision=1).retry_busy == 120


def test_concurrent_changes_all_land_with_distinct_revisions(db):
    keys = ["retry_busy", "retry_no_answer", "retry_partial", "retry_rejected", "retry_failed",
            "trunk.viettel.max_channels", "trunk.viettel.cps", "trunk.default.max_channels"]
    revisions, errors = [], []

    def change(key):
        try:
            revisions.append(campaign.update(db, SETTINGS, {key: 7}, "lan", NOW).revision)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=change, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(revisions) == list(range(1, len(keys) + 1))
    values = campaign.current(db, SETTINGS).values()
    assert all(values[key] == 7 for key in keys)


def test_the_json_form_round_trips_through_update(db):
    body = campaign.update(db, SETTINGS, {"call_window": "00:00:00-23:59:59", "retry_busy": 1.5},
                           "lan", NOW).to_dict()
    assert json.loads(json.dumps(body)) == body
    assert body["call_window"] == "00:00:00-23:59:59" and body["retry_busy"] == 1.5
    assert body["trunks"] == {"viettel": {"max_channels": 30, "cps": 10},
                              "default": {"max_channels": 10, "cps": 2}}
    assert body["updated_at"] == "2026-11-30T03:00:00Z" and body["revision"] == 1
    editable = {k: v for k, v in body.items() if k not in (
        "revision", "paused_by", "paused_at", "updated_by", "updated_at", "overridden")}
    before = campaign.current(db, SETTINGS).values()
    assert campaign.update(db, SETTINGS, editable, "hoa", NOW).values() == before


def test_every_field_has_a_vietnamese_label():
    from callengine.campaign.values import overlay

    for key in overlay(SETTINGS, None).values():
        assert campaign.label(key) != key
    assert campaign.label("trunk.viettel.cps") == "Số cuộc gọi bắt đầu mỗi giây (trung kế viettel)"


def test_a_limit_set_for_one_server_wins_there_and_only_there(db):
    changed = campaign.update(db, SETTINGS, {
        "trunk.viettel.max_channels": 20, "trunk.viettel@lab-2.max_channels": "5",
        "trunks": {"viettel@hn.dc1": {"cps": 1}}}, "lan", NOW)
    assert changed == campaign.current(db, SETTINGS)
    limits = {server: next(t for t in changed.apply_to(SETTINGS, server).trunks
                           if t.name == "viettel") for server in ("lab-1", "lab-2", "hn.dc1")}
    assert {s: (t.max_channels, t.cps) for s, t in limits.items()} == {
        "lab-1": (20, 10.0), "lab-2": (5, 10.0), "hn.dc1": (20, 1.0)}
    assert changed.apply_to(SETTINGS).trunks == changed.apply_to(SETTINGS, "lab-1").trunks
    assert {"trunk.viettel@lab-2.max_channels", "trunk.viettel@hn.dc1.cps"} <= changed.overridden
    body = changed.to_dict()
    assert body["trunks"]["viettel@lab-2"] == {"max_channels": 5}
    assert body["trunks"]["viettel"] == {"max_channels": 20, "cps": 10}
    back = campaign.update(db, SETTINGS, {"trunk.viettel@lab-2.max_channels": None}, "lan", NOW)
    assert "viettel@lab-2" not in back.server_limits
    assert back.limits_on("viettel", "lab-2") == campaign.TrunkLimits(20, 10.0)
    assert campaign.label("trunk.viettel@lab-2.cps") == (
        "Số cuộc gọi bắt đầu mỗi giây (trung kế viettel, máy chủ lab-2)")


@pytest.mark.parametrize("key, words", [
    ("trunk.viettel@bad server!.cps", "tên máy chủ 'bad server!' không hợp lệ"),
    ("trunk.viettel@.cps", "tên máy chủ '' không hợp lệ"),
    ("trunk.mobifone@lab-2.cps", "'mobifone' không có trong cấu hình"),
])
def test_a_bad_server_specific_limit_is_refused_in_vietnamese(db, key, words):
    campaign.update(db, SETTINGS, {"retry_busy": 60}, "lan", NOW)
    before = stored(db)
    with pytest.raises(campaign.CampaignError) as refused:
        campaign.update(db, SETTINGS, {key: 2}, "lan", NOW)
    assert words in refused.value.errors[key]
    assert stored(db) == before


# --- the CLI ---------------------------------------------------------------------------------


@pytest.fixture
def cli_url(database_url, monkeypatch):
    monkeypatch.delenv("CALLENGINE_CONFIG", raising=False)
    monkeypatch.setenv("CALLENGINE_DATABASE_URL", database_url)
    monkeypatch.setenv("CALLENGINE_TRUNKS", json.dumps([
        {"name": "viettel", "endpoint": "viettel", "max_channels": 30, "cps": 10},
        {"name": "default", "endpoint": "other"}]))
    return database_url


def test_cli_set_pause_show_and_resume(cli_url, capsys):
    assert main(["campaign", "set", "call_window=08:00-19:00", "trunk.viettel.max_channels=20",
                 "retry_busy=10m", "--by", "lan"]) == 0
    out = capsys.readouterr().out
    assert "Khung giờ gọi: 08:00-19:00 *" in out
    assert "Trung kế viettel: 20 kênh *, 10 cuộc gọi/giây" in out
    assert "Gọi lại sau khi máy bận: 10 phút *" in out
    assert main(["campaign", "pause", "--by", "hoa"]) == 0
    assert "TẠM DỪNG bởi hoa" in capsys.readouterr().out
    assert main(["campaign", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["paused"] is True and shown["revision"] == 2
    assert shown["trunks"]["viettel"]["max_channels"] == 20
    assert main(["campaign", "set", "call_window=", "--by", "lan"]) == 0
    assert "Khung giờ gọi: 08:00-20:00\n" in capsys.readouterr().out
    assert main(["campaign", "resume", "--by", "hoa"]) == 0
    assert "đang gọi" in capsys.readouterr().out


def test_cli_refuses_a_bad_value_with_one_line_and_writes_nothing(cli_url, capsys):
    assert main(["campaign", "set", "trunk.mobifone.cps=3", "call_window=08:00-19:00",
                 "--by", "lan"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'mobifone' không có trong cấu hình" in err
    assert main(["campaign", "set", "call_window", "--by", "lan"]) == 2
    assert "KHÓA=GIÁ_TRỊ" in capsys.readouterr().err
    main(["campaign", "show", "--json"])
    assert json.loads(capsys.readouterr().out)["revision"] == 0


def test_cli_sets_and_shows_a_limit_for_one_server(cli_url, capsys):
    assert main(["campaign", "set", "trunk.viettel@lab-2.max_channels=5",
                 "trunk.viettel@lab-2.cps=1.5", "--by", "lan"]) == 0
    out = capsys.readouterr().out
    assert "Trung kế viettel: 30 kênh, 10 cuộc gọi/giây" in out  # every other server
    assert "Trung kế viettel trên máy chủ lab-2: 1.5 cuộc gọi/giây *, 5 kênh *" in out
    assert main(["campaign", "set", "trunk.viettel@lab 2.cps=1", "--by", "lan"]) == 2
    assert "tên máy chủ 'lab 2' không hợp lệ" in capsys.readouterr().err
