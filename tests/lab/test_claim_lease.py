"""An engine dies between its claim and its Originate: after the claim lease, and only then,
another server's engine calls that person, exactly once (issue #11).

The first engine runs with the test hook CALLENGINE_FAULT=exit-after-claim: its process
exits (code 70) right after its first claim commits. The carrier's read-only AMI user
(the observer) counts the calls that really reach the carrier.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

import pytest

from callengine.ami.client import AmiClient
from callengine.dialer.records import NEVER_DIALLED

pytestmark = pytest.mark.lab

RESIDENT = "+84912000311"
KEYS = ["1", "2", "1", "2", "2", "2"]
LEASE = 8


class CarrierObserver:
    """The carrier Asterisk's Newchannel events, read in a thread of its own."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.channels: list[dict[str, str]] = []
        self.hangups: dict[str, float] = {}  # carrier channel uniqueid -> monotonic
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._watch()), daemon=True)

    def __enter__(self) -> CarrierObserver:
        self._thread.start()
        assert self._ready.wait(15), "the carrier's observer AMI user did not log in"
        return self

    def __exit__(self, *exc) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _on_event(self, message) -> None:
        if message.name == "Newchannel":
            self.channels.append({**dict(message.headers), "seen": f"{time.monotonic():.3f}"})
        elif message.name == "Hangup":
            self.hangups[message.get("Uniqueid") or ""] = time.monotonic()

    def intervals(self, phone: str) -> list[tuple[float, float]]:
        """(seen, hung up) of each call to the phone on the carrier (inf: still up)."""
        return [(float(c["seen"]), self.hangups.get(c.get("Uniqueid", ""), float("inf")))
                for c in self.calls_to(phone)]

    async def _watch(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        client = AmiClient("127.0.0.1", self.port, "observer", "observer",
                           on_event=self._on_event)
        await client.connect()
        self._ready.set()
        await self._stop.wait()
        await client.close()

    def calls_to(self, phone: str) -> list[dict[str, str]]:
        national = "0" + phone.removeprefix("+84")
        return [c for c in self.channels
                if c.get("Exten") in (phone, national, phone.lstrip("+"))]


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_claim_never_dialled_is_dialled_by_another_engine_once_after_the_lease(
        lab_run, engine_processes):
    lab = lab_run.lab
    lab_run.scenario({"residents": {RESIDENT: {"answer_after": 1, "keys": KEYS}}})
    lab_run.call(RESIDENT)
    env = {**lab_run.env, "CALLENGINE_CLAIM_LEASE": str(LEASE)}
    shift = lab_run.clock.shift

    with CarrierObserver(lab.ports.carrier_ami) as carrier:
        dying = engine_processes.start({**env, "CALLENGINE_SERVER_ID": "engine-dies",
                                        "CALLENGINE_FAULT": "exit-after-claim"}, shift=shift)
        assert dying.wait(60) == 70, engine_processes.log_of(dying)
        [claim] = lab_run.attempts(RESIDENT)
        assert (claim.server_id, claim.state) == ("engine-dies", "claimed")
        living = engine_processes.start({**env, "CALLENGINE_SERVER_ID": "engine-lives"},
                                        "--until-idle", shift=shift)
        assert living.wait(150) == 0, engine_processes.log_of(living)
        wait_for(lambda: carrier.calls_to(RESIDENT), 10, "the carrier to see the call")
        time.sleep(1)  # any second call would show up too

    leased, dialled = lab_run.attempts(RESIDENT)
    assert leased.id == claim.id and leased.outcome == "failed"
    assert leased.detail.startswith(f"{NEVER_DIALLED} (server engine-dies)")
    assert leased.ended_at - leased.created_at >= timedelta(seconds=LEASE - 1)  # the lease ran
    assert (dialled.server_id, dialled.outcome) == ("engine-lives", "completed")
    assert dialled.created_at >= leased.ended_at  # dialled only after the lease gave it back
    assert len(carrier.calls_to(RESIDENT)) == 1, carrier.channels  # one call reached them
    assert lab_run.task(RESIDENT).attempts == 1  # the claim never dialled is not a try
