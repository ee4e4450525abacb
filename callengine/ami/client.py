"""One asyncio AMI connection: login, actions, events and keepalive (no reconnection)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from callengine.ami.errors import (
    AmiActionError,
    AmiAuthError,
    AmiConnectionError,
    AmiNotConnected,
)
from callengine.ami.parser import FrameReader, Message, build_action

Headers = Iterable[tuple[str, str]] | Mapping[str, str]

_BANNER_PREFIX = b"Asterisk Call Manager/"
_READ_CHUNK = 65536
_MAX_FRAME_BYTES = 1 << 20
_CLOSE_GRACE = 1.0


@dataclass
class _Pending:
    action: str
    future: asyncio.Future[Any]
    complete_event: str | None = None
    items: list[Message] = field(default_factory=list)


class AmiClient:
    """A single AMI TCP connection; protocol I/O only."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        on_event: Callable[[Message], None],
        connect_timeout: float = 5.0,
        action_timeout: float = 10.0,
        ping_interval: float = 10.0,
        ping_timeout: float = 5.0,
        logger: logging.Logger | None = None,
        on_response: Callable[[str, float], None] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self._secret = secret
        self._on_event = on_event
        self._connect_timeout = connect_timeout
        self._action_timeout = action_timeout
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._log = logger or logging.getLogger(__name__)
        self._observe_response = on_response  # (action, seconds from sent to answered): metrics
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._pending: dict[str, _Pending] = {}
        self._write_lock = asyncio.Lock()
        self._closed = asyncio.Event()
        self._close_reason: str | None = None
        self._last_rx = 0.0

    @property
    def address(self) -> str:
        """Return 'host:port' for log and error messages."""
        return f"{self.host}:{self.port}"

    @property
    def closed(self) -> bool:
        """Return True once the connection has been closed or lost."""
        return self._closed.is_set()

    @property
    def close_reason(self) -> str | None:
        """Return why the connection ended, or None while it is open."""
        return self._close_reason

    async def connect(self) -> None:
        """Open the TCP connection, check the banner and log in."""
        if self._writer is not None or self.closed:
            raise RuntimeError("AmiClient.connect() can be called only once")
        try:
            await self._open()
            self._start_task(self._read_loop(), "ami-reader")
            await self._login()
        except BaseException as exc:
            # The caller (usually the supervisor) reports connect failures.
            self._abort(f"connect failed: {exc}", level=logging.DEBUG)
            raise
        self._start_task(self._ping_loop(), "ami-ping")

    async def send_action(
        self, name: str, headers: Headers = (), *, action_id: str | None = None
    ) -> Message:
        """Send one action and return its response; never re-sent on failure."""
        response: Message = await self._request(
            name, _pairs(headers), action_id, self._action_timeout
        )
        return response

    async def send_action_collect(
        self, name: str, headers: Headers = (), *, complete_event: str
    ) -> list[Message]:
        """Send a list action and return the events of the list."""
        items: list[Message] = await self._request(
            name, _pairs(headers), None, self._action_timeout, complete_event
        )
        return items

    async def wait_closed(self) -> None:
        """Return when the connection has been closed or lost."""
        await self._closed.wait()

    async def close(self) -> None:
        """Log off best-effort, close the socket and fail pending actions."""
        if not self.closed and self._writer is not None:
            await self._send_logoff(self._writer)
        self._abort("closed by client", level=logging.INFO)
        current = asyncio.current_task()
        others = [task for task in self._tasks if task is not current]
        await asyncio.gather(*others, return_exceptions=True)
        if self._writer is not None:
            try:
                await asyncio.wait_for(self._writer.wait_closed(), _CLOSE_GRACE)
            except (OSError, TimeoutError):
                pass

    async def _open(self) -> None:
        try:
            reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), self._connect_timeout
            )
        except TimeoutError:
            raise AmiConnectionError(
                f"connect to AMI {self.address} timed out after {self._connect_timeout}s"
            ) from None
        except OSError as exc:
            raise AmiConnectionError(f"cannot connect to AMI {self.address}: {exc}") from exc
        banner = await self._read_banner(reader)
        self._reader = reader
        self._last_rx = asyncio.get_running_loop().time()
        self._log.debug("AMI %s banner: %s", self.address, banner)

    async def _read_banner(self, reader: asyncio.StreamReader) -> str:
        try:
            line = await asyncio.wait_for(reader.readline(), self._connect_timeout)
        except TimeoutError:
            raise AmiConnectionError(
                f"no AMI banner from {self.address} within {self._connect_timeout}s"
            ) from None
        except (OSError, ValueError) as exc:
            raise AmiConnectionError(f"reading AMI banner from {self.address}: {exc}") from exc
        text = line.decode("utf-8", errors="replace").strip()
        if not line.startswith(_BANNER_PREFIX):
            received = repr(text[:80]) if line else "end of stream"
            raise AmiConnectionError(f"{self.address} is not an AMI server: received {received}")
        return text

    async def _login(self) -> None:
        headers = [("Username", self.username), ("Secret", self._secret), ("Events", "on")]
        try:
            await self._request("Login", headers, None, self._action_timeout)
        except AmiActionError as exc:
            raise AmiAuthError(self.username, exc.message) from None
        self._log.info("AMI logged in to %s as %s", self.address, self.username)

    async def _request(
        self,
        name: str,
        pairs: list[tuple[str, str]],
        action_id: str | None,
        timeout: float,
        complete_event: str | None = None,
    ) -> Any:
        if self._writer is None or self.closed:
            raise AmiNotConnected(f"AMI connection to {self.address} is not open")
        if any(key.lower() == "actionid" for key, _ in pairs):
            raise ValueError("pass the ActionID with action_id=, not as a header")
        action_id = action_id or uuid.uuid4().hex
        if action_id in self._pending:
            raise ValueError(f"ActionID {action_id!r} is already pending")
        data = build_action(name, [*pairs, ("ActionID", action_id)])
        future = asyncio.get_running_loop().create_future()
        self._pending[action_id] = _Pending(name, future, complete_event)
        self._log.debug("AMI -> %s (ActionID %s)", name, action_id)
        sent = asyncio.get_running_loop().time()
        try:
            response = await asyncio.wait_for(self._write_and_wait(data, future), timeout)
            if self._observe_response is not None:
                self._observe_response(name, asyncio.get_running_loop().time() - sent)
            return response
        except TimeoutError:
            # A missing response means the protocol is out of sync: give up the connection.
            reason = f"no response to {name} within {timeout}s"
            self._abort(reason)
            raise AmiConnectionError(f"AMI {self.address}: {reason}") from None
        finally:
            self._pending.pop(action_id, None)

    async def _write_and_wait(self, data: bytes, future: asyncio.Future[Any]) -> Any:
        async with self._write_lock:
            # If the connection died meanwhile, `future` already holds the error.
            if not self.closed and self._writer is not None:
                try:
                    self._writer.write(data)
                    await self._writer.drain()
                except OSError as exc:
                    self._abort(f"write failed: {exc}")
        return await future

    async def _send_logoff(self, writer: asyncio.StreamWriter) -> None:
        async def send() -> None:
            async with self._write_lock:
                writer.write(build_action("Logoff", ()))
                await writer.drain()

        # Bounded: another writer may hold the lock while stuck on a peer that stopped reading.
        try:
            await asyncio.wait_for(send(), _CLOSE_GRACE)
        except (OSError, TimeoutError):
            pass

    async def _read_loop(self) -> None:
        assert self._reader is not None
        try:
            await self._read_forever(self._reader)
        except OSError as exc:
            self._abort(f"read failed: {exc}")
        except Exception:
            self._log.exception("AMI reader for %s crashed", self.address)
            self._abort("internal error in the AMI reader")

    async def _read_forever(self, reader: asyncio.StreamReader) -> None:
        loop = asyncio.get_running_loop()
        frames = FrameReader(_MAX_FRAME_BYTES)
        while not self.closed:
            data = await reader.read(_READ_CHUNK)
            if not data:
                self._abort("connection closed by peer")
                return
            self._last_rx = loop.time()
            result = frames.feed(data)
            for error in result.errors:
                self._log.warning("garbage AMI frame skipped: %s", error.reason)
            for message in result.messages:
                self._dispatch(message)

    def _dispatch(self, message: Message) -> None:
        action_id = message.action_id
        pending = self._pending.get(action_id) if action_id else None
        if message.kind == "response":
            self._on_response(message, pending)
        elif message.kind == "event":
            if pending is not None and pending.complete_event is not None:
                self._on_list_event(message, pending)
            else:
                self._deliver(message)
        else:
            first = message.headers[0][0] if message.headers else ""
            self._log.warning("AMI frame starting with %r (neither event nor response) skipped",
                              first)

    def _on_response(self, message: Message, pending: _Pending | None) -> None:
        if pending is None or pending.future.done():
            self._log.debug("AMI response for unknown ActionID %r dropped", message.action_id)
            return
        if message.name.lower() == "error":
            error = AmiActionError(pending.action, message.get("Message") or "", message)
            self._resolve(message, pending, error=error)
        elif pending.complete_event is None:
            self._resolve(message, pending, result=message)

    def _on_list_event(self, message: Message, pending: _Pending) -> None:
        assert pending.complete_event is not None
        if message.name.lower() == pending.complete_event.lower():
            self._resolve(message, pending, result=pending.items)
        else:
            pending.items.append(message)

    def _resolve(
        self,
        message: Message,
        pending: _Pending,
        *,
        result: Any = None,
        error: Exception | None = None,
    ) -> None:
        self._pending.pop(message.action_id or "", None)
        if error is not None:
            pending.future.set_exception(error)
        else:
            pending.future.set_result(result)

    def _deliver(self, message: Message) -> None:
        try:
            self._on_event(message)
        except Exception:
            self._log.exception("AMI on_event callback failed on %s event", message.name)

    async def _ping_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.closed:
            idle = loop.time() - self._last_rx
            if idle < self._ping_interval:
                await asyncio.sleep(self._ping_interval - idle)
                continue
            try:
                await self._request("Ping", [], None, self._ping_timeout)
            except AmiActionError:
                pass  # any answer proves the peer is alive
            except AmiConnectionError:
                return  # _request has already closed the connection

    def _start_task(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=f"{name} {self.address}"))

    def _abort(self, reason: str, *, level: int = logging.WARNING) -> None:
        """Mark the connection dead, fail pending actions and stop the tasks."""
        if self.closed:
            return
        self._close_reason = reason
        self._closed.set()
        self._log.log(level, "AMI connection to %s closed: %s", self.address, reason)
        pending, self._pending = self._pending, {}
        for item in pending.values():
            if not item.future.done():
                item.future.set_exception(AmiConnectionError(
                    f"AMI connection to {self.address} lost while waiting for the "
                    f"{item.action} response ({reason}); the action was not re-sent"
                ))
        if self._writer is not None:
            self._writer.close()
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()


def _pairs(headers: Headers) -> list[tuple[str, str]]:
    if isinstance(headers, Mapping):
        return list(headers.items())
    return list(headers)
