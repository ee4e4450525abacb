"""AMI faults injected between the engine and the real pbx: a cut connection, garbage frames.

A small TCP proxy sits in front of the lab's AMI port. It drops every connection mid-call and
pushes malformed frames; the engine must reconnect, reconcile, lose no answer and place no
second call.
"""

from __future__ import annotations

import asyncio

import pytest

from callengine.app import build_engine, run_engine

pytestmark = pytest.mark.lab

PHONE = "+84912000401"
KEYS = ["2", "1", "2", "2", "2", "2"]


class AmiProxy:
    def __init__(self, target_port: int):
        self.target_port = target_port
        self.writers: list[asyncio.StreamWriter] = []
        self.connections = 0
        self.originates = 0
        self.server = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _client(self, reader, writer):
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers += [writer, up_writer]
        await asyncio.gather(self._pipe(reader, up_writer, count=True),
                             self._pipe(up_reader, writer), return_exceptions=True)

    async def _pipe(self, reader, writer, count=False):
        try:
            while data := await reader.read(65536):
                if count:
                    self.originates += data.count(b"Action: Originate")
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    def garbage(self):
        for writer in self.writers[::2]:  # towards the engine
            writer.write(b"this is not AMI\r\nat all\r\n\r\nEvent: \x00\xff\r\n\r\n")

    def drop(self):
        for writer in self.writers:
            writer.transport.abort()
        self.writers.clear()


def test_a_cut_ami_connection_mid_call_loses_nothing_and_dials_once(lab_run):
    lab_run.scenario({"residents": {PHONE: {"answer_after": 1, "keys": KEYS}}})
    lab_run.call(PHONE)

    async def scenario():
        proxy = AmiProxy(lab_run.lab.ports.pbx_ami)
        port = await proxy.start()
        engine = build_engine(lab_run.settings(CALLENGINE_AMI_PORT=str(port),
                                               CALLENGINE_AMI_PING_INTERVAL="1"),
                              db=lab_run.db, clock=lab_run.clock)
        running = asyncio.create_task(run_engine(engine, until_idle=True))
        while "fever" not in await asyncio.to_thread(lab_run.answers, PHONE):
            await asyncio.sleep(0.3)
        proxy.garbage()
        await asyncio.sleep(0.5)
        proxy.drop()  # mid-survey: the next answers are given while the engine is cut off
        await asyncio.sleep(6)
        await asyncio.wait_for(running, 180)
        return proxy

    proxy = asyncio.run(scenario())
    assert proxy.connections >= 2  # it reconnected
    assert proxy.originates == 1  # and never re-sent the Originate
    [attempt] = lab_run.attempts(PHONE)
    assert attempt.outcome == "completed"
    assert {q: v for q, (v, _) in lab_run.answers(PHONE).items()} == {
        "fever": "no", "cough": "yes", "breath": "no", "throat": "no", "taste_smell": "no",
        "fatigue": "no"}


