"""Composition root: the one place that builds the engine's parts from settings."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from datetime import time
from pathlib import Path

from callengine import contract
from callengine.agi.server import FastAgiServer
from callengine.ami.client import AmiClient
from callengine.ami.supervisor import AmiSupervisor
from callengine.cdr import CdrReader
from callengine.clock import Clock, SystemClock
from callengine.dialer.campaign import CampaignWatcher
from callengine.dialer.pacing import build_pacers
from callengine.dialer.records import AttemptRecords
from callengine.dialer.retry import RetryPolicy
from callengine.dialer.routing import TrunkRouter
from callengine.dialer.service import Dialer
from callengine.dialer.spoken import SpokenAnswers
from callengine.dialer.window import Window
from callengine.errors import ConfigError
from callengine.identity import process_holder, server_id
from callengine.metrics import DatabaseProbe, EngineMetrics, EngineState, engine_health, task_counts
from callengine.metrics_server import MetricsServer
from callengine.procinfo import port_holder
from callengine.questionnaire import Questionnaire, load_questionnaire
from callengine.settings import Settings
from callengine.speech.pool import RecognitionPool
from callengine.store.db import Database

log = logging.getLogger("callengine")


def survey_variables(settings: Settings, questionnaire: Questionnaire) -> dict[str, str]:
    """Channel variables that drive the survey dialplan for every call."""
    return {
        contract.VAR_QUESTIONS: questionnaire.dialplan_questions(),
        contract.VAR_CALLBACK_KEY: questionnaire.callback_key,
        contract.VAR_ANSWER_TIMEOUT: f"{settings.answer_timeout:g}",
        contract.VAR_REPROMPTS: str(settings.reprompts),
        contract.VAR_SILENT_LIMIT: str(settings.silent_limit),
        contract.VAR_MAX_DURATION: str(int(settings.max_call_duration)),
        contract.VAR_SPEECH: "1" if settings.speech else "0",
        contract.VAR_RECORDINGS: str(settings.recordings_dir),
        contract.VAR_AGI: settings.effective_agi_address,
    }


@dataclass
class Engine:
    dialer: Dialer
    supervisor: AmiSupervisor
    db: Database
    spoken: SpokenAnswers | None = None
    agi: FastAgiServer | None = None
    campaign: CampaignWatcher | None = None
    metrics: EngineMetrics | None = None
    metrics_server: MetricsServer | None = None  # None: metrics_port 0 (off)


def build_spoken_answers(settings: Settings, records: AttemptRecords,
                         questionnaire: Questionnaire, clock: Clock,
                         metrics: EngineMetrics | None = None) -> SpokenAnswers:
    use_model = settings.speech_recognizer == "vosk" and settings.vosk_model != Path("")
    options = {"model_dir": settings.vosk_model} if use_model else {}
    pool = RecognitionPool(settings.speech_workers, settings.speech_recognizer, options,
                           settings.speech_confidence, max_queued=settings.speech_max_queued,
                           on_recognized=metrics.recognized if metrics else None)
    return SpokenAnswers(answers=records.answers, questionnaire=questionnaire, pool=pool,
                         recordings=settings.on_engine_host(settings.recordings_dir),
                         reply_timeout=settings.speech_reply_timeout, clock=clock,
                         keep_days=settings.recordings_keep_days)


def build_engine(settings: Settings, db: Database | None = None,
                 clock: Clock | None = None) -> Engine:
    if not settings.ami_secret:
        raise ConfigError("ami_secret: not set (CALLENGINE_AMI_SECRET or the config file)")
    clock = clock or SystemClock()
    db = db or Database(settings.effective_database_url)
    questionnaire = load_questionnaire(settings.questionnaire)
    window = Window(settings.call_window, settings.timezone, settings.window_close_guard)
    records = AttemptRecords(db, questionnaire, RetryPolicy.from_settings(settings), window,
                             server_id(settings))
    metrics = EngineMetrics(server_id(settings))
    router = TrunkRouter(settings.trunks, settings.default_trunk,
                         settings.trunk_failure_threshold, settings.trunk_down_cooloff)
    spoken = build_spoken_answers(settings, records, questionnaire, clock, metrics) \
        if settings.speech else None
    pacers = build_pacers(settings.trunks)
    campaign = CampaignWatcher(db, settings, pacers=pacers, window=window, records=records,
                               interval=settings.campaign_poll_interval)
    campaign.load()  # the engine starts as the campaign stands, then follows its changes
    holder: dict[str, Dialer] = {}

    def client_factory() -> AmiClient:
        return AmiClient(settings.ami_host, settings.ami_port, settings.ami_username,
                         settings.ami_secret, on_event=holder["dialer"].on_event,
                         ping_interval=settings.ami_ping_interval,
                         on_response=metrics.ami_responded)

    async def on_connected(client: AmiClient) -> None:
        metrics.ami_logged_in()
        await holder["dialer"].on_connected(client)

    supervisor = AmiSupervisor(client_factory, on_connected=on_connected,
                               on_disconnected=lambda r: holder["dialer"].on_disconnected(r))
    dialer = Dialer(settings=settings, records=records, supervisor=supervisor, window=window,
                    router=router, cdr=CdrReader(settings.cdr_path), clock=clock,
                    survey_variables=survey_variables(settings, questionnaire),
                    on_finished=spoken.discard_unused if spoken else None,
                    pacers=pacers, campaign=campaign, metrics=metrics)
    holder["dialer"] = dialer
    server = build_metrics_server(settings, metrics, dialer, supervisor, db, window, clock,
                                  spoken)
    agi = FastAgiServer(settings.agi_host, settings.agi_port,
                        {contract.AGI_RECOGNIZE: spoken.handle_agi},
                        allowed_peers=settings.agi_allowed_peers,
                        max_connections=settings.agi_max_connections) if spoken else None
    return Engine(dialer, supervisor, db, spoken, agi, campaign, metrics, server)


def build_metrics_server(settings: Settings, metrics: EngineMetrics, dialer: Dialer,
                         supervisor: AmiSupervisor, db: Database, window: Window, clock: Clock,
                         spoken: SpokenAnswers | None) -> MetricsServer | None:
    """The engine's gauges read at scrape time, and the listener (None when off)."""
    probe = DatabaseProbe(lambda: task_counts(db, window, clock), clock.monotonic)
    state = EngineState(metrics, dialer=dialer, supervisor=supervisor, probe=probe,
                        pool=spoken.pool if spoken else None, monotonic=clock.monotonic)
    metrics.watch(state)
    if not settings.metrics_port:
        return None
    return MetricsServer(settings.metrics_host, settings.metrics_port, metrics.registry,
                         lambda: engine_health(state))


SETTLE_TIMEOUT = 120  # seconds `run --until-idle` waits for spoken answers left pending
LEASE_RENEWAL = 20  # seconds between scheduler lease renewals (the lease lasts 3 times that)


async def lead_daily_plan(engine: Engine, settings: Settings, clock: Clock,
                          stop: asyncio.Event) -> None:
    """Compete for the scheduler role; the holder runs the daily plan (and a missed one)."""
    from callengine.scheduler import DailyScheduler, run_daily_plan

    holder = process_holder(settings)
    scheduler = DailyScheduler(engine.db, holder, settings.plan_time, settings.timezone,
                               run_daily_plan, ttl=3 * LEASE_RENEWAL)
    caught_up = False
    try:
        while not stop.is_set():
            leader = await asyncio.to_thread(scheduler.renew)
            scheduler.follow(leader)
            if leader and not caught_up:
                caught_up = True
                await asyncio.to_thread(catch_up_plan, engine.db, settings, clock)
            try:
                await asyncio.wait_for(stop.wait(), LEASE_RENEWAL)
            except TimeoutError:
                pass
    finally:
        scheduler.stop()


def catch_up_plan(db: Database, settings: Settings, clock: Clock):
    """A new scheduler holder past the plan time runs today's plan at once, unless today's
    daily plan ran already; the PlanResult, or None (before the plan time, or already run)."""
    from callengine.planning import run_plan
    from callengine.store.supervision import PLAN_CATCH_UP

    now = clock.now()
    window = Window(settings.call_window, settings.timezone, settings.window_close_guard)
    if now.astimezone(window.tz).time() < time.fromisoformat(settings.plan_time):
        return None
    ran = run_plan(db, window.local_day(now), settings, clock, trigger=PLAN_CATCH_UP,
                   holder=process_holder(settings))
    return ran[0] if ran else None


async def run_engine(engine: Engine, *, until_idle: bool, stop: asyncio.Event | None = None,
                     settings: Settings | None = None, clock: Clock | None = None):
    """Run the dialer until stopped (SIGTERM/SIGINT) or, with until_idle, until done.

    The long-running service (with settings given) also takes part in the daily plan.
    """
    stop = stop or asyncio.Event()
    _start_metrics(engine)
    try:
        await _start_agi(engine)
    except BaseException:
        _stop_metrics(engine)
        raise
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    background = [asyncio.create_task(engine.supervisor.run(stop))]
    if engine.metrics is not None:
        background.append(asyncio.create_task(heartbeat(engine.metrics, engine.dialer.clock,
                                                        stop)))
    if engine.campaign is not None:
        background.append(asyncio.create_task(engine.campaign.run(stop)))
    if engine.spoken is not None:
        background.append(asyncio.create_task(engine.spoken.run(stop)))
    if settings is not None and not until_idle:
        background.append(asyncio.create_task(
            lead_daily_plan(engine, settings, clock or SystemClock(), stop)))
    try:
        await engine.dialer.run(stop, until_idle=until_idle)
        if until_idle and engine.spoken is not None:
            await engine.spoken.settle_pending(SETTLE_TIMEOUT)
    finally:
        stop.set()
        await asyncio.gather(*background)
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        if engine.agi is not None:
            await engine.agi.close()
        if engine.spoken is not None:
            engine.spoken.pool.close()
        _stop_metrics(engine)


HEARTBEAT = 1.0  # seconds between the loop's heartbeats (/healthz: loop alive)


async def heartbeat(metrics: EngineMetrics, clock: Clock, stop: asyncio.Event) -> None:
    """Tell the metrics the event loop runs, every second until stopped."""
    while not stop.is_set():
        metrics.beat(clock.monotonic())
        try:
            await asyncio.wait_for(stop.wait(), HEARTBEAT)
        except TimeoutError:
            pass


def _start_metrics(engine: Engine) -> None:
    """Serve /metrics and /healthz (when on); the plan run here reports to these metrics."""
    from callengine import metrics

    metrics.install(engine.metrics)
    if engine.metrics_server is None:
        return
    try:
        engine.metrics_server.start()
    except ConfigError:
        metrics.install(None)
        if engine.spoken is not None:
            engine.spoken.pool.close()
        raise


def _stop_metrics(engine: Engine) -> None:
    from callengine import metrics

    metrics.install(None)
    if engine.metrics_server is not None:
        engine.metrics_server.close()


async def _start_agi(engine: Engine) -> None:
    if engine.agi is None or engine.spoken is None:  # the AGI server exists for spoken answers
        return
    try:
        await engine.agi.start()
    except OSError as exc:
        engine.spoken.pool.close()
        holder = port_holder(engine.agi.host, engine.agi.port)
        held = f"; held by {holder} (another engine still running?)" if holder else ""
        raise ConfigError(f"agi_port: cannot listen on {engine.agi.host}:{engine.agi.port} "
                          f"({exc.strerror or exc}){held}") from None
