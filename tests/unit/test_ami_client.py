"""Tests of AmiClient, AmiSupervisor and actions against the fault-injection fake AMI."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from callengine.ami import actions
from callengine.ami.client import AmiClient
from callengine.ami.errors import (
    AmiActionError,
    AmiAuthError,
    AmiConnectionError,
    AmiNotConnected,
)
from callengine.ami.parser import Message
from callengine.ami.supervisor import AmiSupervisor
from tests.fakeami import DROP, FakeAmi, frame, response

SECRET = "s3cr3t-value"


def run(test: Callable[[], Awaitable[None]], timeout: float = 5.0) -> None:
    asyncio.run(asyncio.wait_for(test(), timeout))


async def until(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def start_fake(**kwargs: Any) -> FakeAmi:
    fake = FakeAmi(secret=SECRET, **kwargs)
    await fake.start()
    return fake


def make_client(
    fake: FakeAmi, events: list[Message] | None = None, **kwargs: Any
) -> AmiClient:
    options: dict[str, Any] = dict(
        connect_timeout=1.0, action_timeout=1.0, ping_interval=5.0, ping_timeout=1.0
    )
    options.update(kwargs)
    secret = options.pop("secret", SECRET)
    sink = events.append if events is not None else (lambda message: None)
    return AmiClient("127.0.0.1", fake.port, "dialer", secret, on_event=sink, **options)


async def connected(fake: FakeAmi, events: list[Message] | None = None, **kw: Any) -> AmiClient:
    client = make_client(fake, events, **kw)
    await client.connect()
    return client


def names(events: list[Message]) -> list[str]:
    return [e.name for e in events if e.name != "FullyBooted"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- connection and login -------------------------------------------------


def test_given_right_secret_when_connect_then_logged_in_with_events_on() -> None:
    async def scenario() -> None:
        fake = await start_fake()
        client = await connected(fake)

        (login,) = fake.actions("Login")
        assert login.get("Username") == "dialer"
        assert login.get("Secret") == SECRET
        assert login.get("Events") == "on"
        assert login.action_id
        assert not client.closed
        await client.close()
        await fake.stop()

    run(scenario)


def test_given_wrong_secret_when_connect_then_auth_error_quotes_asterisk(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        fake = await start_fake()
        client = make_client(fake, secret="wrong")

        with pytest.raises(AmiAuthError) as info:
            await client.connect()

        assert str(info.value) == "AMI login refused for user dialer: Authentication failed"
        assert client.closed
        await fake.stop()

    caplog.set_level(logging.DEBUG)
    run(scenario)
    assert "wrong" not in caplog.text


def test_given_secret_when_session_runs_then_secret_is_never_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        fake = await start_fake()
        client = await connected(fake)
        await client.send_action("Ping")
        await client.close()
        await fake.stop()

    caplog.set_level(logging.DEBUG)
    run(scenario)
    assert "logged in" in caplog.text
    assert SECRET not in caplog.text


def test_given_non_ami_server_when_connect_then_connection_error_names_banner() -> None:
    async def scenario() -> None:
        fake = await start_fake(banner=b"SSH-2.0-OpenSSH_9.6\r\n")

        with pytest.raises(AmiConnectionError, match="SSH-2.0-OpenSSH_9.6"):
            await make_client(fake).connect()

        await fake.stop()

    run(scenario)


def test_given_nothing_listening_when_connect_then_connection_error() -> None:
    async def scenario() -> None:
        client = AmiClient("127.0.0.1", free_port(), "dialer", SECRET, on_event=lambda m: None)

        with pytest.raises(AmiConnectionError, match="cannot connect"):
            await client.connect()

        assert client.closed

    run(scenario)


def test_given_no_connection_when_send_action_then_not_connected() -> None:
    async def scenario() -> None:
        client = AmiClient("127.0.0.1", 1, "dialer", SECRET, on_event=lambda m: None)

        with pytest.raises(AmiNotConnected):
            await client.send_action("Ping")

    run(scenario)


# --- actions and events ---------------------------------------------------


def test_given_error_response_when_send_action_then_action_error_with_message() -> None:
    async def scenario() -> None:
        def hook(action: Message) -> list[bytes] | None:
            if action.get("Action") == "Originate":
                return [response(action, "Error", Message="Extension does not exist.")]
            return None

        fake = await start_fake(on_action=hook)
        client = await connected(fake)

        with pytest.raises(AmiActionError) as info:
            await client.send_action("Originate", {"Channel": "PJSIP/1"})

        assert info.value.action == "Originate"
        assert info.value.message == "Extension does not exist."
        assert info.value.response.name == "Error"
        assert not client.closed  # an Error response is not a protocol failure
        await client.close()
        await fake.stop()

    run(scenario)


def test_given_originate_answered_when_originate_response_arrives_then_on_event_gets_it() -> None:
    async def scenario() -> None:
        events: list[Message] = []
        fake = await start_fake()
        client = await connected(fake, events)
        action_id = await actions.originate(
            client, channel="PJSIP/0912345678@viettel", context="survey", exten="s",
            channel_id="att-1", timeout_ms=30000,
        )

        await fake.push(frame(("Event", "OriginateResponse"), ("ActionID", action_id),
                              ("Response", "Success"), ("Uniqueid", "att-1"), ("Reason", "4")))
        await until(lambda: "OriginateResponse" in names(events))

        (event,) = [e for e in events if e.name == "OriginateResponse"]
        assert event.action_id == action_id and event.get("Reason") == "4"
        await client.close()
        await fake.stop()

    run(scenario)


def test_given_on_event_raises_when_more_events_arrive_then_they_are_delivered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[str] = []

    def on_event(message: Message) -> None:
        seen.append(message.name)
        if message.name == "Boom":
            raise RuntimeError("handler bug")

    async def scenario() -> None:
        fake = await start_fake()
        client = AmiClient("127.0.0.1", fake.port, "dialer", SECRET, on_event=on_event)
        await client.connect()

        await fake.push(frame(("Event", "Boom")) + frame(("Event", "Hangup")))
        await fake.push(frame(("Event", "Newchannel")))
        await until(lambda: "Newchannel" in seen)

        assert seen[-3:] == ["Boom", "Hangup", "Newchannel"]
        await client.send_action("Ping")  # the reader is alive
        await client.close()
        await fake.stop()

    run(scenario)
    assert "handler bug" in caplog.text  # logged with its traceback
    assert "Traceback" in caplog.text


def test_given_garbage_frame_mid_stream_when_reading_then_skipped_and_actions_work(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        events: list[Message] = []
        fake = await start_fake()
        client = await connected(fake, events)

        await fake.push(b"\x00\x01 total garbage\r\n\r\n" + frame(("Event", "Hangup")))
        reply = await client.send_action("Ping")

        assert reply.get("Ping") == "Pong"
        await until(lambda: "Hangup" in names(events))
        assert not client.closed
        await client.close()
        await fake.stop()

    run(scenario)
    assert "garbage AMI frame skipped: " in caplog.text
    assert "total garbage" in caplog.text


def test_given_concurrent_actions_when_responses_come_reversed_then_matched_by_action_id(
) -> None:
    async def scenario() -> None:
        held: list[Message] = []

        def hold(action: Message) -> list[bytes] | None:
            if action.get("Action") == "Getvar":
                held.append(action)
                return []
            return None

        fake = await start_fake(on_action=hold)
        client = await connected(fake)
        first = asyncio.create_task(client.send_action("Getvar", {"Variable": "A"}))
        second = asyncio.create_task(client.send_action("Getvar", {"Variable": "B"}))
        await until(lambda: len(held) == 2)

        for action in reversed(held):
            await fake.push(response(action, Value=action.get("Variable") or ""))

        assert (await first).get("Value") == "A"
        assert (await second).get("Value") == "B"
        await client.close()
        await fake.stop()

    run(scenario)


def test_given_response_with_unknown_action_id_when_read_then_dropped() -> None:
    async def scenario() -> None:
        events: list[Message] = []
        fake = await start_fake()
        client = await connected(fake, events)

        await fake.push(frame(("Response", "Success"), ("ActionID", "nobody")))
        await client.send_action("Ping")

        assert names(events) == []
        assert not client.closed
        await client.close()
        await fake.stop()

    run(scenario)


def test_given_list_action_when_core_show_channels_then_items_collected_not_dispatched() -> None:
    async def scenario() -> None:
        def hook(action: Message) -> list[bytes] | None:
            if action.get("Action") != "CoreShowChannels":
                return None
            aid = ("ActionID", action.action_id or "")
            return [
                response(action, EventList="start", Message="Channels will follow"),
                frame(("Event", "CoreShowChannel"), aid, ("Uniqueid", "att-1")),
                frame(("Event", "Hangup"), ("Uniqueid", "other")),  # unrelated, interleaved
                frame(("Event", "CoreShowChannel"), aid, ("Uniqueid", "att-2")),
                frame(("Event", "CoreShowChannelsComplete"), aid, ("EventList", "Complete"),
                      ("ListItems", "2")),
            ]

        events: list[Message] = []
        fake = await start_fake(on_action=hook)
        client = await connected(fake, events)

        channels = await actions.core_show_channels(client)

        assert [c.get("Uniqueid") for c in channels] == ["att-1", "att-2"]
        assert names(events) == ["Hangup"]
        await client.close()
        await fake.stop()

    run(scenario)


def test_when_originate_then_async_channel_id_action_id_and_variables_are_sent() -> None:
    async def scenario() -> None:
        fake = await start_fake()
        client = await connected(fake)

        action_id = await actions.originate(
            client, channel="PJSIP/0912345678@viettel", context="survey", exten="s",
            channel_id="att-42", timeout_ms=45000, caller_id="CDC <1900>",
            variables={"__ATTEMPT_ID": "att-42", "CAMPAIGN": "7", "LANG": "vi"},
        )

        (sent,) = fake.actions("Originate")
        assert sent.get("Async") == "true"
        assert sent.get("ChannelId") == "att-42"
        assert sent.action_id == action_id and len(action_id) == 32
        assert sent.get_all("Variable") == ["__ATTEMPT_ID=att-42", "CAMPAIGN=7", "LANG=vi"]
        assert sent.get("Context") == "survey" and sent.get("Exten") == "s"
        assert sent.get("Priority") == "1" and sent.get("Timeout") == "45000"
        assert sent.get("CallerID") == "CDC <1900>"
        assert sent.get("Application") is None
        await client.close()
        await fake.stop()

    run(scenario)


def test_given_two_originates_when_sent_then_action_ids_differ() -> None:
    async def scenario() -> None:
        fake = await start_fake()
        client = await connected(fake)

        async def originate(channel_id: str) -> str:
            return await actions.originate(client, channel="PJSIP/1", context="c", exten="s",
                                           channel_id=channel_id, timeout_ms=1000)

        first = await originate("a")
        second = await originate("b")

        assert first != second
        await client.close()
        await fake.stop()

    run(scenario)


def test_given_unanswered_action_when_timeout_then_connection_error_and_closed() -> None:
    async def scenario() -> None:
        fake = await start_fake(on_action=lambda a: [] if a.get("Action") == "Status" else None)
        client = await connected(fake, action_timeout=0.2)

        with pytest.raises(AmiConnectionError, match="no response to Status"):
            await client.send_action("Status")

        assert client.closed
        assert "no response to Status" in (client.close_reason or "")
        await fake.stop()

    run(scenario)


# --- keepalive --------------------------------------------------------------


def test_given_idle_longer_than_three_ping_intervals_then_connection_stays_up() -> None:
    async def scenario() -> None:
        fake = await start_fake()
        client = await connected(fake, ping_interval=0.1, ping_timeout=0.3)

        await asyncio.sleep(0.45)

        assert not client.closed
        assert len(fake.actions("Ping")) >= 3
        assert (await client.send_action("Ping")).get("Ping") == "Pong"
        await client.close()
        await fake.stop()

    run(scenario)


def test_given_muted_pings_when_idle_then_death_detected_within_interval_plus_timeout() -> None:
    async def scenario() -> None:
        fake = await start_fake()
        client = await connected(fake, ping_interval=0.2, ping_timeout=0.2)
        fake.mute_pings = True
        started = asyncio.get_running_loop().time()

        await asyncio.wait_for(client.wait_closed(), 1.0)

        assert asyncio.get_running_loop().time() - started <= 0.2 + 0.2 + 0.2
        assert "no response to Ping" in (client.close_reason or "")
        with pytest.raises(AmiNotConnected):
            await client.send_action("Ping")
        await fake.stop()

    run(scenario)


# --- close and drops --------------------------------------------------------


def test_when_close_twice_then_logoff_sent_once_and_client_closed() -> None:
    async def scenario() -> None:
        fake = await start_fake()
        client = await connected(fake)

        await client.close()
        await client.close()

        await until(lambda: len(fake.actions("Logoff")) == 1)
        assert client.closed and client.close_reason == "closed by client"
        await client.wait_closed()
        await fake.stop()

    run(scenario)


def test_given_pending_action_when_client_closes_then_it_fails() -> None:
    async def scenario() -> None:
        fake = await start_fake(on_action=lambda a: [] if a.get("Action") == "Status" else None)
        client = await connected(fake)
        pending = asyncio.create_task(client.send_action("Status"))
        await until(lambda: bool(fake.actions("Status")))

        await client.close()

        with pytest.raises(AmiConnectionError, match="not re-sent"):
            await pending
        await fake.stop()

    run(scenario)


def test_given_pending_originate_when_server_drops_then_error_reconnect_and_sent_once() -> None:
    async def scenario() -> None:
        def hook(action: Message) -> object:
            if action.get("Action") == "Originate" and fake.connections == 1:
                return DROP
            return None

        fake = await start_fake(on_action=hook)
        sessions: list[AmiClient] = []
        reasons: list[str] = []

        async def on_connected(client: AmiClient) -> None:
            sessions.append(client)

        supervisor = AmiSupervisor(lambda: make_client(fake), on_connected=on_connected,
                                   on_disconnected=reasons.append, initial_delay=0.05)
        stop = asyncio.Event()
        runner = asyncio.create_task(supervisor.run(stop))
        client = await supervisor.wait_connected(1.0)

        with pytest.raises(AmiConnectionError):
            await actions.originate(client, channel="PJSIP/1", context="survey", exten="s",
                                    channel_id="att-1", timeout_ms=30000)
        await until(lambda: len(sessions) == 2 and supervisor.connected)

        assert len(fake.actions("Originate")) == 1  # never re-sent on the new connection
        assert fake.connections == 2
        assert reasons == ["connection closed by peer"]
        assert supervisor.client is sessions[1] is not client
        stop.set()
        await runner
        assert sessions[1].closed and not supervisor.connected
        await fake.stop()

    run(scenario)


# --- supervisor ---------------------------------------------------------------


def test_given_server_down_when_supervising_then_backs_off_and_connects_when_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        fake = FakeAmi(secret=SECRET)
        fake.port = free_port()
        sessions: list[AmiClient] = []

        async def on_connected(client: AmiClient) -> None:
            sessions.append(client)

        supervisor = AmiSupervisor(lambda: make_client(fake), on_connected=on_connected,
                                   initial_delay=0.05, max_delay=0.2)
        stop = asyncio.Event()
        runner = asyncio.create_task(supervisor.run(stop))
        await asyncio.sleep(0.5)
        with pytest.raises(AmiNotConnected):
            _ = supervisor.client

        await fake.start()
        await supervisor.wait_connected(1.0)

        assert len(sessions) == 1
        stop.set()
        await runner
        await fake.stop()

    run(scenario)
    failures = [r.getMessage() for r in caplog.records
                if r.getMessage().startswith("AMI connect to 127.0.0.1:")]
    # 0.05 + 0.1 + 0.2 + 0.2 ... within 0.5 s: backoff, not a busy loop
    assert 3 <= len(failures) <= 6
    assert "retrying in 0.05s" in failures[0]
    assert "retrying in 0.1s" in failures[1]
    assert "retrying in 0.2s" in failures[-1]
    assert "failed: cannot connect to AMI" in failures[0]


def test_given_wrong_secret_when_supervising_then_logged_as_error_and_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        fake = await start_fake()
        supervisor = AmiSupervisor(lambda: make_client(fake, secret="bad"),
                                   on_connected=lambda c: asyncio.sleep(0),
                                   initial_delay=0.05, max_delay=0.05)
        stop = asyncio.Event()
        runner = asyncio.create_task(supervisor.run(stop))
        await until(lambda: fake.connections >= 2)
        stop.set()
        await runner
        assert not supervisor.connected
        await fake.stop()

    run(scenario)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) >= 2
    assert "AMI login refused for user dialer: Authentication failed" in errors[0].getMessage()


def test_given_connected_when_stop_is_set_then_run_returns_and_logs_off() -> None:
    async def scenario() -> None:
        fake = await start_fake()
        supervisor = AmiSupervisor(lambda: make_client(fake),
                                   on_connected=lambda c: asyncio.sleep(0))
        stop = asyncio.Event()
        runner = asyncio.create_task(supervisor.run(stop))
        client = await supervisor.wait_connected(1.0)

        stop.set()
        await asyncio.wait_for(runner, 1.0)

        assert client.closed
        await until(lambda: len(fake.actions("Logoff")) == 1)
        with pytest.raises(AmiNotConnected):
            await supervisor.wait_connected(0.05)
        await fake.stop()

    run(scenario)


def test_given_on_connected_fails_when_supervising_then_reconnects_after_delay() -> None:
    async def scenario() -> None:
        calls: list[AmiClient] = []

        async def on_connected(client: AmiClient) -> None:
            calls.append(client)
            if len(calls) == 1:
                raise RuntimeError("reconcile failed")

        fake = await start_fake()
        supervisor = AmiSupervisor(lambda: make_client(fake), on_connected=on_connected,
                                   initial_delay=0.05)
        stop = asyncio.Event()
        runner = asyncio.create_task(supervisor.run(stop))
        await until(lambda: len(calls) == 2)

        assert calls[0].closed and not calls[1].closed
        stop.set()
        await runner
        await fake.stop()

    run(scenario)


async def connections_in_a_second(
    fake: FakeAmi, on_connected: Callable[[AmiClient], Awaitable[None]], **options: Any
) -> int:
    """Supervise `fake` for one second (backoff from 0.05 s to 0.4 s); connections made."""
    supervisor = AmiSupervisor(lambda: make_client(fake), on_connected=on_connected,
                               initial_delay=0.05, max_delay=0.4, **options)
    stop = asyncio.Event()
    runner = asyncio.create_task(supervisor.run(stop))
    await asyncio.sleep(1.0)
    stop.set()
    await runner
    return fake.connections


def test_given_a_peer_that_drops_during_reconcile_then_the_backoff_keeps_growing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "callengine.ami.supervisor")

    async def scenario() -> None:
        def hook(action: Message) -> object:
            return DROP if action.get("Action") == "CoreShowChannels" else None

        fake = await start_fake(on_action=hook)

        async def reconcile(client: AmiClient) -> None:
            await actions.core_show_channels(client)

        # 0.05 + 0.1 + 0.2 + 0.4 ... : a handful of connections, not one per round trip.
        assert 3 <= await connections_in_a_second(fake, reconcile) <= 6
        await fake.stop()

    run(scenario)
    assert "lost while on_connected ran (connection closed by peer)" in caplog.text


def test_given_connections_that_drop_just_after_reconcile_then_backoff_is_not_reset(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        fake = await start_fake()

        async def reconciled(client: AmiClient) -> None:
            asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(fake.drop()))

        assert 3 <= await connections_in_a_second(fake, reconciled, healthy_after=5.0) <= 6
        await fake.stop()

    run(scenario)
    delays = [r.getMessage().rsplit(" ", 1)[1] for r in caplog.records
              if "lasted only" in r.getMessage()]
    assert delays[:3] == ["0.05s", "0.1s", "0.2s"]


def test_given_a_connection_up_for_a_while_when_lost_then_reconnects_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        fake = await start_fake()
        sessions: list[AmiClient] = []

        async def on_connected(client: AmiClient) -> None:
            sessions.append(client)

        supervisor = AmiSupervisor(lambda: make_client(fake), on_connected=on_connected,
                                   initial_delay=3.0, healthy_after=0.2)
        stop = asyncio.Event()
        runner = asyncio.create_task(supervisor.run(stop))
        await until(lambda: len(sessions) == 1)
        await asyncio.sleep(0.3)
        await fake.drop()
        await until(lambda: len(sessions) == 2 and supervisor.connected)  # not after 3 s
        stop.set()
        await runner
        await fake.stop()

    run(scenario)
    assert "lasted only" not in caplog.text
