"""An asyncio FastAGI server: one connection per AGI() call, routed to a handler by script."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from typing import Awaitable, Callable, Iterable, Mapping, Sequence

from callengine.agi import protocol
from callengine.agi.protocol import AgiProtocolError, AgiRequest

log = logging.getLogger("callengine.agi")
HEADER_TIMEOUT = 5.0
REPLY_TIMEOUT = 5.0
LOOPBACK = ("127.0.0.1", "::1")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(peers: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or networks ("10.0.0.5", "10.0.0.0/24") as networks; ValueError if not."""
    return tuple(ipaddress.ip_network(peer.strip(), strict=False) for peer in peers)


def peer_allowed(address: str, allowed: Sequence[Network]) -> bool:
    """Whether a peer address (IPv4, IPv6 or IPv4-mapped IPv6) is in one of the networks."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in allowed)


class AgiSession:
    """Commands to the channel of one AGI() call."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.hung_up = False

    async def _read_line(self, timeout: float) -> str:
        raw = await asyncio.wait_for(self._reader.readline(), timeout)
        if not raw:
            raise ConnectionResetError("AGI peer closed the connection")
        return raw.decode("utf-8", "replace").rstrip("\r\n")

    async def command(self, line: str) -> tuple[int, int | None]:
        """Send one command; (code, result) of its reply (511 once the channel hung up)."""
        self._writer.write(line.encode("utf-8") + b"\n")
        await self._writer.drain()
        while True:
            code, result = protocol.parse_reply(await self._read_line(REPLY_TIMEOUT))
            if code == 511 and result is None:  # the HANGUP notice; the reply follows
                self.hung_up = True
                continue
            return code, result

    async def set_variable(self, name: str, value: str) -> bool:
        code, result = await self.command(protocol.set_variable(name, value))
        return code == 200 and result == 1


Handler = Callable[[AgiRequest, AgiSession], Awaitable[None]]


class FastAgiServer:
    """Serves AGI() calls from the allowed peers (Asterisk), at most max_connections at once."""

    def __init__(self, host: str, port: int, handlers: Mapping[str, Handler], *,
                 allowed_peers: Iterable[str] = LOOPBACK, max_connections: int = 32) -> None:
        self.host = host
        self.port = port
        self.handlers = dict(handlers)
        self.allowed = networks(allowed_peers)
        self.max_connections = max_connections
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[asyncio.Task] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port,
                                                  limit=protocol.MAX_LINE)
        log.info("FastAGI listening on %s:%d", self.host, self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        # Connections end before wait_closed(): from Python 3.12 it waits for them.
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def _refused(self, writer: asyncio.StreamWriter) -> str | None:
        """Why a new connection is closed at once, or None to serve it."""
        peer = writer.get_extra_info("peername")
        address = str(peer[0]) if peer else ""
        if not peer_allowed(address, self.allowed):
            return f"peer {address or '?'} is not an allowed Asterisk address (agi_allowed_peers)"
        if len(self._connections) >= self.max_connections:
            return f"{self.max_connections} connections already open (agi_max_connections)"
        return None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        refusal = self._refused(writer)
        if refusal is not None:
            log.warning("AGI connection refused: %s", refusal)
            writer.close()
            return
        task = asyncio.current_task()
        assert task is not None  # asyncio runs each connection in its own task
        self._connections.add(task)
        try:
            request = await asyncio.wait_for(_read_header(reader), HEADER_TIMEOUT)
            handler = self.handlers.get(request.script)
            if handler is None:
                log.warning("AGI script %r is unknown; known: %s", request.script[:40],
                            ", ".join(sorted(self.handlers)))
                return
            await handler(request, AgiSession(reader, writer))
        except (TimeoutError, AgiProtocolError, ValueError, ConnectionError) as exc:
            log.warning("AGI connection dropped: %s", exc or type(exc).__name__)
        except Exception:
            log.exception("AGI handler failed")
        finally:
            self._connections.discard(task)
            writer.close()


async def _read_header(reader: asyncio.StreamReader) -> AgiRequest:
    lines: list[str] = []
    while True:
        try:
            raw = await reader.readline()
        except ValueError:  # asyncio: a line over the reader's limit
            raise AgiProtocolError("AGI header line too long") from None
        if not raw:
            raise AgiProtocolError("connection closed before the AGI header ended")
        if not raw.endswith(b"\n"):
            raise AgiProtocolError("AGI header line too long")
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            return protocol.parse_header(lines)
        lines.append(line)
        if len(lines) > protocol.MAX_HEADER_LINES:
            raise AgiProtocolError("AGI header has too many lines")
