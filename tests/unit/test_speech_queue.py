"""The recognition queue: bounded, and in-call answers before after-call ones."""

from __future__ import annotations

import asyncio

import pytest

from callengine.speech.queue import AFTER_CALL, IN_CALL, PriorityGate, QueueFull


def run(test):
    return asyncio.run(asyncio.wait_for(test(), 5))


async def job(gate: PriorityGate, priority: int, name: str, order: list[str],
              hold: asyncio.Event | None = None) -> None:
    async with gate.slot(priority):
        order.append(name)
        if hold is not None:
            await hold.wait()


def test_when_the_workers_are_busy_an_in_call_answer_overtakes_waiting_after_call_ones():
    async def scenario():
        gate, order, hold = PriorityGate(slots=1, max_waiting=10), [], asyncio.Event()
        busy = asyncio.create_task(job(gate, AFTER_CALL, "busy", order, hold))
        await asyncio.sleep(0)
        waiting = [asyncio.create_task(job(gate, AFTER_CALL, f"after-{i}", order))
                   for i in range(3)]
        await asyncio.sleep(0)
        in_call = asyncio.create_task(job(gate, IN_CALL, "in-call", order))
        await asyncio.sleep(0)
        hold.set()
        await asyncio.gather(busy, *waiting, in_call)
        return order
    assert run(scenario) == ["busy", "in-call", "after-0", "after-1", "after-2"]


def test_one_more_than_max_waiting_is_refused_at_once_and_the_others_run():
    async def scenario():
        gate, order, hold = PriorityGate(slots=2, max_waiting=1), [], asyncio.Event()
        running = [asyncio.create_task(job(gate, IN_CALL, f"run-{i}", order, hold))
                   for i in range(2)]
        await asyncio.sleep(0)
        queued = asyncio.create_task(job(gate, IN_CALL, "queued", order))
        await asyncio.sleep(0)
        with pytest.raises(QueueFull):
            await job(gate, IN_CALL, "refused", order)
        hold.set()
        await asyncio.gather(*running, queued)
        return order, gate.waiting
    order, waiting = run(scenario)
    assert order == ["run-0", "run-1", "queued"] and waiting == 0


def test_a_cancelled_waiter_gives_its_turn_to_the_next():
    async def scenario():
        gate, order, hold = PriorityGate(slots=1, max_waiting=5), [], asyncio.Event()
        busy = asyncio.create_task(job(gate, IN_CALL, "busy", order, hold))
        await asyncio.sleep(0)
        gone = asyncio.create_task(job(gate, IN_CALL, "gone", order))
        later = asyncio.create_task(job(gate, AFTER_CALL, "later", order))
        await asyncio.sleep(0)
        gone.cancel()
        hold.set()
        await asyncio.gather(busy, later)
        async with gate.slot(IN_CALL):  # every slot came back
            order.append("free")
        return order
    assert run(scenario) == ["busy", "later", "free"]
