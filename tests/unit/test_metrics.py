"""The engine's /metrics and /healthz: settings, port conflicts, and a real engine scraped
while it runs on a real database with no Asterisk to talk to."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from callengine.ami.parser import Message
from callengine.app import build_engine, run_engine
from callengine.clock import SystemClock
from callengine.dialer.window import Window
from callengine.errors import ConfigError
from callengine.identity import server_id
from callengine.metrics import EngineMetrics, install
from callengine.metrics_server import MetricsServer
from callengine.planning import plan_and_greet
from callengine.settings import Settings, load_settings
from callengine.tasks import schedule_call
from tests.fakeami import FakeAmi, frame, response
from tests.unit.test_any_hour import TZ, Moment, add_person


class MovableClock(SystemClock):
    """The real clock; its monotonic time can be moved on (a loop that seems stuck)."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def monotonic(self) -> float:
        return super().monotonic() + self.ahead


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of a scrape by (name, labels)."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def engine_settings(tmp_path, database_url, **overrides):
    values = dict(database_url=database_url, data_dir=tmp_path / "data", ami_secret="x",
                  ami_port=free_port(), speech=False, metrics_port=free_port(),
                  call_window="00:00:00-23:59:59", window_close_guard=0,
                  agi_port=free_port())
    values.update(overrides)
    return load_settings({}, **values)


def test_metrics_are_off_by_default_and_only_on_loopback_when_turned_on(tmp_path):
    settings = load_settings({})
    assert settings.metrics_port == 0 and settings.admin_metrics_port == 0
    for host in (settings.metrics_host, settings.admin_metrics_host):
        assert ipaddress.ip_address(host).is_loopback
    engine = build_engine(load_settings({}, data_dir=tmp_path, ami_secret="x", speech=False))
    try:
        assert engine.metrics_server is None
    finally:
        engine.db.dispose()


@pytest.mark.parametrize(("values", "message"), [
    ({"metrics_port": 4573}, "metrics_port: 4573 is also agi_port"),
    ({"admin_metrics_port": 5000}, "admin_metrics_port: 5000 is also admin_port"),
    ({"metrics_port": 9464, "admin_metrics_port": 9464}, "is also"),
    ({"metrics_port": 70000}, "metrics_port: 70000 is not a TCP port"),
    ({"metrics_host": "metrics.example"}, "metrics_host: 'metrics.example' is not an IP"),
    ({"admin_port": 0}, "admin_port: 0 is not a TCP port"),
])
def test_bad_metrics_settings_are_refused_naming_the_setting(values, message):
    with pytest.raises(ConfigError, match=message):
        load_settings({}, **values)


def test_the_same_port_on_another_address_is_allowed():
    settings = load_settings({}, metrics_port=4573, metrics_host="127.0.0.2")
    assert settings.metrics_port == settings.agi_port


def test_a_port_already_taken_is_a_clear_config_error():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        server = MetricsServer("127.0.0.1", port, CollectorRegistry(), lambda: None)
        with pytest.raises(ConfigError, match=f"metrics_port: cannot listen on 127.0.0.1:{port}"
                           r".*held by pid \d+"):
            server.start()


def test_the_engine_refuses_to_start_when_its_metrics_port_is_taken(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        settings = engine_settings(tmp_path, f"sqlite:///{tmp_path / 'ce.db'}",
                                   metrics_port=holder.getsockname()[1])
        engine = build_engine(settings)
        try:
            with pytest.raises(ConfigError, match="metrics_port: cannot listen"):
                asyncio.run(run_engine(engine, until_idle=False))
        finally:
            engine.db.dispose()


async def _scrape_while_running(engine, scrape) -> object:
    stop = asyncio.Event()
    running = asyncio.create_task(run_engine(engine, until_idle=False, stop=stop))
    try:
        await asyncio.sleep(1.5)  # the loop beats, the supervisor tries AMI
        return await scrape()
    finally:
        stop.set()
        await running


def test_a_running_engine_without_asterisk_is_scraped_and_unhealthy_for_ami(tmp_path,
                                                                           database_url):
    settings = engine_settings(tmp_path, database_url)
    clock = MovableClock()
    engine = build_engine(settings, clock=clock)
    now = clock.now()
    day = Window(settings.call_window, settings.timezone, 0).local_day(now)
    schedule_call(engine.db, "+84912345678", day, now)
    schedule_call(engine.db, "+84912345679", day, now)
    endpoint = settings.trunks[0].endpoint  # its carrier stopped answering SIP OPTIONS
    engine.dialer.on_event(Message((("Event", "DeviceStateChange"),
                                    ("Device", f"PJSIP/{endpoint}"), ("State", "UNAVAILABLE"))))
    base = f"http://127.0.0.1:{settings.metrics_port}"

    async def scrape():
        metrics = await asyncio.to_thread(get, f"{base}/metrics")
        health = await asyncio.to_thread(get, f"{base}/healthz")
        stuck = await _health_while_the_loop_is_blocked(clock, base)
        return metrics, health, stuck

    try:
        (status, text), health, stuck = asyncio.run(_scrape_while_running(engine, scrape))
    finally:
        engine.db.dispose()
    assert status == 200
    sid = frozenset({("server_id", server_id(settings))})
    values = samples(text)
    assert values[("callengine_ami_connected", sid)] == 0
    assert values[("callengine_database_up", sid)] == 1
    assert values[("callengine_tasks_due", sid)] == 2  # not dialled: AMI is down
    assert values[("callengine_tasks_claimed", sid)] == 0
    trunk = sid | {("trunk", "default")}
    assert values[("callengine_trunk_channels_limit", trunk)] == 10
    assert values[("callengine_trunk_channels_in_use", trunk)] == 0
    assert values[("callengine_trunk_unreachable", trunk)] == 1
    assert values[("callengine_trunk_down", trunk)] == 0  # the breaker has seen no failure
    assert values[("callengine_attempts_ended_total", sid | {("outcome", "completed")})] == 0
    assert values[("callengine_loop_heartbeat_age_seconds", sid)] < 2
    assert health[0] == 503
    body = json.loads(health[1])
    assert body["status"] == "unhealthy" and body["problems"] == ["ami: not connected"]
    assert body["database"] == "ok" and body["server_id"] == server_id(settings)
    assert stuck[0] == 503
    assert any(p.startswith("loop: no heartbeat for") for p in json.loads(stuck[1])["problems"])


async def _health_while_the_loop_is_blocked(clock: MovableClock, base: str):
    """/healthz asked from another thread while the event loop is held up for 30 s (by the
    clock; really for 1 s)."""
    answer: list = []
    asked = threading.Thread(target=lambda: answer.append(get(f"{base}/healthz")))
    clock.ahead += 30
    asked.start()
    time.sleep(1.0)  # blocks the loop: no heartbeat can run meanwhile
    await asyncio.to_thread(asked.join, 5)
    return answer[0]


def test_the_endpoint_answers_nothing_but_metrics_and_health(tmp_path):
    server = MetricsServer("127.0.0.1", 0, CollectorRegistry(), lambda: None).start()
    try:
        host, port = server.address
        status, body = get(f"http://{host}:{port}/admin")
        assert status == 404 and "/metrics" in body
    finally:
        server.close()


def _channels_listed(action):
    """Asterisk's answer to CoreShowChannels with no live channel."""
    if (action.get("Action") or "").lower() != "coreshowchannels":
        return None
    return [response(action, EventList="start"),
            frame(("Event", "CoreShowChannelsComplete"), ("ActionID", action.action_id or ""),
                  ("EventList", "Complete"), ("ListItems", "0"))]


async def _until(predicate, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(predicate):
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.2)


def test_an_ami_reconnect_is_counted_and_the_health_follows_the_connection(tmp_path):
    """Fault injection: a fake AMI peer drops the engine's connection once."""
    async def scenario():
        peer = FakeAmi(secret="x", on_action=_channels_listed)
        await peer.start()
        settings = engine_settings(tmp_path, f"sqlite:///{tmp_path / 'ce.db'}",
                                   ami_port=peer.port)
        engine = build_engine(settings)
        base = f"http://127.0.0.1:{settings.metrics_port}"
        sid = frozenset({("server_id", server_id(settings))})

        def value(name):
            try:
                return samples(get(f"{base}/metrics")[1]).get((name, sid))
            except urllib.error.URLError:  # the engine's task has not started it yet
                return None

        stop = asyncio.Event()
        running = asyncio.create_task(run_engine(engine, until_idle=False, stop=stop))
        try:
            await _until(lambda: value("callengine_ami_connected") == 1)
            first = await asyncio.to_thread(get, f"{base}/healthz")
            await peer.drop()
            await _until(lambda: peer.connections == 2 and
                         value("callengine_ami_connected") == 1)
            reconnects = await asyncio.to_thread(value, "callengine_ami_reconnects_total")
            logins = await asyncio.to_thread(
                lambda: samples(get(f"{base}/metrics")[1])[
                    ("callengine_ami_response_seconds_count", sid | {("action", "Login")})])
        finally:
            stop.set()
            await running
            await peer.stop()
            engine.db.dispose()
        return first, reconnects, logins

    first, reconnects, logins = asyncio.run(scenario())
    status, body = first
    report = json.loads(body)
    assert status == 200 and "problems" not in report
    assert (report["status"], report["ami"], report["database"]) == ("ok", "connected", "ok")
    assert reconnects == 1
    assert logins == 2


def test_the_daily_plan_reports_to_the_engine_metrics_installed_in_its_process(db, tmp_path):
    now = datetime.now(timezone.utc)
    moment = Moment("now", now, now.astimezone(TZ).date())
    settings = Settings(database_url="unused", asterisk_root=tmp_path)
    metrics = EngineMetrics("pbx1")
    sid = frozenset({("server_id", "pbx1")})

    def scraped(name):
        return samples(generate_latest(metrics.registry).decode()).get((name, sid))

    with db.session() as s:
        add_person(s, "+84912000001", moment)
    plan_and_greet(db, moment.day, now, settings)  # a CLI plan: no engine metrics to report to
    with db.session() as s:
        add_person(s, "+84912000002", moment)
        add_person(s, "+84912000003", moment)
    install(metrics)
    try:
        result, _ = plan_and_greet(db, moment.day, now, settings)
    finally:
        install(None)
    assert result.created == 2
    assert scraped("callengine_plan_seconds_count") == 1
    assert 0 < scraped("callengine_plan_seconds_sum") < 60
    assert scraped("callengine_plan_tasks_created_total") == 2


def test_the_speech_pool_reports_each_recognitions_time(tmp_path):
    from callengine.speech.pool import RecognitionPool
    from tests.unit.test_speech_pool import FEVER, silence, tone, wav

    seen: list[float] = []

    async def scenario():
        pool = RecognitionPool(1, "vosk", {}, 0.5, on_recognized=seen.append)
        try:
            for name, sound in (("said.wav", tone(0.8)), ("silent.wav", silence(1.0))):
                await asyncio.wait_for(pool.recognize(wav(tmp_path, sound, name), FEVER), 60)
        finally:
            pool.close()

    asyncio.run(scenario())
    assert len(seen) == 2 and all(0 < seconds < 60 for seconds in seen)
