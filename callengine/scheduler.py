"""The daily scheduler (APScheduler, jobs kept in the same database), run by one process only.

Every engine process competes for a lease row; only its holder runs APScheduler. The plan
itself is idempotent, so a hand-over between processes cannot create a task twice.
"""

from __future__ import annotations

import logging
from datetime import time

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import insert, or_, select, update

from callengine.store.db import Database
from callengine.store.dbclock import utc_now
from callengine.store.supervision import Lease

log = logging.getLogger("callengine.scheduler")
LEASE = "daily-scheduler"
JOB_ID = "daily-plan"


def try_lease(db: Database, holder: str, ttl: float) -> bool:
    """Take or renew the scheduler lease; False while another live process holds it.

    Expiry is set and compared on the database's clock, never the process's: two hosts
    whose clocks differ cannot both think they hold it.
    """
    with db.session() as s:
        taken = s.execute(  # type: ignore[attr-defined]  # DML gives a CursorResult
            update(Lease).where(Lease.name == LEASE,
                                or_(Lease.holder == holder, Lease.expires_at < utc_now()))
            .values(holder=holder, expires_at=utc_now(ttl))).rowcount
        if taken:
            return True
        if s.scalar(select(Lease.name).where(Lease.name == LEASE)) is None:
            s.execute(insert(Lease).values(name=LEASE, holder=holder, expires_at=utc_now(ttl)))
            try:
                s.flush()
            except Exception:  # another process inserted it first
                s.rollback()
                return False
            return True
    return False


class DailyScheduler:
    def __init__(self, db: Database, holder: str, plan_time: str, tz: str, job,
                 ttl: float = 60) -> None:
        self.db, self.holder = db, holder
        at = time.fromisoformat(plan_time)
        self.trigger = CronTrigger(hour=at.hour, minute=at.minute, second=at.second,
                                   timezone=tz)
        self.job = job
        self.ttl = ttl
        self.scheduler: AsyncIOScheduler | None = None

    def renew(self) -> bool:
        """Take or renew the lease (blocking database work: run it in a thread)."""
        return try_lease(self.db, self.holder, self.ttl)

    def follow(self, leader: bool) -> None:
        """Start or stop APScheduler to match the lease (on the event loop)."""
        if leader and self.scheduler is None:
            self._start()
        elif not leader and self.scheduler is not None:
            self.stop()

    def _start(self) -> None:
        store = SQLAlchemyJobStore(engine=self.db.engine, tablename="apscheduler_jobs")
        self.scheduler = AsyncIOScheduler(jobstores={"default": store},
                                          timezone=self.trigger.timezone)
        self.scheduler.add_job(self.job, self.trigger, id=JOB_ID, replace_existing=True,
                               coalesce=True, misfire_grace_time=12 * 3600)
        self.scheduler.start()
        log.info("this process runs the daily plan (next: %s)",
                 self.scheduler.get_job(JOB_ID).next_run_time)

    def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.scheduler = None


def run_daily_plan() -> None:
    """The scheduled job (importable by reference, as APScheduler's job store needs)."""
    from callengine.clock import SystemClock
    from callengine.dialer.window import Window
    from callengine.identity import process_holder
    from callengine.planning import run_plan
    from callengine.settings import load_settings
    from callengine.store.supervision import PLAN_SCHEDULED

    settings = load_settings()
    db = Database(settings.effective_database_url, auto_migrate=False)
    clock = SystemClock()
    try:
        now = clock.now()
        window = Window(settings.call_window, settings.timezone, settings.window_close_guard)
        if run_plan(db, window.local_day(now), settings, clock, trigger=PLAN_SCHEDULED,
                    holder=process_holder(settings)) is None:
            return  # the day's plan ran already (a catch-up or another leader)
        clean_import_previews(db, now, settings)
        purge_old_checkins(db, now, settings)
    finally:
        db.dispose()


def clean_import_previews(db: Database, now, settings) -> None:
    """Delete the uploaded lists no import preview needs; a failure never fails the plan."""
    from callengine.importer.staged import cleanup

    try:
        cleanup(db, now=now, settings=settings)
    except Exception:
        log.exception("import previews: clean-up failed")


def purge_old_checkins(db: Database, now, settings) -> None:
    """Delete check-ins past their retention; a failure never fails the plan."""
    from callengine.health.checkins import purge_checkins

    try:
        removed = purge_checkins(db, now=now, retention_days=settings.checkin_retention_days)
        log.info("check-ins: %d older than %d days deleted", removed,
                 settings.checkin_retention_days)
    except Exception:
        log.exception("check-ins: retention clean-up failed")
