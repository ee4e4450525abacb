"""A TCP relay a lab test puts between Asterisk and the engine (AMI or FastAGI) to inject
faults on top of the real lab: cut the link, or hold the first reply for a while."""

from __future__ import annotations

import asyncio
import threading


class TcpRelay:
    """127.0.0.1:<port> relayed to 127.0.0.1:<target>, until cut (connections closed, none
    accepted); restore() listens again on the same port.

    hold_first_reply: seconds the first connection's first bytes from the target wait before
    they are passed on (a FastAGI reply that comes late, as from busy recognition workers).
    """

    def __init__(self, target: int, hold_first_reply: float = 0.0) -> None:
        self.target = target
        self.hold_first_reply = hold_first_reply
        self.port = 0
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _pipe(self, reader, writer, hold: float = 0.0) -> None:
        try:
            while data := await reader.read(65536):
                if hold:
                    await asyncio.sleep(hold)
                    hold = 0.0
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _accept(self, reader, writer) -> None:
        self.connections += 1
        hold = self.hold_first_reply if self.connections == 1 else 0.0
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer),
                             self._pipe(up_reader, writer, hold))

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        if self._server is not None:
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
