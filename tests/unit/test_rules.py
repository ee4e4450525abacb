"""Outcome classification, retry policy, call window, pacing and trunk routing."""

from datetime import date, datetime, timedelta, timezone

import pytest

from callengine.dialer import outcome as oc
from callengine.dialer.outcome import CallSignals, classify, classify_cdr, is_trunk_fault
from callengine.dialer.pacing import TrunkPacer
from callengine.dialer.retry import RetryPolicy
from callengine.dialer.routing import TrunkRouter, dial_string
from callengine.dialer.window import Window
from callengine.phones import normalize_phone
from callengine.settings import Settings, Trunk, parse_window


@pytest.mark.parametrize("signals, expected", [
    (CallSignals(cause=17, sip_code=486), oc.BUSY),
    (CallSignals(cause=21, sip_code=603), oc.REJECTED),
    (CallSignals(cause=21, sip_code=403), oc.REJECTED),
    (CallSignals(cause=1, sip_code=404), oc.INVALID),
    (CallSignals(cause=34, sip_code=503), oc.CONGESTION),
    (CallSignals(cause=19, sip_code=480, originate_reason=3), oc.NO_ANSWER),
    (CallSignals(cause=17), oc.BUSY),  # no TechCause (older Asterisk)
    (CallSignals(dial_status="BUSY"), oc.BUSY),
    (CallSignals(dial_status="CHANUNAVAIL"), oc.FAILED),
    (CallSignals(originate_reason=3), oc.NO_ANSWER),
    (CallSignals(originate_reason=0), oc.FAILED),  # Reason 0 is no guide (lab.md)
    (CallSignals(), oc.FAILED),
    (CallSignals(answered=True, stage="done", cause=16), oc.COMPLETED),
    (CallSignals(answered=True, stage="cough", cause=16), oc.PARTIAL),
    (CallSignals(answered=True, stage="silent", cause=16), oc.PARTIAL),
    (CallSignals(answered=True, stage="timeout", cause=16), oc.PARTIAL),
])
def test_outcome_is_classified_from_hangup_cause_first(signals, expected):
    assert classify(signals) == expected


def test_sip_code_wins_over_a_contradicting_reason():
    # Asterisk reports 603 Decline with OriginateResponse Reason 0 or 8: the SIP code decides.
    assert classify(CallSignals(cause=21, sip_code=603, originate_reason=8)) == oc.REJECTED


def test_only_trunk_side_failures_count_against_a_trunk():
    assert is_trunk_fault(CallSignals(cause=34, sip_code=503), oc.CONGESTION)
    assert not is_trunk_fault(CallSignals(cause=17, sip_code=486), oc.BUSY)
    assert not is_trunk_fault(CallSignals(cause=1, sip_code=404), oc.INVALID)


@pytest.mark.parametrize("disposition, stage, expected", [
    ("ANSWERED", "done", oc.COMPLETED), ("ANSWERED", "fever", oc.PARTIAL),
    ("BUSY", None, oc.BUSY), ("NO ANSWER", None, oc.NO_ANSWER),
    ("CONGESTION", None, oc.CONGESTION), ("FAILED", None, oc.FAILED),
])
def test_cdr_dispositions_map_to_outcomes(disposition, stage, expected):
    assert classify_cdr(disposition, stage) == expected


T0 = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)  # 10:00 in Vietnam
POLICY = RetryPolicy.from_settings(Settings())


@pytest.mark.parametrize("history, delay", [
    (["busy"], 900), (["no_answer"], 3600), (["congestion"], 300),
    (["congestion", "congestion"], 600), (["congestion"] * 3, 1200),
    (["partial"], 1800), (["rejected"], 7200), (["busy", "no_answer"], 3600),
])
def test_default_retry_delays(history, delay):
    assert POLICY.next_attempt(history, T0) == T0 + timedelta(seconds=delay)


@pytest.mark.parametrize("history", [
    ["completed"], ["invalid_number"], ["partial", "partial"], ["rejected", "rejected"],
    ["busy"] * 4, ["busy", "no_answer", "busy", "congestion"],
])
def test_no_retry_after_final_outcomes_once_only_outcomes_or_the_daily_cap(history):
    assert POLICY.next_attempt(history, T0) is None


def test_congestion_backoff_is_capped():
    policy = RetryPolicy({oc.CONGESTION: 300}, backoff_max=1000, max_attempts=10)
    assert policy.next_attempt(["congestion"] * 5, T0) == T0 + timedelta(seconds=1000)


WINDOW = Window(parse_window("w", "08:00-20:00"), "Asia/Ho_Chi_Minh", close_guard=300)


def local(hour, minute=0):
    return datetime(2026, 11, 30, hour, minute, tzinfo=WINDOW.tz)


@pytest.mark.parametrize("moment, allowed", [
    (local(7, 59), False), (local(8, 0), True), (local(19, 54), True),
    (local(19, 55), False),  # the last 5 minutes: no call starts
    (local(20, 30), False), (local(0, 30), False),
])
def test_calls_start_only_inside_the_window_and_not_in_its_last_minutes(moment, allowed):
    assert WINDOW.may_start(moment) is allowed


def test_window_uses_vietnam_time_not_utc():
    # 01:30 UTC is 08:30 in Ho Chi Minh City.
    assert WINDOW.may_start(datetime(2026, 11, 30, 1, 30, tzinfo=timezone.utc))
    assert (WINDOW.local_day(datetime(2026, 11, 29, 18, 0, tzinfo=timezone.utc))
            == date(2026, 11, 30))


def test_next_start_waits_for_the_opening_and_is_none_after_the_close():
    assert WINDOW.next_start(local(6, 0)) == local(8, 0)
    assert WINDOW.next_start(local(12, 0)) == local(12, 0)
    assert WINDOW.next_start(local(19, 58)) is None


def test_pacer_limits_channels_and_spaces_starts_by_cps():
    pacer = TrunkPacer(max_channels=2, cps=4)
    assert pacer.wait_time(0.0) == 0
    pacer.started(0.0)
    assert pacer.wait_time(0.0) == pytest.approx(0.25)
    pacer.started(0.25)
    assert pacer.wait_time(1.0) == float("inf")  # both channels busy
    pacer.finished()
    assert pacer.wait_time(1.0) == 0  # a freed channel is reusable at once


TRUNKS = (
    Trunk("viettel", "viettel", ("viettel",)),
    Trunk("vnpt", "vnpt", ("vinaphone",), dial_format="e164"),
    Trunk("default", "other"),
)


def test_numbers_go_to_their_carriers_trunk_then_default_then_others():
    router = TrunkRouter(TRUNKS, "default", threshold=2, cooloff=60)
    assert [t.name for t in router.candidates("viettel", 0)] == ["viettel", "default", "vnpt"]
    assert [t.name for t in router.candidates("vinaphone", 0)][0] == "vnpt"
    assert [t.name for t in router.candidates("mobifone", 0)][0] == "default"


def test_a_trunk_that_keeps_failing_is_skipped_until_its_cooloff_ends():
    router = TrunkRouter(TRUNKS, "default", threshold=2, cooloff=60)
    assert not router.report("viettel", True, now=0)
    assert router.report("viettel", True, now=1)
    assert [t.name for t in router.candidates("viettel", 2)][0] == "default"
    assert [t.name for t in router.candidates("viettel", 62)][0] == "viettel"


def test_a_success_resets_the_failure_count():
    router = TrunkRouter(TRUNKS, "default", threshold=2, cooloff=60)
    router.report("viettel", True, 0)
    router.report("viettel", False, 1)
    assert not router.report("viettel", True, 2)


def test_dial_string_follows_the_trunks_number_format():
    number = normalize_phone("0912345678")
    assert dial_string(TRUNKS[0], number) == "PJSIP/0912345678@viettel"
    assert dial_string(TRUNKS[1], number) == "PJSIP/+84912345678@vnpt"
