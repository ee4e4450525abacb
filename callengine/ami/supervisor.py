"""Reconnection policy around AmiClient: connect, back off, reconnect, stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from callengine.ami.client import AmiClient
from callengine.ami.errors import AmiAuthError, AmiError, AmiNotConnected


class AmiSupervisor:
    """Keep one AMI connection up until told to stop."""

    def __init__(
        self,
        client_factory: Callable[[], AmiClient],
        *,
        on_connected: Callable[[AmiClient], Awaitable[None]],
        on_disconnected: Callable[[str], None] | None = None,
        initial_delay: float = 0.5,
        max_delay: float = 10.0,
        healthy_after: float = 30.0,
        logger: logging.Logger | None = None,
    ) -> None:
        self._factory = client_factory
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self._initial_delay = initial_delay
        self._max_delay = max_delay
        self._healthy_after = healthy_after  # seconds up (after on_connected) that reset backoff
        self._log = logger or logging.getLogger(__name__)
        self._client: AmiClient | None = None
        self._connected = asyncio.Event()

    @property
    def client(self) -> AmiClient:
        """Return the connected client or raise AmiNotConnected."""
        client = self._client
        if client is None or client.closed:
            raise AmiNotConnected("AMI is not connected")
        return client

    @property
    def connected(self) -> bool:
        """Return True while a logged-in connection is up."""
        return self._client is not None and not self._client.closed

    async def wait_connected(self, timeout: float) -> AmiClient:
        """Wait up to `timeout` seconds for a connection; raise AmiNotConnected."""
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except TimeoutError:
            raise AmiNotConnected(f"AMI not connected after {timeout}s") from None
        return self.client

    async def run(self, stop: asyncio.Event) -> None:
        """Connect and reconnect until `stop` is set, then close and return.

        The delay between attempts doubles up to max_delay, and is reset only by a connection
        that stayed up, past on_connected, for healthy_after seconds: a peer that drops every
        connection (during reconcile, or just after) is retried ever more slowly.
        """
        delay = self._initial_delay
        client: AmiClient | None = None
        try:
            while not stop.is_set():
                client = self._factory()
                uptime = await self._serve(client, stop) if await self._connect(client, delay) \
                    else None
                if stop.is_set():
                    break
                if uptime is not None and uptime >= self._healthy_after:
                    delay = self._initial_delay
                    continue  # reconnect at once after losing a healthy connection
                if uptime is not None:
                    self._log.warning("AMI connection to %s lasted only %.1fs; reconnecting in "
                                      "%gs", client.address, uptime, delay)
                await _sleep_unless_stopped(stop, delay)
                delay = min(delay * 2, self._max_delay)
        finally:
            self._forget_client()
            if client is not None:
                await client.close()

    async def _connect(self, client: AmiClient, delay: float) -> bool:
        try:
            await client.connect()
            return True
        except AmiAuthError as exc:
            level = logging.ERROR
            reason = str(exc)
        except AmiError as exc:
            level = logging.WARNING
            reason = str(exc)
        self._log.log(
            level, "AMI connect to %s failed: %s; retrying in %gs", client.address, reason, delay
        )
        return False

    async def _serve(self, client: AmiClient, stop: asyncio.Event) -> float | None:
        """Run one connection until it closes or stop is set.

        Return the seconds it was up after on_connected, or None if on_connected failed.
        """
        self._client = client
        self._connected.set()
        try:
            await self._on_connected(client)
        except Exception:
            if client.closed:
                self._lost(client, stop, "while on_connected ran")
            else:
                self._log.exception("AMI on_connected handler failed; reconnecting")
            self._forget_client()
            await client.close()
            return None
        loop = asyncio.get_running_loop()
        up_since = loop.time()
        await _first_of(client.wait_closed(), stop.wait())
        self._forget_client()
        self._lost(client, stop, "")
        return loop.time() - up_since

    def _lost(self, client: AmiClient, stop: asyncio.Event, when: str) -> None:
        if stop.is_set():
            return
        reason = client.close_reason or "unknown reason"
        self._log.info("AMI connection to %s lost%s (%s)", client.address,
                       f" {when}" if when else "", reason)
        self._notify_disconnected(reason)

    def _notify_disconnected(self, reason: str) -> None:
        if self._on_disconnected is None:
            return
        try:
            self._on_disconnected(reason)
        except Exception:
            self._log.exception("AMI on_disconnected handler failed")

    def _forget_client(self) -> None:
        self._client = None
        self._connected.clear()


async def _sleep_unless_stopped(stop: asyncio.Event, delay: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), delay)
    except TimeoutError:
        pass


async def _first_of(*aws: Awaitable[object]) -> None:
    tasks = [asyncio.ensure_future(aw) for aw in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
