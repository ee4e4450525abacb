"""The engine's /metrics and /healthz while it makes real calls through the lab: what a
scrape says matches what the database recorded."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from callengine.app import build_engine, run_engine
from callengine.dialer.window import Window
from callengine.identity import server_id
from callengine.store.models import LIVE_ATTEMPT_STATES, CallAttempt, CallTask
from tests.unit.test_metrics import free_port, get, samples

pytestmark = pytest.mark.lab

COMPLETE = "+84912345678"
BUSY = "+84987654321"
NO_ANSWER = "+84911111111"
INVALID = "+84933333333"
SCENARIO = {
    "default": "no_answer",
    "residents": {
        COMPLETE: {"answer_after": 1, "keys": ["1", "2", "2", "2", "2", "2"]},
        BUSY: "busy",
        NO_ANSWER: "no_answer",
        INVALID: "invalid",
    },
}


def live_attempts(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(CallAttempt)
                        .where(CallAttempt.state.in_(LIVE_ATTEMPT_STATES))) or 0


def open_tasks(db, day) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(CallTask).where(
            CallTask.day == day, CallTask.status.in_(("pending", "dialing")))) or 0


def answered_now(db) -> bool:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(CallAttempt)
                        .where(CallAttempt.state == "answered")) > 0


def in_use(values: dict) -> float:
    return sum(v for (name, _), v in values.items() if name == "callengine_trunk_channels_in_use")


async def steady_reading(run, base: str, seen: dict) -> None:
    """The live calls in the database and the channels in use, kept only when neither moved
    for 0.3 s (a call starting or ending changes both, microseconds apart)."""
    before = await asyncio.to_thread(live_attempts, run.db)
    first = samples((await asyncio.to_thread(get, f"{base}/metrics"))[1])
    await asyncio.sleep(0.3)
    second = samples((await asyncio.to_thread(get, f"{base}/metrics"))[1])
    after = await asyncio.to_thread(live_attempts, run.db)
    if before == after and in_use(first) == in_use(second):
        seen["during"] = (before, second)
        seen["health_during"] = await asyncio.to_thread(get, f"{base}/healthz")


async def watch(run, base: str, day, stop: asyncio.Event) -> dict:
    """Scrape once while a call is answered (and the database agrees on the live count), and
    once when the day is done; then stop the engine."""
    seen: dict = {}
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            await asyncio.sleep(0.3)
            if "during" not in seen and await asyncio.to_thread(answered_now, run.db):
                await steady_reading(run, base, seen)
            if await asyncio.to_thread(open_tasks, run.db, day) == 0 and \
                    await asyncio.to_thread(live_attempts, run.db) == 0:
                await asyncio.sleep(0.5)
                seen["after"] = samples((await asyncio.to_thread(get, f"{base}/metrics"))[1])
                return seen
        raise AssertionError("the lab calls did not end within 300 s")
    finally:
        stop.set()


async def run_watched(run, settings, day) -> dict:
    engine = build_engine(settings, db=run.db, clock=run.clock)
    stop = asyncio.Event()
    base = f"http://127.0.0.1:{settings.metrics_port}"
    watcher = asyncio.create_task(watch(run, base, day, stop))
    await run_engine(engine, until_idle=False, stop=stop)
    return await watcher


def test_a_scrape_matches_the_calls_the_database_recorded(lab_run):
    lab_run.scenario(SCENARIO)
    lab_run.call(*SCENARIO["residents"])
    settings = lab_run.settings(CALLENGINE_METRICS_PORT=str(free_port()), CALLENGINE_SPEECH="0",
                                CALLENGINE_TRUNK_FAILURE_THRESHOLD="1000")
    day = Window(settings.call_window, settings.timezone, 0).local_day(lab_run.clock.now())
    seen = asyncio.run(run_watched(lab_run, settings, day))

    sid = ("server_id", server_id(settings))
    live, during = seen["during"]
    assert live >= 1 and in_use(during) == live
    status, body = seen["health_during"]
    assert status == 200 and json.loads(body)["ami"] == "connected"
    assert during[("callengine_ami_connected", frozenset({sid}))] == 1

    after = seen["after"]
    with lab_run.db.session() as s:
        rows = s.execute(select(CallAttempt.trunk, CallAttempt.outcome)).all()
    assert len(rows) >= len(SCENARIO["residents"])
    for trunk, count in Counter(trunk for trunk, _ in rows).items():
        labels = frozenset({sid, ("trunk", trunk)})
        assert after[("callengine_attempts_started_total", labels)] == count
        assert after[("callengine_trunk_channels_in_use", labels)] == 0
    for trunk in settings.trunks:
        assert after[("callengine_trunk_channels_limit",
                      frozenset({sid, ("trunk", trunk.name)}))] == trunk.max_channels
    ended = {dict(labels)["outcome"]: value for (name, labels), value in after.items()
             if name == "callengine_attempts_ended_total" and value}
    assert ended == dict(Counter(outcome for _, outcome in rows))
    assert {"completed", "busy", "no_answer", "invalid_number"} <= set(ended)
    originate = frozenset({sid, ("action", "Originate")})
    assert after[("callengine_ami_response_seconds_count", originate)] == len(rows)
    assert after[("callengine_ami_reconnects_total", frozenset({sid}))] == 0
    assert after[("callengine_tasks_due", frozenset({sid}))] == 0
    assert after[("callengine_tasks_claimed", frozenset({sid}))] == 0
