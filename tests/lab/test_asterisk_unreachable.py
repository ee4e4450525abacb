"""An engine whose Asterisk becomes unreachable ends its own live call after
server_down_grace; another server's engine then calls the person, never while the first
call is up; when the AMI comes back, reconcile does not bring the ended attempt back.

The engine reaches the pbx's AMI through a TCP relay of the test, cut to make the AMI
unreachable for that engine alone (fault injection on top of the real lab).
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from tests.lab.test_claim_lease import CarrierObserver, wait_for

pytestmark = pytest.mark.lab

RESIDENT = "+84912000321"  # never answers: each call rings out in Asterisk (ring timeout)
GRACE = 8


class AmiRelay:
    """127.0.0.1:<port> relayed to the pbx's AMI, until cut (connections closed, none
    accepted); restore() listens again on the same port."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _pipe(self, reader, writer) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _accept(self, reader, writer) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()

    def restore(self) -> None:
        self._call(self._listen())

    def cut(self) -> None:
        self._call(self._cut())

    async def _close(self) -> None:
        await self._cut()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def close(self) -> None:
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def test_asterisk_unreachable_past_the_grace_ends_the_call_and_another_engine_calls(
        lab_run, engine_processes):
    lab = lab_run.lab
    lab_run.scenario({"residents": {RESIDENT: "no_answer"}})
    lab_run.call(RESIDENT)
    env = {**lab_run.env, "CALLENGINE_SERVER_DOWN_GRACE": str(GRACE),
           "CALLENGINE_MAX_ATTEMPTS_PER_DAY": "2", "CALLENGINE_RING_TIMEOUT": "6",
           "CALLENGINE_SPEECH": "0"}  # two engines on one lab: no FastAGI port to share
    shift = lab_run.clock.shift
    relay = AmiRelay(lab.ports.pbx_ami)
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
