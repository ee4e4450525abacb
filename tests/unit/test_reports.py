"""Read-side reports: the dashboard, the calls log and the results rows, on SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from itertools import count
from zoneinfo import ZoneInfo

import pytest

from callengine.cells import csv_value
from callengine.cli import main
from callengine.clock import to_db
from callengine.labels import OUTCOME_LABELS, TASK_STATUS_LABELS
from callengine.paging import InvalidCursor
from callengine.phones import mask_phone
from callengine.questionnaire import load_questionnaire
from callengine.reports import (
    CallFilters,
    Figures,
    calls_log,
    dashboard,
    dashboard_live,
    results_page,
    results_rows,
)
from callengine.results import export
from callengine.settings import DEFAULT_QUESTIONNAIRE, Settings, Trunk
from callengine.store.models import (
    OUTCOMES,
    TASK_CANCELLED,
    TASK_DIALING,
    TASK_DONE,
    TASK_EXHAUSTED,
    TASK_PENDING,
    Answer,
    CallAttempt,
    CallTask,
    Person,
)
from callengine.store.supervision import Flag

TZ = "Asia/Ho_Chi_Minh"
TODAY = datetime.now(ZoneInfo(TZ)).date()
SETTINGS = Settings(trunks=(Trunk("viettel", "viettel", max_channels=30),
                            Trunk("vnpt", "vnpt", max_channels=20)), default_trunk="viettel")
QUESTIONNAIRE = load_questionnaire(DEFAULT_QUESTIONNAIRE)
NOW = datetime.now(timezone.utc)
_ids = count(1)


def at(day: date, hhmm: str) -> datetime:
    """Naive UTC, as stored, of a local time on a local day."""
    return to_db(datetime.combine(day, time.fromisoformat(hhmm), ZoneInfo(TZ)))


# Factories: each writes one row with defaults a test overrides.

def gen_person(s, district=None, commune=None, name=None) -> Person:
    n = next(_ids)
    person = Person(full_name=f"Nguyễn Văn {n}" if name is None else name,
                    phone=f"+8491{n:07d}", name_key=f"nguyen van {n}", district=district,
                    commune=commune, created_at=at(TODAY, "07:00"),
                    updated_at=at(TODAY, "07:00"))
    s.add(person)
    s.flush()
    return person


def gen_task(s, person, day=TODAY, status=TASK_PENDING, outcome=None, attempts=0,
             callback=False) -> CallTask:
    task = CallTask(person_id=person.id, day=day, status=status, last_outcome=outcome,
                    attempts=attempts, callback_requested=callback,
                    created_at=at(day, "07:30"), updated_at=at(day, "07:30"))
    s.add(task)
    s.flush()
    return task


def gen_attempt(s, task, when, outcome=None, trunk="viettel", server="s1", state=None,
                answers=None, attempt_id=None) -> CallAttempt:
    answered = when + timedelta(seconds=8) if outcome in ("completed", "partial") else None
    attempt = CallAttempt(
        id=attempt_id or f"att-{next(_ids):06d}", task_id=task.id, person_id=task.person_id,
        phone=task.person.phone, trunk=trunk, server_id=server,
        state=state or ("ended" if outcome else "ringing"), outcome=outcome,
        cause=16 if outcome == "completed" else None,
        sip_code=486 if outcome == "busy" else None, created_at=when, answered_at=answered,
        ended_at=when + timedelta(seconds=60) if outcome else None)
    s.add(attempt)
    s.flush()
    for qid, value in (answers or {}).items():
        s.add(Answer(attempt_id=attempt.id, question_id=qid, value=value, created_at=when))
    return attempt


def gen_flag(s, task, kind="symptom", urgent=False, status="open", when=None) -> Flag:
    flag = Flag(person_id=task.person_id, task_id=task.id, kind=kind, urgent=urgent, day=task.day,
                status=status, created_at=when or at(task.day, "09:00"))
    s.add(flag)
    return flag


def a_day(db) -> dict[str, Person]:
    """Today in two districts (and one person without an address), plus earlier days."""
    people = {}
    with db.session() as s:
        def person(key, district, commune):
            people[key] = gen_person(s, district, commune)
            return people[key]

        t1 = gen_task(s, person("p1", "Thọ Xuân", "Xuân Lai"), status=TASK_DONE,
                      outcome="completed", attempts=1)
        gen_attempt(s, t1, at(TODAY, "08:10"), "completed", answers={"fever": "yes"})
        gen_flag(s, t1, urgent=True)
        t2 = gen_task(s, person("p2", "Thọ Xuân", "Xuân Lai"), outcome="busy", attempts=1)
        gen_attempt(s, t2, at(TODAY, "08:20"), "busy")
        t3 = gen_task(s, person("p3", "Thọ Xuân", "Xuân Hòa"), status=TASK_EXHAUSTED,
                      outcome="no_answer", attempts=3)
        for hhmm in ("08:30", "09:30", "10:30"):
            gen_attempt(s, t3, at(TODAY, hhmm), "no_answer")
        gen_flag(s, t3, kind="unreachable", status="closed")  # closed: not counted
        t4 = gen_task(s, person("p4", "Nga Sơn", "Nga Bạch"), status=TASK_DONE,
                      outcome="invalid_number", attempts=1)
        gen_attempt(s, t4, at(TODAY, "08:40"), "invalid_number", trunk="vnpt", server="s2")
        gen_flag(s, t4, kind="invalid_number")
        t5 = gen_task(s, person("p5", "Nga Sơn", "Nga Bạch"), status=TASK_DIALING, attempts=1)
        gen_attempt(s, t5, at(TODAY, "11:00"), trunk="vnpt", server="s2")  # live, ringing
        gen_task(s, person("p6", None, None))  # not dialled yet
        t7 = gen_task(s, person("p7", "Thọ Xuân", "Xuân Lai"), status=TASK_EXHAUSTED,
                      outcome="partial", attempts=2, callback=True)
        gen_attempt(s, t7, at(TODAY, "08:50"), "partial")
        gen_attempt(s, t7, at(TODAY, "09:50"), "partial")
        t7_before = gen_task(s, people["p7"], day=TODAY - timedelta(days=1),
                             status=TASK_DONE, outcome="completed", attempts=1)
        gen_flag(s, t7_before, kind="symptom", urgent=True)  # urgent, but raised yesterday
        gen_task(s, person("p8", "Thọ Xuân", "Xuân Hòa"), status=TASK_CANCELLED)
        t9 = gen_task(s, person("p9", "Thọ Xuân", "Xuân Lai"), status=TASK_DIALING,
                      attempts=1)
        gen_attempt(s, t9, at(TODAY, "11:01"), state="answered")  # live, answered
        _earlier_days(s, people["p2"])
    return people


def _earlier_days(s, person) -> None:
    """06:30 local three days ago is the evening before in UTC; 15 days ago is off the chart."""
    three = TODAY - timedelta(days=3)
    t = gen_task(s, person, day=three, status=TASK_EXHAUSTED, outcome="busy", attempts=2)
    gen_attempt(s, t, at(three, "06:30"), "busy")
    gen_attempt(s, t, at(three, "23:59"), "no_answer")
    first = TODAY - timedelta(days=13)
    gen_attempt(s, gen_task(s, person, day=first), at(first, "00:05"), "rejected")
    old = TODAY - timedelta(days=14)
    gen_attempt(s, gen_task(s, person, day=old), at(old, "23:59"), "completed")


# Dashboard

def test_dashboard_totals_are_what_a_supervisor_reads(db):
    a_day(db)
    board = dashboard(db, TODAY, NOW, SETTINGS)
    assert board.totals == Figures(planned=8, dialled=7, reached=2, completed=1, flagged=2,
                                   urgent=2, unreachable=2, callbacks=1, pending=2, dialing=2,
                                   cancelled=1)
    assert board.day == TODAY and board.paused is None
    assert board.generated_at.utcoffset() == timedelta(hours=7)


def test_dashboard_live_channels_per_trunk_against_limits_and_per_server(db):
    a_day(db)
    board = dashboard(db, TODAY, NOW, SETTINGS, paused=True, channel_limits={"vnpt": 5})
    assert [(t.name, t.live, t.max_channels) for t in board.trunks] == [
        ("viettel", 1, 30), ("vnpt", 1, 5)]
    assert [(s.name, s.live) for s in board.servers] == [("s1", 1), ("s2", 1)]
    assert board.paused is True


def test_a_trunk_no_longer_configured_still_shows_its_live_calls(db):
    a_day(db)
    board = dashboard(db, TODAY, NOW, replace(SETTINGS, trunks=(Trunk("viettel", "v"),)))
    assert [(t.name, t.live, t.max_channels) for t in board.trunks] == [
        ("viettel", 1, 10), ("vnpt", 1, None)]


def test_outcome_series_covers_14_local_days_with_zeros_and_local_boundaries(db):
    a_day(db)
    series = dashboard(db, TODAY, NOW, SETTINGS).series
    assert [d.day for d in series] == [TODAY - timedelta(days=13 - i) for i in range(14)]
    by_day = {d.day: d.counts for d in series}
    assert all(set(c) == set(OUTCOMES) for c in by_day.values())
    assert by_day[TODAY] == dict.fromkeys(OUTCOMES, 0) | {
        "completed": 1, "busy": 1, "no_answer": 3, "invalid_number": 1, "partial": 2}
    three = TODAY - timedelta(days=3)  # 06:30 and 23:59 local, the first one yesterday in UTC
    assert by_day[three]["busy"] == 1 and by_day[three]["no_answer"] == 1
    assert sum(by_day[TODAY - timedelta(days=4)].values()) == 0
    assert by_day[TODAY - timedelta(days=13)]["rejected"] == 1  # 00:05 local on the first day
    assert sum(d.total for d in series) == 11  # 15 days ago is not on the chart


def test_dashboard_by_district_and_commune(db):
    a_day(db)
    board = dashboard(db, TODAY, NOW, SETTINGS)
    districts = {d.district: d.figures for d in board.districts}
    assert [d.district for d in board.districts] == ["Nga Sơn", "Thọ Xuân", None]
    assert districts["Thọ Xuân"] == Figures(planned=5, dialled=5, reached=2, completed=1,
                                            flagged=1, urgent=2, unreachable=1, callbacks=1,
                                            pending=1, dialing=1, cancelled=1)
    assert districts["Nga Sơn"] == Figures(planned=2, dialled=2, flagged=1, unreachable=1,
                                           dialing=1)
    assert districts[None] == Figures(planned=1, pending=1)
    communes = {(c.district, c.commune): c.figures for c in board.communes}
    assert communes[("Thọ Xuân", "Xuân Hòa")] == Figures(planned=1, dialled=1, unreachable=1,
                                                        cancelled=1)
    assert communes[("Thọ Xuân", "Xuân Lai")].reached == 2
    assert sum((c.figures for c in board.communes), Figures()) == board.totals


def test_figures_by_area_are_kept_a_minute_while_the_totals_are_always_counted(db):
    from callengine.reports.series import SeriesCache

    a_day(db)
    clock = [0.0]
    areas = SeriesCache(ttl=60.0, clock=lambda: clock[0])
    before = dashboard(db, TODAY, NOW, SETTINGS, area_cache=areas)
    with db.session() as s:
        gen_task(s, gen_person(s, district="Nga Sơn", commune="Nga Bạch"))
    later = dashboard(db, TODAY, NOW, SETTINGS, area_cache=areas)
    assert later.totals.planned == before.totals.planned + 1  # counted afresh
    assert later.districts == before.districts  # the same minute: kept
    clock[0] = 61.0
    fresh = {d.district: d.figures.planned for d in
             dashboard(db, TODAY, NOW, SETTINGS, area_cache=areas).districts}
    assert fresh["Nga Sơn"] == 3


def test_dashboard_to_dict_is_json(db):
    a_day(db)
    data = json.loads(json.dumps(dashboard(db, TODAY, NOW, SETTINGS).to_dict()))
    assert data["day"] == TODAY.isoformat() and data["totals"]["planned"] == 8
    assert data["trunks"][0] == {"name": "viettel", "live": 1, "max_channels": 30}
    assert data["series"][-1]["counts"]["no_answer"] == 3
    assert data["districts"][0]["district"] == "Nga Sơn"


def test_the_live_read_has_the_dashboards_totals_and_channels(db):
    a_day(db)
    board = dashboard(db, TODAY, NOW, SETTINGS, paused=True, channel_limits={"vnpt": 5})
    live = dashboard_live(db, TODAY, NOW, SETTINGS, paused=True, channel_limits={"vnpt": 5})
    assert (live.totals, live.trunks, live.paused) == (board.totals, board.trunks, True)
    assert json.loads(json.dumps(live.to_dict()))["totals"]["urgent"] == 2
    assert dashboard_live(db, TODAY + timedelta(days=1), NOW, SETTINGS).totals.planned == 0


def test_dashboard_of_an_empty_day(db):
    board = dashboard(db, TODAY, NOW, SETTINGS)
    assert board.totals == Figures() and board.districts == () and len(board.series) == 14


# Calls log

def _all_pages(db, filters, limit):
    pages, cursor = [], None
    while True:
        page = calls_log(db, filters, tz=TZ, after=cursor, limit=limit)
        pages.append(page.items)
        if page.next is None:
            return pages
        cursor = page.next


def test_calls_log_is_newest_first_with_masked_phones_and_labels(db):
    people = a_day(db)
    rows = calls_log(db, CallFilters(day=TODAY), tz=TZ).items
    assert [r.time for r in rows] == sorted((r.time for r in rows), reverse=True)
    assert len(rows) == 10
    first = rows[0]
    assert first.person_id == people["p9"].id and first.outcome is None
    assert first.outcome_label == "Đang diễn ra" and first.time.strftime("%H:%M") == "11:01"
    completed = next(r for r in rows if r.outcome == "completed")
    assert completed.phone == mask_phone(people["p1"].phone)
    assert people["p1"].phone[3:] not in completed.phone
    assert completed.name == people["p1"].full_name and completed.district == "Thọ Xuân"
    assert completed.outcome_label == "Trả lời đủ"
    assert completed.duration == 60 and completed.talk == 52 and completed.cause == 16
    assert next(r for r in rows if r.outcome == "busy").sip_code == 486
    assert json.loads(json.dumps(completed.to_dict()))["time"] == completed.time.isoformat()


@pytest.mark.parametrize("filters, expected", [
    (CallFilters(day=TODAY, outcome="no_answer"), 3),
    (CallFilters(day=TODAY, trunk="vnpt"), 2),
    (CallFilters(day=TODAY, server="s2"), 2),
    (CallFilters(day=TODAY, district="Nga Sơn"), 2),
    (CallFilters(day=TODAY, district="Thọ Xuân", commune="Xuân Hòa"), 3),
    (CallFilters(outcome="busy"), 2),
    (CallFilters(day=TODAY - timedelta(days=3)), 2),  # 06:30 local counts on its local day
    (CallFilters(day=TODAY - timedelta(days=4)), 0),
    (CallFilters(), 14),
])
def test_calls_log_filters(db, filters, expected):
    a_day(db)
    rows = calls_log(db, filters, tz=TZ, limit=100).items
    assert len(rows) == expected
    for name in ("outcome", "trunk", "district", "commune"):
        if getattr(filters, name):
            assert {getattr(r, name) for r in rows} == {getattr(filters, name)}


def test_calls_log_filter_by_person(db):
    people = a_day(db)
    rows = calls_log(db, CallFilters(person_id=people["p2"].id), tz=TZ).items
    assert len(rows) == 5 and {r.person_id for r in rows} == {people["p2"].id}


def test_keyset_pages_have_no_duplicates_or_gaps_even_with_equal_timestamps(db):
    a_day(db)
    with db.session() as s:
        task = gen_task(s, gen_person(s, "Nga Sơn", "Nga Thủy"), status=TASK_EXHAUSTED)
        same = at(TODAY, "12:00")
        for i in range(23):  # one instant, ids out of insertion order
            gen_attempt(s, task, same, "no_answer", attempt_id=f"eq-{(i * 7) % 23:02d}")
    everything = calls_log(db, CallFilters(), tz=TZ, limit=200).items
    for limit in (1, 4, 7):
        pages = _all_pages(db, CallFilters(), limit)
        ids = [r.id for page in pages for r in page]
        assert ids == [r.id for r in everything] and len(set(ids)) == 37
        assert all(len(page) == limit for page in pages[:-1])
    same_ids = [r.id for r in everything if r.id.startswith("eq-")]
    assert same_ids == sorted(same_ids, reverse=True)


def test_keyset_pages_keep_their_filters(db):
    a_day(db)
    pages = _all_pages(db, CallFilters(day=TODAY, district="Thọ Xuân"), 2)
    assert sum(len(p) for p in pages) == 8
    assert {r.district for p in pages for r in p} == {"Thọ Xuân"}


@pytest.mark.parametrize("cursor", ["nonsense", "WzEsIDJd", "W3sidCI6ICIyMDIwIn1d"])
def test_a_cursor_the_log_did_not_make_is_refused(db, cursor):
    with pytest.raises(InvalidCursor):
        calls_log(db, CallFilters(), tz=TZ, after=cursor)


# Results rows and labels

def test_results_rows_are_the_exports_rows_and_page_the_same(db, tmp_path):
    a_day(db)
    rows = results_rows(db, QUESTIONNAIRE, TODAY)
    path = tmp_path / "r.csv"
    assert export(db, QUESTIONNAIRE, TODAY, "csv", path) == len(rows) == 9
    exported = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    as_text = [{k: str(csv_value(v)) for k, v in r.items()} for r in rows]  # phones as text
    assert as_text == exported
    assert next(r for r in rows if r["outcome"] == "completed")["fever"] == "yes"
    paged, cursor = [], None
    while True:
        page = results_page(db, QUESTIONNAIRE, TODAY, after=cursor, limit=4)
        paged += page.items
        if page.next is None:
            break
        cursor = page.next
    assert paged == rows


def test_every_outcome_and_task_status_has_a_vietnamese_label():
    assert set(OUTCOME_LABELS) == set(OUTCOMES)
    assert set(TASK_STATUS_LABELS) == {TASK_PENDING, TASK_DIALING, TASK_DONE, TASK_EXHAUSTED,
                                       TASK_CANCELLED}


# CLI

@pytest.fixture
def cli_env(db, database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("CALLENGINE_DATABASE_URL", database_url)
    monkeypatch.setenv("CALLENGINE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CALLENGINE_TRUNKS", json.dumps(
        [{"name": "viettel", "endpoint": "viettel", "max_channels": 30}]))
    monkeypatch.setenv("CALLENGINE_DEFAULT_TRUNK", "viettel")
    return a_day(db)


def test_cli_dashboard_in_vietnamese_and_json(cli_env, capsys):
    assert main(["dashboard", "--date", TODAY.isoformat()]) == 0
    out = capsys.readouterr().out
    assert f"Tình hình gọi ngày {TODAY:%d/%m/%Y}" in out
    assert "Kế hoạch: 8" in out and "viettel 1/30" in out and "vnpt 1/?" in out
    assert "Theo huyện:" in out and "Chưa rõ huyện" in out
    assert main(["dashboard", "--date", TODAY.isoformat(), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["flagged"] == 2


def test_cli_calls_masks_phones_and_pages(cli_env, capsys):
    people = cli_env
    assert main(["calls", "--date", TODAY.isoformat(), "--outcome", "no_answer"]) == 0
    out = capsys.readouterr().out
    assert out.count("Không nghe máy") == 3
    assert mask_phone(people["p3"].phone) in out and people["p3"].phone not in out
    assert main(["calls", "--date", TODAY.isoformat(), "--limit", "3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["items"]) == 3 and data["next"]
    assert all("*" in item["phone"] for item in data["items"])


def test_days_that_are_over_are_cached_for_the_ttl_and_today_is_always_counted(db):
    from callengine.reports.series import SeriesCache

    people = a_day(db)
    clock = [0.0]
    cache = SeriesCache(ttl=600, clock=lambda: clock[0])
    first = dashboard(db, TODAY, NOW, SETTINGS, series_cache=cache).series
    yesterday = TODAY - timedelta(days=1)
    with db.session() as s:
        task = s.query(CallTask).filter_by(person_id=people["p7"].id, day=yesterday).one()
        gen_attempt(s, task, at(yesterday, "10:00"), "busy")
        gen_attempt(s, task, at(TODAY, "12:30"), "busy")  # its task's day does not matter
    cached = {d.day: d.counts for d in dashboard(db, TODAY, NOW, SETTINGS,
                                                 series_cache=cache).series}
    assert cached[yesterday]["busy"] == 0  # over: read from the cache
    assert cached[TODAY]["busy"] == first[-1].counts["busy"] + 1  # today: counted again
    clock[0] = 601
    fresh = {d.day: d.counts for d in dashboard(db, TODAY, NOW, SETTINGS,
                                                series_cache=cache).series}
    assert fresh[yesterday]["busy"] == 1
    uncached = {d.day: d.counts for d in dashboard(db, TODAY, NOW, SETTINGS,
                                                   series_cache=None).series}
    assert uncached == fresh
