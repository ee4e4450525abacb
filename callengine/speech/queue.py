"""Admission to the recognition workers: a bounded queue where in-call answers go first.

A resident waits on the line for an in-call answer; one recognised after its call waits for
nobody. So when every worker is busy, the next free one takes the oldest in-call request,
and only then the oldest after-call one. At most max_waiting requests wait; one more is
refused at once (QueueFull) and its answer stays pending, recognised later.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from contextlib import asynccontextmanager
from typing import AsyncIterator

IN_CALL, AFTER_CALL = 0, 1  # priorities: lower goes first


class QueueFull(Exception):
    """Too many recognitions are waiting already."""


class PriorityGate:
    def __init__(self, slots: int, max_waiting: int) -> None:
        self.slots = max(1, slots)
        self.max_waiting = max(0, max_waiting)
        self._busy = 0
        self._waiting: list[tuple[int, int, asyncio.Future]] = []
        self._order = itertools.count()

    @property
    def waiting(self) -> int:
        return sum(1 for *_, future in self._waiting if not future.done())

    @asynccontextmanager
    async def slot(self, priority: int) -> AsyncIterator[None]:
        """Hold one worker slot for the block; QueueFull if the queue is full."""
        if self._busy >= self.slots or self.waiting:
            if self.waiting >= self.max_waiting:
                raise QueueFull(f"{self.max_waiting} recognitions already waiting")
            future = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiting, (priority, next(self._order), future))
            try:
                await future  # the slot is handed over by _release
            except asyncio.CancelledError:
                if future.done() and not future.cancelled():
                    self._release()  # handed over just as we were cancelled
                raise
        else:
            self._busy += 1
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        while self._waiting:
            *_, future = heapq.heappop(self._waiting)
            if not future.done():
                future.set_result(None)  # the slot passes on; _busy stays
                return
        self._busy -= 1
