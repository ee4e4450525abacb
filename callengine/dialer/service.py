"""The dialer: claims due calls, paces them per trunk, originates, and records how they end."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from callengine import contract
from callengine.ami import actions
from callengine.ami.errors import AmiActionError, AmiConnectionError
from callengine.cdr import CdrReader
from callengine.clock import Clock
from callengine.dialer import outcome as oc
from callengine.dialer.campaign import CampaignWatcher
from callengine.dialer.dbwork import DbLanes
from callengine.dialer.pacing import TrunkPacer, build_pacers
from callengine.dialer.records import (
    REFUSED_LIVE_ELSEWHERE,
    REFUSED_LOCKED,
    AttemptRecords,
    ClaimRefused,
    DueTask,
    Ending,
)
from callengine.dialer.routing import TrunkRouter, dial_string
from callengine.dialer.tracker import (
    Answered,
    AnswerGiven,
    AttemptTracker,
    CallbackRequested,
    Finished,
    Originated,
)
from callengine.dialer.trunk_health import DEVICE_EVENT, TrunkHealth, describe
from callengine.dialer.window import Window
from callengine.metrics import DialerMetrics, NullDialerMetrics
from callengine.phones import mask_phone, normalize_phone
from callengine.settings import Settings, Trunk
from callengine.store.hiccups import Backoff, is_transient
from callengine.store.servers import Heartbeat

log = logging.getLogger("callengine.dialer")
IDLE_POLL = 5.0  # seconds between looks at the database when nothing wakes the dialer
BATCH = 50
CLAIM_HOLD = 60.0  # seconds a task whose claim the database refused is left alone
STALE_CHECK = 60.0  # seconds between looks for stale live attempts of any server
HEARTBEAT = 5.0  # seconds between heartbeats (at most a third of server_down_grace)
FACTS_YIELD = 0.1  # seconds at most a fact waits while calls are being started
FACTS_BACKLOG = 200  # facts waiting to be written beyond which they no longer give way
FACTS_DRAIN = 10.0  # seconds a stopping engine waits for the facts it learnt to be written
REFUSALS = {
    REFUSED_LIVE_ELSEWHERE: "another server's call to this person is still live in the database",
    REFUSED_LOCKED: "the database was locked by another writer (an import?)",
}


@dataclass
class InFlight:
    trunk: str
    counted: bool  # holds a channel of its trunk's pacer


class Dialer:
    def __init__(
        self, *, settings: Settings, records: AttemptRecords, supervisor, window: Window,
        router: TrunkRouter, cdr: CdrReader, clock: Clock, survey_variables: dict[str, str],
        on_finished: Callable[[str], None] | None = None,
        pacers: dict[str, TrunkPacer] | None = None, campaign: CampaignWatcher | None = None,
        heartbeat: Heartbeat | None = None, after_claim: Callable[[], None] | None = None,
        metrics: DialerMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.records = records
        self.supervisor = supervisor
        self.window = window
        self.router = router
        self.cdr = cdr
        self.clock = clock
        self.survey_variables = survey_variables
        self.on_finished = on_finished  # called with the attempt id once it is recorded
        self.pacers = pacers if pacers is not None else build_pacers(settings.trunks)
        self.campaign = campaign  # pause, window, limits and retries changed live
        self.heartbeat = heartbeat  # this server's row in `servers` (None: no heartbeat)
        self.after_claim = after_claim  # test hook: called right after a claim commits
        # every database call runs on these lanes, never on the loop (one lane on SQLite)
        self.db = DbLanes(single=records.db.engine.dialect.name == "sqlite")
        self.metrics = metrics or NullDialerMetrics()  # attempts started and ended (counters)
        self.tracker = AttemptTracker()
        self.health = TrunkHealth(settings.trunks)  # PJSIP qualify: trunks out of rotation
        self._health_warned: set[str | bool] = set()  # endpoints (or True: denied) told once
        self.in_flight: dict[str, InFlight] = {}
        self._events: asyncio.Queue = asyncio.Queue()
        self._facts: asyncio.Queue = asyncio.Queue()  # (fact, when learnt), to be written
        self._not_starting = asyncio.Event()  # set while the loop is not starting calls
        self._not_starting.set()
        self._wake = asyncio.Event()
        self._ready = asyncio.Event()
        self._recheck_at: float | None = None
        self._held: dict[int, float] = {}  # refused task id -> monotonic time it may retry
        self._db_backoff = Backoff(initial=0.5, cap=30.0)  # the loop's database hiccups
        self._next_stale_check = 0.0
        self._next_lease_check = 0.0
        self._next_silent_check = 0.0
        self._ami_down_since: float | None = None  # monotonic; None while AMI is up
        self._ami_down_handled = False  # this outage's live attempts already ended
        self._ended_on_lane: deque[str] = deque()  # finished by a lane job: release on the loop
        self.originate_log: list[tuple[float, str]] = []  # (monotonic, trunk) for benchmarks
        if campaign is not None:
            campaign.subscribe(self._wake.set)  # a resume or a raised limit dials at once

    # --- AMI hooks -------------------------------------------------------------------------

    def on_event(self, message) -> None:
        """Called by the AMI reader: only queue, never block it."""
        if message.name == "ContactStatus":
            self._apply_health(self.health.on_contact_status(message))
            return
        if message.name == DEVICE_EVENT:
            self._apply_health(self.health.on_device_state(message))
            return
        self._events.put_nowait(message)

    async def on_connected(self, client) -> None:
        if self._ami_down_since is not None:
            log.info("AMI connected after %.0f s without it; reconciling",
                     self.clock.monotonic() - self._ami_down_since)
        self._ami_down_since, self._ami_down_handled = None, False
        await self.learn_trunk_health(client)
        await self.reconcile(client)
        self._ready.set()
        self._wake.set()

    def on_disconnected(self, reason: str) -> None:
        log.warning("AMI connection lost (%s); dialling paused", reason)
        self._ready.clear()
        if self._ami_down_since is None:
            self._ami_down_since = self.clock.monotonic()

    async def learn_trunk_health(self, client) -> None:
        """Each trunk endpoint's device state now; DeviceStateChange and ContactStatus events
        keep it current."""
        try:
            states = await actions.device_state_list(client)
        except AmiActionError as exc:
            if True not in self._health_warned:
                log.warning("trunk device states not read at connect (%s): is "
                            "res_manager_devicestate loaded and may the AMI user write call "
                            "or reporting? Trunk health follows ContactStatus events only",
                            exc)
            self._health_warned.add(True)
            return
        self._apply_health(self.health.load_device_states(states))
        for endpoint in self.health.endpoints:
            if self.health.device_state(endpoint) is None and endpoint not in self._health_warned:
                log.warning("trunk endpoint %s has no device state PJSIP/%s in Asterisk (is "
                            "the endpoint in pjsip.conf?); its ContactStatus events judge it",
                            endpoint, endpoint)
                self._health_warned.add(endpoint)

    def _apply_health(self, changes) -> None:
        for change in changes:
            (log.info if change.available else log.warning)(describe(change))
            if change.available:
                self._wake.set()  # calls waiting for this trunk may start now

    # --- main loop -------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event, *, until_idle: bool = False) -> None:
        if not self._ready.is_set() and self._ami_down_since is None:
            self._ami_down_since = self.clock.monotonic()  # not connected yet
        helpers = [asyncio.create_task(self._consume_events()),
                   asyncio.create_task(self._write_facts()),
                   asyncio.create_task(self._sweep(stop))]
        if self.heartbeat is not None:
            helpers.append(asyncio.create_task(self._beat(stop)))
        try:
            while not stop.is_set():
                if not self._ready.is_set():
                    await self._wait_any(stop, self._ready.wait(), timeout=IDLE_POLL)
                    continue
                self._wake.clear()
                wait = await self._guarded_step()
                if wait is None:
                    if until_idle:
                        log.info("nothing left to dial today; exiting")
                        return
                    wait = IDLE_POLL
                await self._sleep(stop, wait)
        finally:
            await self._drain_facts()
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            await asyncio.to_thread(self.db.close)  # queued writes finish first

    async def _guarded_step(self) -> float | None:
        """One dial step that no error ends: a failing database is retried with backoff."""
        try:
            wait = await self._dial_step()
        except Exception as exc:  # the loop must never end: the next try may succeed
            delay = self._db_backoff.failed()
            if self._db_backoff.episode_started:
                if is_transient(exc):
                    log.warning("database unavailable (%s); dialling retried with backoff, "
                                "first in %gs", type(exc).__name__, delay)
                else:
                    log.exception("dial step failed; retried with backoff, first in %gs", delay)
            return delay
        failures = self._db_backoff.succeeded()
        if failures:
            log.info("dialling resumed after %d failed tries", failures)
        return wait

    async def _dial_step(self) -> float | None:
        """Start what may start now; return seconds to wait, or None when the day is done."""
        now = self.clock.now()
        day = self.window.local_day(now)
        opening = self.window.next_start(now)
        if opening is None:
            if self.in_flight:
                return IDLE_POLL
            closed = await self.db.claims.run(self.records.close_day, day, now)
            if closed:
                log.info("call window closed: %d call(s) left for tomorrow's plan", closed)
            return None
        if opening > now:
            return (opening - now).total_seconds()
        if self._paused():
            return await self._paused_wait(day)
        trunk_wait = await self._start_due(day, now)
        next_due = await self.db.claims.run(self.records.next_due_at, day)
        if next_due is None and not self.in_flight and await self._open_tasks(day) == 0:
            return None
        # A due time already past means the task waits for a trunk: a freed channel wakes us.
        until_due = (next_due - self.clock.now()).total_seconds() if next_due else math.inf
        return min(trunk_wait, until_due if until_due > 0 else math.inf, IDLE_POLL)

    async def _start_due(self, day, now: datetime) -> float:
        """Originate every due task a trunk can take now; seconds until a blocked one may go.

        inf when the blocked tasks wait for a channel: a finished call wakes the loop.
        """
        soonest = math.inf
        self._not_starting.clear()
        try:
            due = await self.db.claims.run(self.records.due_tasks, day, now, BATCH,
                                           skip=self._held_tasks())
            for task in due:
                if self._paused():
                    break
                trunk, wait = self._pick_trunk(task)
                if trunk is None:
                    soonest = min(soonest, wait)
                    continue
                if not await self._originate(task, trunk, self._carriers_of(trunk, due), day):
                    break  # the database is locked: the rest waits for the next step
        finally:
            self._not_starting.set()
        return soonest

    def _carriers_of(self, trunk: Trunk, due: list[DueTask]) -> set[str]:
        """The listed tasks' carriers that this trunk dials now: a SKIP LOCKED claim takes
        the soonest task of these carriers that no other engine is claiming."""
        mono = self.clock.monotonic()
        return {t.carrier for t in due
                if self.router.candidates(t.carrier, mono)[:1] == [trunk]}

    def _held_tasks(self) -> list[int]:
        mono = self.clock.monotonic()
        return [task_id for task_id, until in self._held.items() if until > mono]

    def _hold(self, task: DueTask, refused: ClaimRefused) -> None:
        """Leave a refused task alone for a while; say so the first time only."""
        if task.task_id not in self._held:
            log.warning("call to %s (task %d) not started, taken by someone else: %s",
                        mask_phone(task.phone), task.task_id,
                        REFUSALS.get(refused.reason, refused.reason))
        self._held[task.task_id] = self.clock.monotonic() + CLAIM_HOLD

    def _paused(self) -> bool:
        return self.campaign is not None and self.campaign.paused

    async def _paused_wait(self, day) -> float | None:
        """While paused, wait for a resume; None (the day is done) when nothing is open."""
        if not self.in_flight and await self._open_tasks(day) == 0:
            return None
        return IDLE_POLL

    async def _open_tasks(self, day) -> int:
        return await self.db.claims.run(self.records.open_task_count, day)

    def _pick_trunk(self, task: DueTask) -> tuple[Trunk | None, float]:
        """The number's trunk if it may start now; other trunks only stand in when it is down."""
        mono = self.clock.monotonic()
        candidates = self.router.candidates(task.carrier, mono, self.health.unavailable())
        if not candidates:
            return None, IDLE_POLL
        wait = self.pacers[candidates[0].name].wait_time(mono)
        return (candidates[0], 0.0) if wait == 0 else (None, wait)

    async def _originate(self, task: DueTask, trunk: Trunk, carriers: set[str] | None = None,
                         day=None) -> bool:
        """Claim and originate one task; False when the database is locked (stop the batch).

        With `carriers` (and the day) on PostgreSQL, the claim takes the soonest due task of
        those carriers that no other engine is claiming; without, exactly `task`."""
        attempt_id = str(uuid.uuid4())
        decided = self.clock.monotonic()  # the pacer counts from here, not from the claim's
        claimed = await self._claim(task, trunk, carriers, day, attempt_id)  # commit: the
        if not isinstance(claimed, DueTask):  # database's latency must not slow the pace
            return claimed
        task = claimed
        if self.after_claim is not None:
            self.after_claim()
        mono = self.clock.monotonic()
        self.pacers[trunk.name].started(decided)
        self.metrics.attempt_started(trunk.name)
        self.in_flight[attempt_id] = InFlight(trunk.name, counted=True)
        action_id = f"originate-{attempt_id}"
        self.tracker.track(attempt_id, action_id, mono)
        self.originate_log.append((mono, trunk.name))
        if not await self._mark_dialling(attempt_id):
            return True
        try:
            await self._send_originate(task, trunk, attempt_id, action_id)
        except Exception as exc:  # one attempt's fault must not end the loop
            await self._fail_attempt(attempt_id, exc, "originating")
        return True

    async def _claim(self, task: DueTask, trunk: Trunk, carriers: set[str] | None, day,
                     attempt_id: str) -> DueTask | bool:
        """The task claimed (on PostgreSQL the soonest due one of `carriers` no other engine
        is claiming), else what _originate returns: True (go on) or False (locked: stop)."""
        now = self.clock.now()
        try:
            if self.records.skip_locked and carriers is not None:
                got = await self.db.claims.run(self.records.claim_next, day, now, carriers,
                                               self._held_tasks(), attempt_id, trunk.name)
                return got if got is not None else True
            won = await self.db.claims.run(self.records.claim, task, attempt_id, trunk.name, now)
            return task if won else True
        except ClaimRefused as refused:
            self._hold(refused.task or task, refused)
            return refused.reason != REFUSED_LOCKED

    async def _mark_dialling(self, attempt_id: str) -> bool:
        """Write that the Originate is being sent (before it is): from then on no lease may
        give the task to another engine. False, and the call forgotten here, when the mark
        failed (the lease returns the task) or the lease already took it."""
        try:
            marked = await self.db.claims.run(self.records.dialling, attempt_id)
        except Exception as exc:
            log.warning("attempt %s: could not mark it dialled (%s); not dialled, its claim "
                        "lease returns the task", attempt_id, type(exc).__name__)
            marked = None
        if marked is False:
            log.warning("attempt %s: its claim lease expired before it was dialled; not "
                        "dialled", attempt_id)
        if not marked:
            self._release(attempt_id, trunk_fault=False)
        return bool(marked)

    async def _send_originate(self, task: DueTask, trunk: Trunk, attempt_id: str,
                              action_id: str) -> None:
        try:
            await actions.originate(
                self.supervisor.client, channel=dial_string(trunk, normalize_phone(task.phone)),
                context=self.settings.survey_context, exten="s", channel_id=attempt_id,
                action_id=action_id, timeout_ms=int(self.settings.ring_timeout * 1000),
                caller_id=trunk.caller_id, account="callengine",
                variables={contract.VAR_ATTEMPT: attempt_id, **self.survey_variables,
                           **({contract.VAR_GREETING: task.greeting} if task.greeting else {})},
            )
        except AmiActionError as exc:
            await self._finish(attempt_id, Ending(
                oc.FAILED, detail=f"originate refused: {exc}"[:200]), trunk_fault=True)
        except AmiConnectionError:
            # Asterisk may or may not have the call: reconcile decides, never a blind re-send.
            log.warning("attempt %s: AMI lost while originating; will reconcile", attempt_id)
        else:
            self._learnt(Originated(attempt_id, action_id))  # written in order, not awaited

    async def _fail_attempt(self, attempt_id: str, exc: BaseException, during: str) -> None:
        """End an attempt whose handling raised as failed; the dialer goes on."""
        log.error("attempt %s: %s failed (%s); the attempt is ended as failed", attempt_id,
                  during, type(exc).__name__, exc_info=exc)
        detail = f"internal error while {during}: {type(exc).__name__}"[:200]
        try:
            await self._finish(attempt_id, Ending(oc.FAILED, detail=detail), trunk_fault=False)
        except Exception:
            log.exception("attempt %s: could not be ended as failed either; left to the "
                          "stale-attempt sweep", attempt_id)
            self._release(attempt_id, trunk_fault=False)

    # --- events --------------------------------------------------------------------------

    async def _consume_events(self) -> None:
        """AMI events into facts as fast as they come. A call's end frees its channel at
        once, so the next call waits for no database write; the facts go to _write_facts,
        with the time they were learnt, in the order they happened."""
        while True:
            message = await self._events.get()
            try:
                facts = self.tracker.handle(message, self.clock.monotonic())
            except Exception:  # one bad event must not stop the dialer
                log.exception("failed to read AMI event %s", message.name)
                continue
            for fact in facts:
                self._learnt(fact)

    def _learnt(self, fact) -> None:
        if isinstance(fact, Finished):
            self._free_channel(fact.attempt_id)
        self._facts.put_nowait((fact, self.clock.now()))

    async def _write_facts(self) -> None:
        """Write the facts in order. Calls being started go first: a fact waits (at most
        FACTS_YIELD, and not once FACTS_BACKLOG facts wait) while the loop starts calls, so
        on PostgreSQL the facts lane's thread does not compete with the claims for the
        interpreter in a burst of hangups."""
        while True:
            fact, learnt = await self._facts.get()
            try:
                if not self._not_starting.is_set() and self._facts.qsize() < FACTS_BACKLOG:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._not_starting.wait(), FACTS_YIELD)
                await self._apply_safely(fact, learnt)
            finally:
                self._facts.task_done()

    async def _drain_facts(self) -> None:
        """On the way out, the facts already learnt are written (a bounded wait)."""
        try:
            await asyncio.wait_for(self._facts.join(), FACTS_DRAIN)
        except TimeoutError:
            log.warning("%d call fact(s) not written before the engine stopped; the next "
                        "start reconciles them from Asterisk's CDR", self._facts.qsize())

    def _free_channel(self, attempt_id: str) -> None:
        """The call is over in Asterisk: its channel may carry the next call now."""
        flight = self.in_flight.get(attempt_id)
        if flight is not None and flight.counted:
            flight.counted = False
            self.pacers[flight.trunk].finished()
            self._wake.set()

    async def _apply_safely(self, fact, learnt: datetime) -> None:
        """Record one fact; a database hiccup is retried, any other error fails the attempt."""
        backoff = Backoff(initial=0.5, cap=30.0)
        while True:
            try:
                await self._apply(fact, learnt)
            except Exception as exc:
                if not is_transient(exc):
                    await self._fail_attempt(fact.attempt_id, exc,
                                       f"recording {type(fact).__name__}")
                    return
                delay = backoff.failed()
                if backoff.episode_started:
                    log.warning("attempt %s: database unavailable (%s); retrying with backoff, "
                                "first in %gs", fact.attempt_id, type(exc).__name__, delay)
                await asyncio.sleep(delay)
                continue
            if backoff.succeeded():
                log.info("attempt %s: recorded after the database came back", fact.attempt_id)
            return

    async def _apply(self, fact, now: datetime) -> None:
        facts = self.db.facts
        if isinstance(fact, Originated):
            await facts.run(self.records.originated, fact.attempt_id, fact.action_id)
        elif isinstance(fact, Answered):
            await facts.run(self.records.answered, fact.attempt_id, now)
        elif isinstance(fact, AnswerGiven):
            await facts.run(self.records.save_answers, fact.attempt_id,
                            {fact.question_id: fact.key}, now)
        elif isinstance(fact, CallbackRequested):
            await facts.run(self.records.request_callback, fact.attempt_id)
        elif isinstance(fact, Finished):
            signals = fact.signals
            outcome = oc.classify(signals)
            detail = None if signals.cause is not None else self._fallback_detail(signals)
            await self._finish(fact.attempt_id, Ending(
                outcome, cause=signals.cause, sip_code=signals.sip_code, detail=detail,
                stage=signals.stage, answers=fact.answers,
            ), trunk_fault=oc.is_trunk_fault(signals, outcome), now=now)

    @staticmethod
    def _fallback_detail(signals) -> str | None:
        parts = []
        if signals.dial_status:
            parts.append(f"DialStatus={signals.dial_status}")
        if signals.originate_reason is not None:
            parts.append(f"Reason={signals.originate_reason}")
        return " ".join(parts) or None

    async def _finish(self, attempt_id: str, ending: Ending, *, trunk_fault: bool,
                      now: datetime | None = None) -> None:
        if await self.db.facts.run(self.records.finish, attempt_id, ending,
                                   now or self.clock.now()):
            self.metrics.attempt_ended(ending.outcome)
        self._after_finish(attempt_id, trunk_fault=trunk_fault)

    def _after_finish(self, attempt_id: str, *, trunk_fault: bool) -> None:
        if self.on_finished is not None:
            try:
                self.on_finished(attempt_id)
            except OSError as exc:
                log.warning("attempt %s: after-call clean-up failed: %s", attempt_id, exc)
        self._release(attempt_id, trunk_fault=trunk_fault)

    def _release(self, attempt_id: str, *, trunk_fault: bool) -> None:
        """Forget a finished attempt here: its channel back to the pacer, the loop woken."""
        self.tracker.forget(attempt_id)
        flight = self.in_flight.pop(attempt_id, None)
        if flight is not None:
            if flight.counted:
                self.pacers[flight.trunk].finished()
            if self.router.report(flight.trunk, trunk_fault, self.clock.monotonic()):
                log.error("trunk %s marked down for %.0f s after repeated failures",
                          flight.trunk, self.settings.trunk_down_cooloff)
        self._wake.set()

    # --- reconciliation ------------------------------------------------------------------

    async def reconcile(self, client) -> None:
        """Match this server's unfinished attempts against Asterisk's live channels and CDRs."""
        live_channels = {m.get("Uniqueid") for m in await actions.core_show_channels(client)}
        unfinished = await self.db.claims.run(self.records.live_attempts)
        gone = {a[0] for a in unfinished if a[0] not in live_channels}
        records = await self.db.claims.run(self.cdr.find, gone)
        now, mono = self.clock.now(), self.clock.monotonic()
        for attempt_id, action_id, trunk, created_at in unfinished:
            if attempt_id in live_channels:
                self._adopt(attempt_id, action_id, trunk, mono)
            elif attempt_id in records:
                await self._finish_from_cdr(attempt_id, records[attempt_id])
            elif (now - created_at).total_seconds() > self.settings.attempt_grace:
                await self._finish(attempt_id, Ending(
                    oc.FAILED, detail="lost: no live channel and no call record"),
                    trunk_fault=False)
            else:
                self._recheck_at = mono + self.settings.attempt_grace
        if unfinished:
            log.info("reconciled %d unfinished attempt(s): %d still live", len(unfinished),
                     len([a for a in unfinished if a[0] in live_channels]))

    def _adopt(self, attempt_id: str, action_id: str | None, trunk: str, mono: float) -> None:
        if attempt_id in self.in_flight:
            return
        self.tracker.track(attempt_id, action_id, mono)
        pacer = self.pacers.get(trunk)
        if pacer is not None:
            pacer.active += 1
        self.in_flight[attempt_id] = InFlight(trunk, counted=pacer is not None)

    async def _finish_from_cdr(self, attempt_id: str, record) -> None:
        outcome = oc.classify_cdr(record.disposition, record.stage)
        await self._finish(attempt_id, Ending(
            outcome, detail=f"from CDR: {record.disposition}", stage=record.stage,
            answers=record.answers,
        ), trunk_fault=False)

    async def _sweep(self, stop: asyncio.Event) -> None:
        """Finish attempts whose last event never came (a failed Originate without Hangup),
        and live attempts of any server that are too old to be real calls."""
        failing = False
        while not stop.is_set():
            await asyncio.sleep(1.0)
            try:
                await self._sweep_once()
            except Exception as exc:  # the sweep must go on, like the loop
                if not failing:
                    log.warning("attempt sweep failed (%s); retried every second",
                                type(exc).__name__, exc_info=not is_transient(exc))
                failing = True
                continue
            failing = False

    async def _sweep_once(self) -> None:
        mono = self.clock.monotonic()
        await self._dead_work_checks(mono)
        overdue = self.settings.ring_timeout + self.settings.max_call_duration
        stale = False
        for attempt in list(self.tracker.live.values()):
            idle = mono - attempt.last_event_at
            if attempt.originate_failed and idle > self.settings.attempt_grace:
                fact = self.tracker.expire(attempt.attempt_id)
                if fact:
                    self._learnt(fact)
            elif idle > overdue + self.settings.attempt_grace:
                stale = True
        recheck = self._recheck_at is not None and mono >= self._recheck_at
        if (stale or recheck) and self._ready.is_set():
            self._recheck_at = None
            try:
                await self.reconcile(self.supervisor.client)
            except AmiConnectionError:
                pass

    async def _dead_work_checks(self, mono: float) -> None:
        """Work that nobody will finish otherwise: expired claim leases (any server's),
        calls of silent servers, this server's calls while its Asterisk is unreachable, and
        stale live attempts (the last resort)."""
        claims = self.db.claims
        if mono >= self._next_lease_check:
            self._next_lease_check = mono + min(HEARTBEAT, self.settings.claim_lease / 3)
            await claims.run(self.expire_claim_leases)
        if self.heartbeat is not None and mono >= self._next_silent_check:
            self._next_silent_check = mono + self._beat_interval()
            await claims.run(self.end_silent_servers_attempts)
        if mono >= self._next_stale_check:
            self._next_stale_check = mono + STALE_CHECK
            await claims.run(self.end_stale_attempts)
        await self._end_own_calls_if_asterisk_gone(mono)
        while self._ended_on_lane:
            self._after_finish(self._ended_on_lane.popleft(), trunk_fault=False)

    # The sweeps below run on the claims lane (they are database work only); what they end
    # is released on the loop afterwards (_ended_on_lane).

    def expire_claim_leases(self) -> int:
        """End claims never dialled whose lease passed; their tasks are pending at once."""
        expired = self.records.expire_leases(self.clock.now())
        for attempt_id, server in expired:
            log.warning("attempt %s of server %s: claimed but never dialled within its %gs "
                        "lease; the task is back in the pool", attempt_id, server,
                        self.settings.claim_lease)
            self._ended_on_lane.append(attempt_id)
        return len(expired)

    def end_silent_servers_attempts(self) -> int:
        """End the dialled live attempts of servers silent for longer than server_down_grace
        (engine and its Asterisk presumed dead); their answers so far are kept.

        Only calls older than the longest call (ring timeout + max call duration + grace):
        when the engine died alone, its Asterisk still carries the call until the dialplan's
        cap ends it, and nobody may be called while their first call is still live."""
        grace, settings = self.settings.server_down_grace, self.settings
        longest = settings.ring_timeout + settings.max_call_duration + settings.attempt_grace
        silent = self.records.silent_servers_attempts(
            grace, self.clock.now() - timedelta(seconds=longest))
        for attempt_id, server, last_seen in silent:
            log.warning("attempt %s: server %s silent since %s UTC; ended as failed",
                        attempt_id, server, f"{last_seen:%Y-%m-%d %H:%M:%S}")
            self._end_on_lane(attempt_id, (
                f"server {server} silent since {last_seen:%Y-%m-%d %H:%M:%S} UTC: call "
                f"presumed lost; ended by {self.records.server_id}"))
        return len(silent)

    def end_stale_attempts(self) -> int:
        """End live attempts of any server (one that died or was renamed) older than the
        stale_attempt_age; they block calls to their person. Return how many."""
        age = self.settings.stale_attempt_age
        now = self.clock.now()
        stale = self.records.stale_attempts(now - timedelta(seconds=age))
        for attempt_id, server in stale:
            log.warning("attempt %s of server %s still live after %gs: ended as failed (stale)",
                        attempt_id, server, age)
            self._end_on_lane(attempt_id, (
                f"stale: still live after {age:g}s (server {server}); ended by "
                f"{self.records.server_id}"))
        return len(stale)

    def _end_on_lane(self, attempt_id: str, detail: str) -> None:
        self.records.finish(attempt_id, Ending(oc.FAILED, detail=detail[:200]), self.clock.now())
        self._ended_on_lane.append(attempt_id)

    async def _end_own_calls_if_asterisk_gone(self, mono: float) -> None:
        """AMI unreachable past server_down_grace: this server's live calls are presumed
        lost and ended as failed, so that another server may call those people."""
        since = self._ami_down_since
        grace = self.settings.server_down_grace
        if since is None or self._ami_down_handled or mono - since <= grace:
            return
        self._ami_down_handled = True
        lost = await self.db.claims.run(self.records.live_attempts)
        server = self.records.server_id
        for attempt_id, *_ in lost:
            await self._finish(attempt_id, Ending(oc.FAILED, detail=(
                f"Asterisk of server {server} unreachable for {mono - since:.0f} s: call "
                f"presumed lost")[:200]), trunk_fault=False)
        if lost:
            log.error("Asterisk of server %s unreachable for %.0f s: %d live call(s) ended as "
                      "failed (presumed lost)", server, mono - since, len(lost))

    def _beat_interval(self) -> float:
        return min(HEARTBEAT, self.settings.server_down_grace / 3)

    async def _beat(self, stop: asyncio.Event) -> None:
        """This server's heartbeat, on its own lane so a slow claim cannot make it look dead."""
        heartbeat = self.heartbeat
        assert heartbeat is not None
        failing = False
        while not stop.is_set():
            try:
                await self.db.heartbeat.run(heartbeat.beat)
                failing = False
            except Exception as exc:
                if not failing:
                    log.warning("heartbeat failed (%s); retried", type(exc).__name__,
                                exc_info=not is_transient(exc))
                failing = True
            await self._wait_any(stop, asyncio.sleep(self._beat_interval()),
                                 timeout=self._beat_interval())

    # --- waiting -------------------------------------------------------------------------

    async def _sleep(self, stop: asyncio.Event, seconds: float) -> None:
        await self._wait_any(stop, self._wake.wait(), timeout=max(0.0, seconds))

    @staticmethod
    async def _wait_any(stop: asyncio.Event, awaitable, timeout: float) -> None:
        waiters = [asyncio.ensure_future(awaitable), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
