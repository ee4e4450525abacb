"""Campaign changes reach a running engine through the real lab within 5 seconds."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

import pytest

from callengine import campaign
from callengine.app import build_engine, run_engine
from callengine.clock import to_db

pytestmark = pytest.mark.lab

OBEYED_WITHIN = timedelta(seconds=5)  # the promise to the admin


def one_trunk(channels: int) -> dict[str, str]:
    """Every number on the viettel trunk; retries and speech off to keep calls short."""
    trunks = [{"name": "viettel", "endpoint": "viettel", "carriers": ["viettel"],
               "max_channels": channels, "cps": 10}]
    return {"CALLENGINE_TRUNKS": json.dumps(trunks), "CALLENGINE_DEFAULT_TRUNK": "viettel",
            "CALLENGINE_MAX_ATTEMPTS_PER_DAY": "1", "CALLENGINE_SPEECH": "false"}


class Running:
    """An in-process engine dialling the lab, and what the test does meanwhile."""

    def __init__(self, lab_run, phones: list[str], env: dict[str, str]) -> None:
        self.lab_run, self.phones = lab_run, phones
        self.settings = lab_run.settings(**env)
        self.engine = build_engine(self.settings, db=lab_run.db, clock=lab_run.clock)

    async def attempts(self):
        def read():
            return [a for p in self.phones for a in self.lab_run.attempts(p)]
        return await asyncio.to_thread(read)

    async def until_attempts(self, count: int, timeout: float = 30) -> None:
        for _ in range(int(timeout / 0.2)):
            if len(await self.attempts()) >= count:
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"fewer than {count} attempts after {timeout} s")

    async def change(self, action, *args) -> datetime:
        """Run a campaign function as the admin would; the moment it was stored."""
        now = self.lab_run.clock.now()
        await asyncio.to_thread(action, self.lab_run.db, self.settings, *args, now)
        return to_db(now)


def run(lab_run, phones, env, script, timeout: float = 90):
    """Start the engine (run --until-idle), play the script against it, wait for the end."""
    lab_run.call(*phones)
    running = Running(lab_run, phones, env)

    async def main():
        engine = asyncio.create_task(run_engine(running.engine, until_idle=True))
        try:
            result = await script(running)
            await asyncio.wait_for(asyncio.shield(engine), timeout)
            return result
        finally:
            if not engine.done():
                engine.cancel()

    return asyncio.run(main())


def overlapping(attempt, attempts) -> list:
    return [o for o in attempts if o is not attempt
            and o.created_at < attempt.created_at < (o.ended_at or datetime.max)]


def test_a_pause_stops_new_calls_within_5_s_and_a_resume_restarts_them(lab_run):
    phones = [f"+8498600{i:04d}" for i in range(6)]
    lab_run.scenario({"default": {"answer_after": 0, "hangup_after": 2}})

    async def script(running):
        await running.until_attempts(1)
        paused_at = await running.change(campaign.pause, "hoa")
        await asyncio.sleep(9)
        during = await running.attempts()
        resumed_at = await running.change(campaign.resume, "lan")
        return paused_at, during, resumed_at

    paused_at, during, resumed_at = run(lab_run, phones, one_trunk(1), script)
    assert len(during) < len(phones)  # dialling held while paused
    assert all(a.created_at <= paused_at + OBEYED_WITHIN for a in during)
    attempts = [a for p in phones for a in lab_run.attempts(p)]
    assert {a.outcome for a in attempts} == {"partial"}  # the live call finished normally
    assert len(attempts) == len(phones)
    first_after = min(a.created_at for a in attempts if a.created_at > resumed_at)
    assert first_after - resumed_at <= OBEYED_WITHIN


def test_a_lowered_channel_limit_holds_for_the_next_calls_and_cuts_no_live_call(lab_run):
    phones = [f"+8498610{i:04d}" for i in range(8)]
    lab_run.scenario({"default": {"answer_after": 0, "hangup_after": 3}})

    async def script(running):
        await running.until_attempts(4)  # every channel busy
        return await running.change(campaign.update, {"trunk.viettel.max_channels": 1}, "lan")

    lowered_at = run(lab_run, phones, one_trunk(4), script)
    attempts = [a for p in phones for a in lab_run.attempts(p)]
    assert len(attempts) == len(phones) and {a.outcome for a in attempts} == {"partial"}
    first = [a for a in attempts if a.created_at <= lowered_at]
    assert len(first) == 4
    later = [a for a in attempts if a.created_at > lowered_at + OBEYED_WITHIN]
    assert len(later) >= 2
    assert all(overlapping(a, attempts) == [] for a in later)  # one channel at a time


def test_a_window_that_has_ended_stops_new_calls_and_closes_the_day(lab_run):
    phones = [f"+8498620{i:04d}" for i in range(6)]
    lab_run.scenario({"default": {"answer_after": 0, "hangup_after": 2}})

    async def script(running):
        await running.until_attempts(1)
        # the lab's clock reads 09:00 and a little: this window is over for today
        return await running.change(campaign.update, {"call_window": "00:00-09:00"}, "lan")

    changed_at = run(lab_run, phones, one_trunk(1), script, timeout=30)  # ends by itself
    attempts = [a for p in phones for a in lab_run.attempts(p)]
    assert all(a.created_at <= changed_at + OBEYED_WITHIN for a in attempts)
    assert len(attempts) < len(phones)
    assert {a.outcome for a in attempts} == {"partial"}
    called = {a.phone for a in attempts}
    assert {lab_run.task(p).status for p in phones if p not in called} == {"exhausted"}
