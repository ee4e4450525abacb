"""The dialer's database work, off the asyncio loop.

The loop only awaits; every query runs on a worker thread of its own lane:

* ``claims``: what picks and starts calls: due-task listings, claims, the mark written
  before an Originate, the counts and next due time, closing the day, reconcile's reads, and
  the sweeps (expired claim leases, silent servers, stale attempts).
* ``facts``: the facts of attempts (originated, answered, answers given, callback asked,
  finished). One worker, first in first out: the loop hands an attempt's facts over in the
  order they happened, so they are written in that order. A slow finish (it writes flags)
  never delays a claim, and a burst of claims never delays recording a hangup.
* ``heartbeat``: this engine's heartbeat row, so neither lane can make it look dead.

One thread per lane keeps the order simple and holds at most three connections per engine.
On SQLite the three lanes are one thread: the file has a single writer, so parallel writers
would only queue on its lock (SQLite's busy handler sleeps in steps up to 100 ms), and a
transaction that reads and then writes fails at once with "database is locked" when another
connection wrote since it began. One writer thread keeps SQLite's latency what it was.

Each call is one session, as before: the transactional
guarantees are those of AttemptRecords. A job whose awaiting coroutine is cancelled still
runs to its end (a claim is never half-written). The AMI reader never waits on any lane: it
only queues events for the loop.
"""

from __future__ import annotations

import asyncio
import functools
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, TypeVar

T = TypeVar("T")
LANES = ("claims", "facts", "heartbeat")


class DbLane:
    """One ordered worker thread; made when first used, closed with close()."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._pool: ThreadPoolExecutor | None = None
        self.busy = 0.0  # seconds spent in jobs (written by the lane's thread; benchmarks)
        self.jobs = 0

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix=f"callengine-db-{self.name}")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._timed,
                                          functools.partial(fn, *args, **kwargs))

    def _timed(self, job: Callable[[], T]) -> T:
        started = time.perf_counter()
        try:
            return job()
        finally:
            self.busy += time.perf_counter() - started
            self.jobs += 1

    def close(self) -> None:
        """Wait for the queued jobs, then stop the thread (a later run() makes a new one)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


class DbLanes:
    def __init__(self, *, single: bool = False) -> None:
        """Three lanes, or with `single` (SQLite) one lane under the three names."""
        self.claims = DbLane("claims" if not single else "all")
        self.facts = DbLane("facts") if not single else self.claims
        self.heartbeat = DbLane("heartbeat") if not single else self.claims

    @property
    def distinct(self) -> list[DbLane]:
        return list({id(lane): lane for lane in (self.claims, self.facts, self.heartbeat)}
                    .values())

    def close(self) -> None:
        for lane in self.distinct:
            lane.close()
