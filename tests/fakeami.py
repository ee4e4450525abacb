"""Fault-injection fake AMI server for tests.

It only exists to inject faults (drops, garbage, silence, auth failures) that a
real Asterisk will not produce on demand; it is not a replacement for one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from callengine.ami.parser import Message

# Returned by an on_action hook: close the connection without replying.
DROP = object()

ActionHook = Callable[[Message], "list[bytes] | object | None"]


def frame(*headers: tuple[str, str]) -> bytes:
    """Build one raw CRLF-framed AMI frame from (key, value) pairs."""
    return "".join(f"{key}: {value}\r\n" for key, value in headers).encode() + b"\r\n"


def response(action: Message, result: str = "Success", **extra: str) -> bytes:
    """Build a response frame carrying the ActionID of `action`."""
    headers = [("Response", result), ("ActionID", action.action_id or "")]
    return frame(*headers, *extra.items())


class FakeAmi:
    """A tiny AMI server on 127.0.0.1 that records actions and misbehaves on request."""

    DROP = DROP

    def __init__(
        self,
        *,
        secret: str = "secret",
        banner: bytes = b"Asterisk Call Manager/9.0.0\r\n",
        on_action: ActionHook | None = None,
    ) -> None:
        self.secret = secret
        self.banner = banner
        self.on_action = on_action
        self.mute_pings = False
        self.port = 0
        self.received: list[Message] = []
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        """Listen on 127.0.0.1 (a free port the first time, the same one after)."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close every connection."""
        if self._server is not None:
            self._server.close()
            await self.drop()
            await self._server.wait_closed()
            self._server = None

    async def push(self, raw: bytes) -> None:
        """Send raw bytes to every connected client."""
        for writer in list(self._writers):
            writer.write(raw)
            await writer.drain()

    async def drop(self) -> None:
        """Close every current connection abruptly."""
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()
        await asyncio.sleep(0)

    def actions(self, name: str) -> list[Message]:
        """Return the received actions named `name` across all connections."""
        return [m for m in self.received if (m.get("Action") or "").lower() == name.lower()]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        try:
            writer.write(self.banner)
            await self._serve(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            action = _parse(await reader.readuntil(b"\r\n\r\n"))
            self.received.append(action)
            reply = self._reply(action)
            if reply is DROP:
                return
            assert isinstance(reply, list)
            for raw in reply:
                writer.write(raw)
            await writer.drain()
            if (action.get("Action") or "").lower() == "logoff":
                return

    def _reply(self, action: Message) -> list[bytes] | object:
        if self.on_action is not None:
            custom = self.on_action(action)
            if custom is not None:
                return custom
        name = (action.get("Action") or "").lower()
        if name == "login":
            return self._login(action)
        if name == "ping":
            return [] if self.mute_pings else [response(action, Ping="Pong")]
        if name == "logoff":
            return [response(action, "Goodbye", Message="Thanks for all the fish.")]
        return [response(action)]

    def _login(self, action: Message) -> list[bytes]:
        if action.get("Secret") != self.secret:
            return [response(action, "Error", Message="Authentication failed")]
        booted = frame(
            ("Event", "FullyBooted"), ("Privilege", "system,all"), ("Status", "Fully Booted")
        )
        return [response(action, Message="Authentication accepted"), booted]


def _parse(raw: bytes) -> Message:
    # Deliberately independent of callengine.ami.parser, which is under test.
    lines = raw.decode("utf-8", errors="replace").split("\r\n")
    pairs = [line.partition(": ") for line in lines if line]
    return Message(tuple((key, value) for key, _, value in pairs))
