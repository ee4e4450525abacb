"""Pacing under 50 due calls, the call window, and trunk fallback, through the real lab."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.lab.conftest import ShiftedClock

pytestmark = pytest.mark.lab

VIETTEL_TRUNK_ONLY = json.dumps([{"name": "viettel", "endpoint": "viettel",
                                  "carriers": ["viettel"], "max_channels": 5, "cps": 2}])


def max_concurrency(intervals):
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals],
                   key=lambda e: (e[0], e[1]))
    level = peak = 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    return peak


def max_starts_in_one_second(starts):
    starts = sorted(starts)
    return max(sum(1 for t in starts if s <= t < s + timedelta(seconds=1)) for s in starts)


def test_channel_and_cps_limits_hold_under_50_due_calls(lab_run):
    phones = [f"+8498400{i:04d}" for i in range(50)]
    lab_run.scenario({"default": {"answer_after": 0, "hangup_after": 2}})
    lab_run.call(*phones)
    lab_run.run_until_idle(timeout=240, CALLENGINE_TRUNKS=VIETTEL_TRUNK_ONLY,
                           CALLENGINE_DEFAULT_TRUNK="viettel",
                           CALLENGINE_MAX_ATTEMPTS_PER_DAY="1")
    attempts = [a for p in phones for a in lab_run.attempts(p)]
    assert len(attempts) == 50 and {a.outcome for a in attempts} == {"partial"}
    intervals = [(a.created_at, a.ended_at) for a in attempts]
    assert max_concurrency(intervals) == 5  # the limit is reached and never passed
    assert max_starts_in_one_second([a.created_at for a in attempts]) <= 2


def test_nothing_is_dialled_before_the_window_opens(lab_run):
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    opening = datetime(2026, 12, 1, 8, 0, tzinfo=tz)
    clock = ShiftedClock(opening - timedelta(seconds=8))
    lab_run.scenario({"default": "busy"})
    from callengine.tasks import schedule_call

    schedule_call(lab_run.db, "+84987000001", opening.date(), clock.now())
    lab_run.run_until_idle(timeout=60, clock=clock, CALLENGINE_CALL_WINDOW="08:00-20:00",
                           CALLENGINE_MAX_ATTEMPTS_PER_DAY="1")
    [attempt] = lab_run.attempts("+84987000001")
    # created_at is already on the engine's (shifted) clock
    created_local = attempt.created_at.replace(tzinfo=timezone.utc).astimezone(tz)
    assert created_local >= opening
    assert attempt.outcome == "busy"


def test_after_the_window_closes_nothing_is_dialled_and_the_day_is_closed(lab_run):
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    evening = datetime(2026, 12, 1, 19, 57, tzinfo=tz)  # inside the last 5 minutes
    clock = ShiftedClock(evening)
    lab_run.scenario({"default": "busy"})
    from callengine.tasks import schedule_call

    schedule_call(lab_run.db, "+84987000002", evening.date(), clock.now())
    lab_run.run_until_idle(timeout=30, clock=clock, CALLENGINE_CALL_WINDOW="08:00-20:00",
                           CALLENGINE_WINDOW_CLOSE_GUARD="300")
    assert lab_run.attempts("+84987000002") == []
    assert lab_run.task("+84987000002").status == "exhausted"


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_a_down_trunk_is_bypassed_and_the_call_completes_elsewhere(lab, tmp_path, database,
                                                                  request):
    from tests.lab.conftest import LabRun

    url = request.getfixturevalue("postgres_url") if database == "postgres" else None
    run = LabRun(lab, tmp_path, url)
    viettel_number, vnpt_number = "+84987000111", "+84912000222"
    run.scenario({
        "trunks": {"viettel": "down"},
        "residents": {
            viettel_number: {"answer_after": 0, "hangup_after": 2},
            vnpt_number: {"answer_after": 1, "keys": ["2", "2", "1", "2", "2", "2"]},
        },
    })
    run.call(viettel_number, vnpt_number)
    run.run_until_idle(timeout=180, CALLENGINE_TRUNK_FAILURE_THRESHOLD="1",
                       CALLENGINE_TRUNK_DOWN_COOLOFF="120", CALLENGINE_MAX_ATTEMPTS_PER_DAY="2")
    viettel = run.attempts(viettel_number)
    assert [(a.trunk, a.outcome) for a in viettel] == [("viettel", "congestion"),
                                                        ("default", "partial")]
    vnpt = run.attempts(vnpt_number)
    assert [(a.trunk, a.outcome) for a in vnpt] == [("vnpt", "completed")]
    assert {q: v for q, (v, _) in run.answers(vnpt_number).items()}["breath"] == "yes"
    run.close()
