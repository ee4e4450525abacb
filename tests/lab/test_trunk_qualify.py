"""A trunk whose carrier stops answering SIP OPTIONS leaves rotation, and comes back.

Already dead when the engine connects: the engine reads it from Asterisk's device states
(DeviceStateList: PJSIP/viettel UNAVAILABLE; the AMI user has no system write) and the
first call falls back at once. Dying while the engine runs: DeviceStateChange and
ContactStatus events take it out within the qualify interval.

How the carrier "stops answering": the pbx's viettel aor is re-pointed (lab.point_trunk:
its pjsip.conf rewritten, `module reload res_pjsip.so`) to a UDP socket this test holds,
which reads every packet and never answers. On the wire that is exactly a dead carrier
SBC: Asterisk's OPTIONS get no reply, its qualify times out and it raises ContactStatus
Unreachable; the engine is told by Asterisk, not by the test. Re-pointing back to the
carrier makes OPTIONS answered again (Reachable). The socket also proves that no call was
sent to the dead trunk: it receives OPTIONS only, never an INVITE. Which trunk each call
came in on is read on the carrier itself (its observer AMI: the From user of the call is
the pbx endpoint's from_user), beside the attempt's trunk in the database.
"""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from callengine.ami import actions
from callengine.ami.client import AmiClient
from callengine.app import build_engine, run_engine
from callengine.lab.lab import QUALIFY
from tests.lab.conftest import LabRun

pytestmark = pytest.mark.lab

VIETTEL_BEFORE, VIETTEL_AFTER = "+84987000311", "+84987000312"
# Qualify's own delay (an OPTIONS every frequency s, each given timeout s) and a little
# slack for the event's trip to the engine.
OUT_WITHIN = QUALIFY.frequency + QUALIFY.timeout + 1.0


async def wait_for(condition, timeout: float, what: str) -> float:
    """Seconds until condition() is true; fails the test after timeout."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            pytest.fail(f"not within {timeout:g} s: {what}")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


class CarrierCalls:
    """Calls arriving at the carrier, as (from user, dialled number), from its observer AMI."""

    def __init__(self, port: int):
        self.seen: list[tuple[str, str]] = []
        self.client = AmiClient("127.0.0.1", port, "observer", "observer",
                                on_event=self._event)

    def _event(self, message) -> None:
        if message.name == "Newchannel" and message.get("Exten") not in (None, "", "s"):
            self.seen.append((message.get("CallerIDNum") or "", message.get("Exten") or ""))


def packets(sock: socket.socket) -> list[bytes]:
    found = []
    while True:
        try:
            found.append(sock.recv(65535))
        except BlockingIOError:
            return found


async def pbx_device_state(settings, endpoint: str) -> str | None:
    """The pbx's device state of PJSIP/<endpoint>, asked as the engine's AMI user."""
    client = AmiClient(settings.ami_host, settings.ami_port, settings.ami_username,
                       settings.ami_secret, on_event=lambda message: None)
    await client.connect()
    try:
        items = await actions.device_state_list(client)
    finally:
        await client.close()
    return next((m.get("State") for m in items if m.get("Device") == f"PJSIP/{endpoint}"),
                None)


async def scenario(run: LabRun, blackhole: socket.socket) -> None:
    lab = run.lab
    settings = run.settings(CALLENGINE_MAX_ATTEMPTS_PER_DAY="1")
    engine = build_engine(settings, db=run.db, clock=run.clock)
    health = engine.dialer.health
    carrier = CarrierCalls(lab.ports.carrier_ami)
    await carrier.client.connect()
    # viettel's carrier is dead before the engine connects.
    await asyncio.to_thread(lab.point_trunk, "viettel", blackhole.getsockname()[1])
    deadline = time.monotonic() + OUT_WITHIN + 5
    while await pbx_device_state(settings, "viettel") != "UNAVAILABLE":
        assert time.monotonic() < deadline, "the pbx never found viettel unreachable"
        await asyncio.sleep(0.2)
    stop = asyncio.Event()
    running = asyncio.create_task(run_engine(engine, until_idle=False, stop=stop))
    try:
        # At connect the engine asks Asterisk (DeviceStateList): viettel out at once.
        await wait_for(lambda: health.device_state("viettel") is not None, 15,
                       "the engine reads the device states at connect")
        assert health.unavailable() == {"viettel"}
        assert health.device_state("other") == "NOT_INUSE"

        await asyncio.to_thread(run.call, VIETTEL_BEFORE)
        await wait_for(lambda: ended(run, VIETTEL_BEFORE), 40, "the first call ends")

        await asyncio.to_thread(lab.point_trunk, "viettel", None)
        await wait_for(lambda: not health.unavailable(), OUT_WITHIN + 5,
                       "viettel back in rotation")
        await asyncio.to_thread(run.call, VIETTEL_AFTER)
        await wait_for(lambda: ended(run, VIETTEL_AFTER), 40, "the second call ends")

        # Dying while the engine runs: out within the qualify interval, from events.
        start = time.monotonic()
        await asyncio.to_thread(lab.point_trunk, "viettel", blackhole.getsockname()[1])
        repointed = time.monotonic() - start
        took = repointed + await wait_for(lambda: "viettel" in health.unavailable(),
                                          OUT_WITHIN + 5, "viettel out of rotation")
        print(f"(re-pointing the aor took {repointed:.1f} s of it)")
        assert took <= OUT_WITHIN + repointed, f"viettel left rotation after {took:.1f} s"
        print(f"viettel out of rotation {took:.1f} s after its contact stopped answering")
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
        await carrier.client.close()
        await asyncio.to_thread(lab.point_trunk, "viettel", None)

    # The call for viettel went to the fallback while viettel was out, to viettel after.
    assert [(a.trunk, a.outcome) for a in run.attempts(VIETTEL_BEFORE)] == [
        ("default", "partial")]
    assert [(a.trunk, a.outcome) for a in run.attempts(VIETTEL_AFTER)] == [
        ("viettel", "partial")]
    # The carrier saw them come in on those trunks (pbx endpoints 'other' and 'viettel').
    assert carrier.seen == [("other", "0987000311"), ("viettel", "0987000312")]
    # The dead contact was asked OPTIONS and never sent a call.
    sent = packets(blackhole)
    assert sent and all(p.startswith(b"OPTIONS ") for p in sent)


def ended(run: LabRun, phone: str) -> bool:
    return any(a.ended_at is not None for a in run.attempts(phone))


def test_a_trunk_that_stops_answering_options_is_skipped_then_used_again(lab, tmp_path):
    run = LabRun(lab, tmp_path)
    run.scenario({"default": {"answer_after": 0, "hangup_after": 1}})
    blackhole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blackhole.bind(("127.0.0.1", 0))
    blackhole.setblocking(False)
    try:
        asyncio.run(scenario(run, blackhole))
    finally:
        blackhole.close()
        run.close()
