"""An engine whose Asterisk becomes unreachable ends its own live call after
server_down_grace; another server's engine then calls the person, never while the first
call is up; when the AMI comes back, reconcile does not bring the ended attempt back.

The engine reaches the pbx's AMI through a TCP relay of the test, cut to make the AMI
unreachable for that engine alone (fault injection on top of the real lab).
"""

from __future__ import annotations

import time

import pytest

from tests.lab.relay import TcpRelay
from tests.lab.test_claim_lease import CarrierObserver, wait_for

pytestmark = pytest.mark.lab

RESIDENT = "+84912000321"  # never answers: each call rings out in Asterisk (ring timeout)
GRACE = 8


def test_asterisk_unreachable_past_the_grace_ends_the_call_and_another_engine_calls(
        lab_run, engine_processes):
    lab = lab_run.lab
    lab_run.scenario({"residents": {RESIDENT: "no_answer"}})
    lab_run.call(RESIDENT)
    env = {**lab_run.env, "CALLENGINE_SERVER_DOWN_GRACE": str(GRACE),
           "CALLENGINE_MAX_ATTEMPTS_PER_DAY": "2", "CALLENGINE_RING_TIMEOUT": "6",
           "CALLENGINE_SPEECH": "0"}  # two engines on one lab: no FastAGI port to share
    shift = lab_run.clock.shift
    relay = TcpRelay(lab.ports.pbx_ami)
    relay.restore()
    try:
        with CarrierObserver(lab.ports.carrier_ami) as carrier:
            cut_off = engine_processes.start(
                {**env, "CALLENGINE_SERVER_ID": "engine-cut-off",
                 "CALLENGINE_AMI_PORT": str(relay.port)}, shift=shift)
            wait_for(lambda: carrier.calls_to(RESIDENT), 60, "the first call to ring")
            relay.cut()
            cut_at = time.monotonic()
            wait_for(lambda: lab_run.attempts(RESIDENT)[0].state == "ended", GRACE + 20,
                     "the cut-off engine to end its call")
            assert time.monotonic() - cut_at >= GRACE - 1  # not before the grace
            other = engine_processes.start({**env, "CALLENGINE_SERVER_ID": "engine-other"},
                                           "--until-idle", shift=shift)
            assert other.wait(120) == 0, engine_processes.log_of(other)
            def reconnects() -> int:
                return engine_processes.log_of(cut_off).count("AMI connected after")

            before = reconnects()
            relay.restore()  # the cut-off engine's Asterisk is back
            wait_for(lambda: reconnects() > before, 90, "the cut-off engine to reconnect")
            time.sleep(3)
            calls = carrier.intervals(RESIDENT)
    finally:
        relay.close()

    first, second = lab_run.attempts(RESIDENT)
    assert (first.server_id, first.state, first.outcome) == ("engine-cut-off", "ended",
                                                             "failed")
    assert first.detail.startswith("Asterisk of server engine-cut-off unreachable for ")
    assert first.detail.endswith("s: call presumed lost")  # and not resurrected by reconcile
    assert (second.server_id, second.outcome) == ("engine-other", "no_answer")
    assert second.created_at >= first.ended_at
    assert len(calls) == 2, calls
    (_, first_down), (second_up, _) = sorted(calls)
    assert first_down <= second_up  # never a second call while the first is up
    assert lab_run.task(RESIDENT).status == "exhausted"
