"""The FastAGI server against a TCP client that behaves like Asterisk."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable

from callengine.agi import server as agi_server
from callengine.agi.protocol import AgiRequest
from callengine.agi.server import AgiSession, FastAgiServer

ATTEMPT = "5b0f8a52-6f1e-4c1b-9a57-2f0d3c9e7a10"


def run(test: Callable[[], Awaitable[None]], timeout: float = 10.0) -> None:
    asyncio.run(asyncio.wait_for(test(), timeout))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def header(script: str = "recognize", args: tuple[str, ...] | None = None,
           attempt: str = ATTEMPT) -> bytes:
    args = (attempt, "fever", "1") if args is None else args
    lines = ["agi_network: yes", f"agi_network_script: {script}",
             f"agi_request: agi://127.0.0.1/{script}", "agi_channel: PJSIP/viettel-00000001",
             f"agi_uniqueid: {attempt}", "agi_version: 22.5.2", "agi_context: callengine-listen"]
    lines += [f"agi_arg_{i}: {value}" for i, value in enumerate(args, 1)]
    return ("\n".join(lines) + "\n\n").encode()


class Recorder:
    """A handler that sets CE_HEARD and remembers what it saw."""

    def __init__(self, value: str = "1") -> None:
        self.value = value
        self.requests: list[AgiRequest] = []
        self.results: list[tuple[bool, bool]] = []  # (set_variable's result, hung_up)

    async def __call__(self, request: AgiRequest, session: AgiSession) -> None:
        self.requests.append(request)
        ok = await session.set_variable("CE_HEARD", self.value)
        self.results.append((ok, session.hung_up))


async def started(handlers) -> FastAgiServer:
    server = FastAgiServer("127.0.0.1", free_port(), handlers)
    await server.start()
    return server


@contextlib.asynccontextmanager
async def serving(handlers):
    """A started server, closed when the block ends."""
    server = await started(handlers)
    try:
        yield server
    finally:
        await server.close()


async def connect(server: FastAgiServer):
    return await asyncio.open_connection("127.0.0.1", server.port)


async def rest(reader: asyncio.StreamReader, timeout: float = 3.0) -> bytes:
    """Everything the server still sends until it closes the connection."""
    data = b""
    try:
        while chunk := await asyncio.wait_for(reader.read(4096), timeout):
            data += chunk
    except ConnectionResetError:
        pass
    return data


async def asterisk_call(server: FastAgiServer, reply: bytes = b"200 result=1\n",
                        script: str = "recognize",
                        attempt: str = ATTEMPT) -> tuple[bytes, bytes]:
    """One AGI() call as Asterisk makes it: (the command line received, what came after)."""
    reader, writer = await connect(server)
    writer.write(header(script, attempt=attempt))
    await writer.drain()
    command = await asyncio.wait_for(reader.readline(), 3)
    if command:
        writer.write(reply)
        await writer.drain()
    after = await rest(reader)
    writer.close()
    return command, after


def test_the_handler_gets_the_request_and_its_command_arrives_quoted():
    async def scenario():
        handler = Recorder(value='say "có"')
        async with serving({"recognize": handler}) as server:
            command, after = await asterisk_call(server)
        assert command == b'SET VARIABLE CE_HEARD "say \\"c\xc3\xb3\\""\n'
        assert after == b""  # one command, then the server hangs up
        [request] = handler.requests
        assert request.script == "recognize"
        assert request.args == (ATTEMPT, "fever", "1")
        assert request.uniqueid == ATTEMPT
        assert handler.results == [(True, False)]
    run(scenario)


def test_an_empty_value_is_sent_as_an_empty_quoted_argument():
    async def scenario():
        async with serving({"recognize": Recorder(value="")}) as server:
            command, _ = await asterisk_call(server)
        assert command == b'SET VARIABLE CE_HEARD ""\n'
    run(scenario)


def test_a_refused_command_is_reported_to_the_handler():
    async def scenario():
        handler = Recorder()
        async with serving({"recognize": handler}) as server:
            await asterisk_call(server, reply=b"510 Invalid or unknown command\n")
        assert handler.results == [(False, False)]
    run(scenario)


def test_an_unknown_script_is_closed_without_a_command():
    async def scenario():
        handler = Recorder()
        async with serving({"recognize": handler}) as server:
            command, after = await asterisk_call(server, script="dial-everyone")
        assert (command, after) == (b"", b"")
        assert handler.requests == []
    run(scenario)


async def closed_without_a_command(server: FastAgiServer, sent: bytes) -> bool:
    reader, writer = await connect(server)
    try:
        writer.write(sent)
        await writer.drain()
    except ConnectionError:
        pass
    data = await rest(reader)
    writer.close()
    return data == b""


def test_a_garbage_header_is_dropped_and_the_next_call_is_served():
    async def scenario():
        handler = Recorder()
        async with serving({"recognize": handler}) as server:
            assert await closed_without_a_command(server, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            command, _ = await asterisk_call(server)
        assert command.startswith(b"SET VARIABLE CE_HEARD")
        assert len(handler.requests) == 1
    run(scenario)


def test_a_header_that_never_ends_times_out_and_the_next_call_is_served(monkeypatch):
    monkeypatch.setattr(agi_server, "HEADER_TIMEOUT", 0.2)

    async def scenario():
        handler = Recorder()
        async with serving({"recognize": handler}) as server:
            # Half a header, and the peer stays connected: the server must not wait forever.
            assert await closed_without_a_command(server, header()[:60])
            command, _ = await asterisk_call(server)
        assert command.startswith(b"SET VARIABLE CE_HEARD")
    run(scenario)


def test_an_over_long_header_line_is_dropped_and_the_next_call_is_served():
    async def scenario():
        handler = Recorder()
        async with serving({"recognize": handler}) as server:
            long_line = b"agi_arg_1: " + b"x" * 10000 + b"\n"
            assert await closed_without_a_command(
                server, b"agi_network_script: recognize\n" + long_line + b"\n")
            command, _ = await asterisk_call(server)
        assert command.startswith(b"SET VARIABLE CE_HEARD")
        assert len(handler.requests) == 1
    run(scenario)


def test_a_header_with_endless_lines_is_dropped():
    async def scenario():
        async with serving({"recognize": Recorder()}) as server:
            lines = b"".join(b"agi_x%d: y\n" % i for i in range(1000))
            assert await closed_without_a_command(server, b"agi_network_script: recognize\n"
                                                  + lines + b"\n")
    run(scenario)


def test_a_hangup_notice_before_the_reply_is_skipped_and_remembered():
    async def scenario():
        handler = Recorder()
        async with serving({"recognize": handler}) as server:
            await asterisk_call(server, reply=b"HANGUP\n200 result=1\n")
        assert handler.results == [(True, True)]
    run(scenario)


def test_a_handler_that_fails_does_not_stop_the_server():
    async def scenario():
        async def broken(request, session):
            raise RuntimeError("boom")

        handler = Recorder()
        async with serving({"broken": broken, "recognize": handler}) as server:
            assert await closed_without_a_command(server, header("broken"))
            command, _ = await asterisk_call(server)
        assert command.startswith(b"SET VARIABLE CE_HEARD")
    run(scenario)


def test_close_ends_open_connections():
    async def scenario():
        entered = asyncio.Event()
        cancelled = []

        async def waits_forever(request, session):
            entered.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.append(request.script)
                raise

        server = await started({"recognize": waits_forever})
        reader, writer = await connect(server)
        writer.write(header())
        await writer.drain()
        idle_reader, idle_writer = await connect(server)  # connected, no header yet
        await asyncio.wait_for(entered.wait(), 3)
        await asyncio.wait_for(server.close(), 3)
        assert await rest(reader) == b""
        assert await rest(idle_reader) == b""
        assert cancelled == ["recognize"]
        writer.close()
        idle_writer.close()
        try:  # no new connections after close()
            _, late = await asyncio.open_connection("127.0.0.1", server.port)
        except ConnectionRefusedError:
            pass
        else:
            late.close()
            raise AssertionError("the server still accepts connections after close()")
    run(scenario)


def test_the_engine_refuses_to_start_when_the_agi_port_is_taken():
    from types import SimpleNamespace

    from callengine.app import run_engine
    from callengine.errors import ConfigError

    class Pool:
        closed = False

        def close(self) -> None:
            self.closed = True

    async def scenario():
        taken = await started({"recognize": Recorder()})
        pool = Pool()
        engine = SimpleNamespace(agi=FastAgiServer("127.0.0.1", taken.port, {}),
                                 spoken=SimpleNamespace(pool=pool), metrics=None,
                                 metrics_server=None)
        try:
            try:
                await run_engine(engine, until_idle=True)
            except ConfigError as error:
                message = str(error)
            else:
                raise AssertionError("run_engine started on a port in use")
        finally:
            await taken.close()
        assert "agi_port" in message and str(taken.port) in message and "\n" not in message
        assert pool.closed  # the recognition workers are not left behind
    run(scenario)


# --- who may connect ------------------------------------------------------------------

async def call_from(server: FastAgiServer, source: str) -> bytes:
    """The first command line an AGI() call from the source address gets (b"": refused)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port,
                                                   local_addr=(source, 0))
    try:
        writer.write(header())
        await writer.drain()
    except ConnectionError:
        pass
    try:
        command = await asyncio.wait_for(reader.readline(), 3)
    except ConnectionResetError:  # closed while the header was still unread
        command = b""
    if command:
        writer.write(b"200 result=1\n")
        await writer.drain()
    await rest(reader)
    writer.close()
    return command


def test_a_peer_that_is_not_an_allowed_asterisk_address_gets_nothing():
    async def scenario():
        handler = Recorder()
        server = FastAgiServer("127.0.0.1", free_port(), {"recognize": handler},
                               allowed_peers=("127.0.0.2",))
        await server.start()
        try:
            assert await call_from(server, "127.0.0.1") == b""
            assert handler.requests == []
            assert (await call_from(server, "127.0.0.2")).startswith(b"SET VARIABLE CE_HEARD")
        finally:
            await server.close()
        assert len(handler.requests) == 1
    run(scenario)


def test_the_default_allows_loopback_only():
    assert agi_server.peer_allowed("127.0.0.1", agi_server.networks(agi_server.LOOPBACK))
    assert agi_server.peer_allowed("::1", agi_server.networks(agi_server.LOOPBACK))
    assert agi_server.peer_allowed("::ffff:127.0.0.1", agi_server.networks(agi_server.LOOPBACK))
    assert not agi_server.peer_allowed("10.0.0.7", agi_server.networks(agi_server.LOOPBACK))
    assert agi_server.peer_allowed("10.0.0.7", agi_server.networks(["10.0.0.0/24"]))
    assert not agi_server.peer_allowed("", agi_server.networks(agi_server.LOOPBACK))


def test_connections_over_the_cap_are_closed_and_served_again_once_one_ends():
    async def scenario():
        release = asyncio.Event()
        entered = asyncio.Event()

        async def holds(request, session):
            entered.set()
            await release.wait()

        handler = Recorder()
        server = FastAgiServer("127.0.0.1", free_port(), {"holds": holds, "recognize": handler},
                               max_connections=1)
        await server.start()
        try:
            reader, writer = await connect(server)
            writer.write(header("holds"))
            await writer.drain()
            await asyncio.wait_for(entered.wait(), 3)
            assert await closed_without_a_command(server, header())  # over the cap
            release.set()
            assert await rest(reader) == b""
            writer.close()
            command, _ = await asterisk_call(server)
        finally:
            await server.close()
        assert command.startswith(b"SET VARIABLE CE_HEARD")
        assert len(handler.requests) == 1
    run(scenario)
