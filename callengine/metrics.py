"""Prometheus metrics of the engine and of the admin: every metric is defined here.

Counters and histograms are written by one-line calls where the event happens (the dialer,
the AMI client, the speech pool, the plan, the admin's requests). Gauges are read at scrape
time from the parts' own state (EngineState), so the parts need no hooks for them; the one
database query a scrape makes is cached for a few seconds.

Each process has its own registry (EngineMetrics / AdminMetrics), served by
callengine.metrics_server on a loopback address of its own.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from datetime import time as dt_time
from typing import Any, Callable, Iterable, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from callengine.metrics_server import HealthReport
from callengine.store.models import OUTCOMES

log = logging.getLogger("callengine.metrics")
PREFIX = "callengine"
DB_CACHE_SECONDS = 5.0  # a scrape queries the database at most this often
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
RECOGNITION_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
PLAN_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0)
REQUEST_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
IMPORT_RESULTS = ("imported", "rejected")


class EngineMetrics:
    """The engine process's metrics, all labelled with its server_id."""

    def __init__(self, server_id: str) -> None:
        self.server_id = server_id
        self.registry = CollectorRegistry()
        r = self.registry
        self.attempts_started = Counter(
            f"{PREFIX}_attempts_started", "Call attempts claimed and originated, by trunk",
            ["server_id", "trunk"], registry=r)
        self.attempts_ended = Counter(
            f"{PREFIX}_attempts_ended", "Call attempts ended, by outcome",
            ["server_id", "outcome"], registry=r)
        self.ami_response = Histogram(
            f"{PREFIX}_ami_response_seconds", "AMI action sent to its response, by action",
            ["server_id", "action"], buckets=LATENCY_BUCKETS, registry=r)
        self.ami_reconnects = Counter(
            f"{PREFIX}_ami_reconnects", "AMI logins after the first one of this process",
            ["server_id"], registry=r)
        self.recognition = Histogram(
            f"{PREFIX}_recognition_seconds", "Time a recognition worker took for one answer",
            ["server_id"], buckets=RECOGNITION_BUCKETS, registry=r)
        self.plan = Histogram(
            f"{PREFIX}_plan_seconds", "Duration of the daily plan (with its greetings)",
            ["server_id"], buckets=PLAN_BUCKETS, registry=r)
        self.plan_created = Counter(
            f"{PREFIX}_plan_tasks_created", "Calls created by the daily plan",
            ["server_id"], registry=r)
        for outcome in OUTCOMES:  # every series exists from the start: rate() needs a zero
            self.attempts_ended.labels(server_id, outcome)
        self.ami_reconnects.labels(server_id)
        self.plan_created.labels(server_id)
        self._logins = 0
        self.loop_beat: float | None = None  # monotonic time of the loop's last heartbeat

    # --- one-line hooks --------------------------------------------------------------------

    def attempt_started(self, trunk: str) -> None:
        self.attempts_started.labels(self.server_id, trunk).inc()

    def attempt_ended(self, outcome: str) -> None:
        self.attempts_ended.labels(self.server_id, outcome).inc()

    def ami_responded(self, action: str, seconds: float) -> None:
        self.ami_response.labels(self.server_id, action).observe(seconds)

    def ami_logged_in(self) -> None:
        self._logins += 1
        if self._logins > 1:
            self.ami_reconnects.labels(self.server_id).inc()

    def recognized(self, seconds: float) -> None:
        self.recognition.labels(self.server_id).observe(seconds)

    def plan_ran(self, seconds: float, created: int) -> None:
        self.plan.labels(self.server_id).observe(seconds)
        self.plan_created.labels(self.server_id).inc(created)

    def beat(self, monotonic: float) -> None:
        """The event loop is alive (called from it every second)."""
        self.loop_beat = monotonic

    def watch(self, state: EngineState) -> None:
        """Read the engine's gauges from `state` at every scrape."""
        for trunk in state.dialer.pacers:
            self.attempts_started.labels(self.server_id, trunk)
        self.registry.register(state)


class DialerMetrics(Protocol):
    """What the dialer reports (EngineMetrics, or NullDialerMetrics without metrics)."""

    def attempt_started(self, trunk: str) -> None: ...

    def attempt_ended(self, outcome: str) -> None: ...


class NullDialerMetrics:
    """What a Dialer built without metrics (tests, benchmarks) reports to: nothing."""

    def attempt_started(self, trunk: str) -> None:
        pass

    def attempt_ended(self, outcome: str) -> None:
        pass


@dataclass(frozen=True)
class TaskCounts:
    due: int  # pending tasks of today whose next attempt time has come
    claimed: int  # tasks being dialled now (any server)


@dataclass
class DatabaseProbe:
    """Today's due and claimed tasks, queried at most every DB_CACHE_SECONDS; whether the
    database answered (the health check reads it too)."""

    query: Callable[[], TaskCounts]
    monotonic: Callable[[], float] = time.monotonic
    cache_seconds: float = DB_CACHE_SECONDS
    counts: TaskCounts | None = None
    error: str | None = None
    checked_at: float | None = None  # monotonic time of the last try
    ok_at: float | None = None  # monotonic time the database last answered

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Query unless a recent answer (or failure) is cached; never raises."""
        with self._lock:
            now = self.monotonic()
            if self.checked_at is not None and now - self.checked_at < self.cache_seconds:
                return
            self.checked_at = now
            try:
                self.counts = self.query()
            except Exception as exc:  # a scrape must answer even when the database does not
                self.counts, self.error = None, f"{type(exc).__name__}"
                log.warning("metrics: database query failed (%s)", type(exc).__name__)
                return
            self.error, self.ok_at = None, now


def task_counts(db, window, clock) -> TaskCounts:
    """Today's due and claimed tasks, both from the dialer's index (status, next_attempt_at)
    alone: due ones are pending with a time between local midnight and now (a task's times
    are on its own day), claimed ones few (one per live call)."""
    from sqlalchemy import func, select

    from callengine.clock import to_db
    from callengine.store.models import TASK_DIALING, TASK_PENDING, CallTask

    now: datetime = clock.now()
    day = window.local_day(now)
    midnight = datetime.combine(day, dt_time(0), tzinfo=window.tz)

    def count(*where):
        return select(func.count()).select_from(CallTask).where(*where).scalar_subquery()

    with db.session() as s:
        due, claimed = s.execute(select(
            count(CallTask.status == TASK_PENDING, CallTask.next_attempt_at >= to_db(midnight),
                  CallTask.next_attempt_at <= to_db(now)),
            count(CallTask.status == TASK_DIALING, CallTask.day == day))).one()
    return TaskCounts(int(due), int(claimed))


class EngineState(Collector):
    """The engine's gauges, read from its parts at scrape time (in the server's thread)."""

    def __init__(self, metrics: EngineMetrics, *, dialer, supervisor, probe: DatabaseProbe,
                 pool=None, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.metrics = metrics
        self.dialer = dialer
        self.supervisor = supervisor
        self.probe = probe
        self.pool = pool
        self.monotonic = monotonic

    def collect(self) -> Iterable[Any]:
        sid = self.metrics.server_id
        yield from self._trunks(sid)
        yield _gauge("ami_connected", "1 while the AMI connection is logged in", sid,
                     1 if self.supervisor.connected else 0)
        self.probe.refresh()
        yield _gauge("database_up", "1 when the last database query (cached) answered", sid,
                     1 if self.probe.error is None and self.probe.ok_at is not None else 0)
        if self.probe.counts is not None:
            yield _gauge("tasks_due", "Today's pending calls whose time has come (all servers)",
                         sid, self.probe.counts.due)
            yield _gauge("tasks_claimed", "Today's calls being dialled now (all servers)", sid,
                         self.probe.counts.claimed)
        if self.pool is not None:
            yield _gauge("recognition_queue_depth", "Recognitions waiting for a worker", sid,
                         self.pool.gate.waiting)
            yield _gauge("recognition_workers", "Recognition worker processes", sid,
                         self.pool.workers)
        if self.metrics.loop_beat is not None:
            yield _gauge("loop_heartbeat_age_seconds", "Seconds since the event loop last beat",
                         sid, max(0.0, self.monotonic() - self.metrics.loop_beat))

    def _trunks(self, sid: str) -> Iterable[Any]:
        in_use = GaugeMetricFamily(f"{PREFIX}_trunk_channels_in_use",
                                   "Live calls on a trunk (this server)", labels=["server_id",
                                                                                  "trunk"])
        limit = GaugeMetricFamily(f"{PREFIX}_trunk_channels_limit",
                                  "Channels a trunk may use (this server)",
                                  labels=["server_id", "trunk"])
        down = GaugeMetricFamily(f"{PREFIX}_trunk_down",
                                 "1 while a trunk is skipped after repeated failures",
                                 labels=["server_id", "trunk"])
        unreachable = GaugeMetricFamily(f"{PREFIX}_trunk_unreachable",
                                        "1 while a trunk's carrier does not answer qualify "
                                        "(SIP OPTIONS): out of rotation",
                                        labels=["server_id", "trunk"])
        mono = self.dialer.clock.monotonic()
        out = self.dialer.health.unavailable()
        for name, pacer in list(self.dialer.pacers.items()):
            in_use.add_metric([sid, name], pacer.active)
            limit.add_metric([sid, name], pacer.max_channels)
            down.add_metric([sid, name], 1 if self.dialer.router.is_down(name, mono) else 0)
            unreachable.add_metric([sid, name], 1 if name in out else 0)
        return in_use, limit, down, unreachable


LOOP_STALE = 10.0  # seconds without a heartbeat: the event loop is stuck


def engine_health(state: EngineState) -> HealthReport:
    """200 for the service manager when the loop beats, the database answered at the last
    (cached) query and AMI is logged in; otherwise what is wrong."""
    problems = []
    beat = state.metrics.loop_beat
    age = None if beat is None else state.monotonic() - beat
    if age is None:
        problems.append("loop: not started")
    elif age > LOOP_STALE:
        problems.append(f"loop: no heartbeat for {age:.0f} s")
    state.probe.refresh()
    if state.probe.error is not None:
        problems.append(f"database: unreachable ({state.probe.error})")
    ami = state.supervisor.connected
    if not ami:
        problems.append("ami: not connected")
    return HealthReport(tuple(problems), {
        "server_id": state.metrics.server_id, "ami": "connected" if ami else "disconnected",
        "database": "ok" if state.probe.error is None else "unreachable",
        "loop_heartbeat_age": None if age is None else round(age, 1)})


def _gauge(name: str, documentation: str, server_id: str, value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(f"{PREFIX}_{name}", documentation, labels=["server_id"])
    family.add_metric([server_id], value)
    return family


# --- the process's plan metrics ---------------------------------------------------------------
# The daily plan runs as an APScheduler job referenced by name (no object can be handed to
# it): the engine's composition root installs its metrics here, and the plan reports to them.

_installed: EngineMetrics | None = None


def install(metrics: EngineMetrics | None) -> None:
    global _installed
    _installed = metrics


def plan_ran(seconds: float, created: int) -> None:
    """The daily plan finished (in this process); counted when an engine's metrics are on."""
    if _installed is not None:
        _installed.plan_ran(seconds, created)


# --- the admin --------------------------------------------------------------------------------


class AdminMetrics:
    """The admin process's metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(f"{PREFIX}_admin_requests", "Admin requests by blueprint and "
                                "status", ["blueprint", "status"], registry=r)
        self.latency = Histogram(f"{PREFIX}_admin_request_seconds", "Admin request latency by "
                                 "blueprint", ["blueprint"], buckets=REQUEST_BUCKETS, registry=r)
        self.import_rows = Counter(f"{PREFIX}_import_rows", "Rows of committed imports by result",
                                   ["result"], registry=r)
        self.login_failures = Counter(f"{PREFIX}_admin_login_failures",
                                      "Sign-ins refused: wrong user name or password",
                                      registry=r)
        for result in IMPORT_RESULTS:
            self.import_rows.labels(result)

    def request_done(self, blueprint: str, status: int, seconds: float) -> None:
        self.requests.labels(blueprint, str(status)).inc()
        self.latency.labels(blueprint).observe(seconds)

    def imported(self, imported: int, rejected: int) -> None:
        self.import_rows.labels("imported").inc(imported)
        self.import_rows.labels("rejected").inc(rejected)

    def login_failed(self) -> None:
        self.login_failures.inc()
