"""A freed channel goes to the next call without waiting for the database: the end of a call
frees its channel when the Hangup is read, its record is written after, and on SQLite's one
database thread the next claim goes before the facts already queued."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

from sqlalchemy import select

from callengine.dialer.dbwork import DbLanes
from callengine.store.models import CallAttempt
from callengine.tasks import schedule_call
from tests.unit.test_dialer_faults import (
    DAY,
    NOW,
    PHONE_A,
    PHONE_B,
    dialled,
    hangup,
    make_dialer,
)


def test_a_hangup_frees_its_channel_for_the_next_call_before_its_end_is_written(db, tmp_path):
    schedule_call(db, PHONE_A, DAY, NOW)
    schedule_call(db, PHONE_B, DAY, NOW)
    dialer, ami = make_dialer(db, tmp_path)
    dialer.pacers["default"].max_channels = 1  # one channel: B needs A's

    async def scenario() -> tuple[str, str]:
        await dialer._guarded_step()
        [first] = dialer.in_flight
        dialer.clock.mono += 1
        await dialer._guarded_step()
        assert dialled(ami) == [PHONE_A]  # B waits for the one channel

        reader = asyncio.create_task(dialer._consume_events())  # no writer yet
        learnt = dialer.clock.now()
        dialer.on_event(hangup(first, 16))
        await asyncio.sleep(0.05)
        with db.session() as s:
            state_when_b_dialled = s.get(CallAttempt, first).state
        await dialer._guarded_step()
        assert dialled(ami) == [PHONE_A, PHONE_B]

        dialer.clock._now = NOW + timedelta(seconds=30)  # the record is written later
        writer = asyncio.create_task(dialer._write_facts())
        await asyncio.wait_for(dialer._facts.join(), 10)
        for task in (reader, writer):
            task.cancel()
        with db.session() as s:
            ended = s.get(CallAttempt, first)
            assert ended.state == "ended"
            assert ended.ended_at == learnt.replace(tzinfo=None)  # when the hangup was read
            assert ended.action_id == f"originate-{first}"  # its Originate, written first
        return first, state_when_b_dialled

    first, state = asyncio.run(scenario())
    assert state == "originating"  # B was dialled while none of A's facts was written yet
    with db.session() as s:
        phones = s.scalars(select(CallAttempt.phone).where(CallAttempt.state != "ended"))
        assert list(phones) == ["+84" + PHONE_B[1:]]


def test_a_stopping_engine_writes_the_facts_it_has_learnt(db, tmp_path):
    schedule_call(db, PHONE_A, DAY, NOW)
    dialer, _ = make_dialer(db, tmp_path)

    async def scenario() -> str:
        await dialer._guarded_step()
        [attempt] = dialer.in_flight
        dialer._learnt(dialer.tracker.handle(hangup(attempt, 16), dialer.clock.monotonic())[0])
        writer = asyncio.create_task(dialer._write_facts())
        await dialer._drain_facts()
        writer.cancel()
        return attempt

    attempt = asyncio.run(scenario())
    with db.session() as s:
        assert s.get(CallAttempt, attempt).state == "ended"


def run_lanes(single: bool):
    """Hold the database thread(s) with a facts job, queue two facts and a claim behind
    it; the order the jobs ran in."""
    lanes = DbLanes(single=single)
    ran: list[str] = []
    release, holding = threading.Event(), threading.Event()

    def hold() -> None:
        holding.set()
        release.wait(10)
        ran.append("held fact")

    async def scenario() -> None:
        jobs = [asyncio.create_task(lanes.facts.run(hold))]
        await asyncio.to_thread(holding.wait, 10)
        jobs += [asyncio.create_task(lanes.facts.run(ran.append, name))
                 for name in ("fact 1", "fact 2")]
        await asyncio.sleep(0.01)  # the facts are queued first
        claim = asyncio.create_task(lanes.claims.run(ran.append, "claim"))
        await asyncio.sleep(0.05)
        release.set()
        await asyncio.gather(*jobs, claim)

    asyncio.run(scenario())
    lanes.close()
    return ran


def test_on_one_database_thread_the_claim_goes_before_queued_facts_which_keep_their_order():
    assert run_lanes(single=True) == ["held fact", "claim", "fact 1", "fact 2"]


def test_with_a_thread_per_lane_a_claim_never_waits_for_a_slow_fact():
    assert run_lanes(single=False) == ["claim", "held fact", "fact 1", "fact 2"]


def test_a_job_ends_even_when_nobody_awaits_it_and_errors_reach_the_caller():
    lanes = DbLanes(single=True)
    started, finish, done = threading.Event(), threading.Event(), []

    def slow_write() -> None:
        started.set()
        finish.wait(10)
        done.append("written")

    def broken() -> None:
        raise ValueError("no such attempt")

    async def scenario() -> str:
        waiter = asyncio.create_task(lanes.facts.run(slow_write))
        await asyncio.to_thread(started.wait, 10)
        waiter.cancel()  # as when the engine stops mid-write
        finish.set()
        try:
            await lanes.claims.run(broken)
        except ValueError as exc:
            return str(exc)
        return "no error"

    assert asyncio.run(scenario()) == "no such attempt"
    lanes.close()
    assert done == ["written"]


def test_facts_give_way_to_calls_being_started_but_are_never_held_back_for_long(db, tmp_path):
    schedule_call(db, PHONE_A, DAY, NOW)
    dialer, _ = make_dialer(db, tmp_path)

    async def scenario() -> tuple[str, str]:
        await dialer._guarded_step()
        [attempt] = dialer.in_flight
        writer = asyncio.create_task(dialer._write_facts())
        dialer._not_starting.clear()  # as if the loop never stopped starting calls
        dialer._learnt(dialer.tracker.handle(hangup(attempt, 16), dialer.clock.monotonic())[0])
        await asyncio.sleep(0.02)
        with db.session() as s:
            while_starting = s.get(CallAttempt, attempt).state
        await asyncio.wait_for(dialer._facts.join(), 5)
        writer.cancel()
        with db.session() as s:
            return while_starting, s.get(CallAttempt, attempt).state

    assert asyncio.run(scenario()) == ("originating", "ended")


def test_a_job_that_ends_after_its_event_loop_closed_leaves_the_lane_working():
    lanes = DbLanes(single=True)
    started, finish = threading.Event(), threading.Event()

    def slow_write() -> str:
        started.set()
        finish.wait(10)
        return "written"

    async def leave_it_running() -> None:
        asyncio.ensure_future(lanes.facts.run(slow_write))
        await asyncio.to_thread(started.wait, 10)

    asyncio.run(leave_it_running())  # the loop closes while the job still runs
    finish.set()

    async def next_job() -> str:
        return await asyncio.wait_for(lanes.claims.run(lambda: "next"), 5)

    assert asyncio.run(next_job()) == "next"
    lanes.close()
