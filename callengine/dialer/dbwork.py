"""The dialer's database work, off the asyncio loop.

The loop only awaits; every query runs on a worker thread of its own lane:

* ``claims``: what picks and starts calls: due-task listings, claims, the mark written
  before an Originate, the counts and next due time, closing the day, reconcile's reads, and
  the sweeps (expired claim leases, silent servers, stale attempts).
* ``facts``: the facts of attempts (originated, answered, answers given, callback asked,
  finished). One worker, first in first out: the dialer's one fact writer hands them over
  in the order they happened, so they are written in that order. A slow finish (it writes
  flags) never delays a claim; the writer lets claims go first in a burst (service.py).
* ``heartbeat``: this engine's heartbeat row, so neither lane can make it look dead.

One thread per lane keeps the order simple and holds at most three connections per engine.
On SQLite the three lanes share one thread: the file has a single writer, so parallel writers
would only queue on its lock (SQLite's busy handler sleeps in steps up to 100 ms), and a
transaction that reads and then writes fails at once with "database is locked" when another
connection wrote since it began. On that thread the claims and the heartbeat go before the
facts already queued (each lane stays first in first out): the next call waits for no
hangup's record, as with the separate lanes of PostgreSQL.

Each call is one session, as before: the transactional
guarantees are those of AttemptRecords. A job whose awaiting coroutine is cancelled still
runs to its end (a claim is never half-written). The AMI reader never waits on any lane: it
only queues events for the loop.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import queue
import threading
import time
from typing import Any, Callable, TypeVar

T = TypeVar("T")
LANES = ("claims", "facts", "heartbeat")
URGENT, AFTER = 0, 1  # job priorities on a shared thread


class _Worker:
    """One thread running jobs by priority, then in the order they were queued."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._jobs: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, priority: int, job: Callable[[], Any],
               done: Callable[[Any, BaseException | None], None]) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, daemon=True,
                                                name=f"callengine-db-{self.name}")
                self._thread.start()
            self._jobs.put((priority, next(self._order), job, done))

    def _serve(self) -> None:
        while True:
            _, _, job, done = self._jobs.get()
            if job is None:
                return
            try:
                result = job()
            except BaseException as exc:  # handed to the awaiting coroutine
                done(None, exc)
            else:
                done(result, None)

    def close(self) -> None:
        """Run the queued jobs, then stop the thread (a later submit starts a new one)."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._jobs.put((AFTER + 1, next(self._order), None, None))
        thread.join()


class DbLane:
    """An ordered lane of database jobs on a worker thread (made when first used)."""

    def __init__(self, name: str, worker: _Worker | None = None, priority: int = URGENT) -> None:
        self.name = name
        self.worker = worker or _Worker(name)
        self.priority = priority
        self.busy = 0.0  # seconds spent in jobs (written by the worker thread; benchmarks)
        self.jobs = 0

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()

        def done(result: Any, error: BaseException | None) -> None:
            try:
                loop.call_soon_threadsafe(_settle, future, result, error)
            except RuntimeError:  # the loop has closed: nobody waits for the result
                pass

        self.worker.submit(self.priority, functools.partial(
            self._timed, functools.partial(fn, *args, **kwargs)), done)
        return await future

    def _timed(self, job: Callable[[], T]) -> T:
        started = time.perf_counter()
        try:
            return job()
        finally:
            self.busy += time.perf_counter() - started
            self.jobs += 1

    def close(self) -> None:
        """Wait for the queued jobs, then stop the thread (a later run() makes a new one)."""
        self.worker.close()


def _settle(future: asyncio.Future, result: Any, error: BaseException | None) -> None:
    if future.cancelled():  # the job ran to its end; nobody waits for it any more
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class DbLanes:
    def __init__(self, *, single: bool = False) -> None:
        """Three lanes, or with `single` (SQLite) three lanes on one thread, where the claims
        and the heartbeat go before queued facts."""
        if single:
            shared = _Worker("all")
            self.claims = DbLane("claims", shared)
            self.facts = DbLane("facts", shared, priority=AFTER)
            self.heartbeat = DbLane("heartbeat", shared)
        else:
            self.claims, self.facts = DbLane("claims"), DbLane("facts")
            self.heartbeat = DbLane("heartbeat")

    def close(self) -> None:
        for lane in (self.claims, self.facts, self.heartbeat):
            lane.close()
