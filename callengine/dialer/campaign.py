"""Keeps a running dialer in step with the campaign row: pause, window, pacing, retries."""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

from callengine import campaign as service
from callengine.campaign import Campaign
from callengine.campaign.values import changed_keys
from callengine.dialer.pacing import TrunkPacer
from callengine.dialer.records import AttemptRecords
from callengine.dialer.retry import RetryPolicy
from callengine.dialer.window import Window
from callengine.settings import Settings
from callengine.store.db import Database

log = logging.getLogger("callengine.campaign")


class CampaignWatcher:
    """Polls the campaign's revision off the event loop and applies each change live."""

    def __init__(self, db: Database, settings: Settings, *, pacers: dict[str, TrunkPacer],
                 window: Window, records: AttemptRecords, interval: float) -> None:
        self.db = db
        self.settings = settings
        self.pacers = pacers
        self.window = window
        self.records = records
        self.interval = interval
        self.campaign: Campaign | None = None
        self._listeners: list[Callable[[], None]] = []
        self._failing = False

    @property
    def paused(self) -> bool:
        return self.campaign is not None and self.campaign.paused

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call listener (on the event loop) after every change is applied."""
        self._listeners.append(listener)

    def load(self) -> None:
        """Read and apply the campaign now (at start-up, before the event loop runs)."""
        self.apply(service.current(self.db, self.settings))

    async def poll(self) -> bool:
        """One look at the revision, in a worker thread; True when a change was applied."""
        seen = self.campaign.revision if self.campaign is not None else -1
        try:
            campaign = await asyncio.to_thread(service.changed_since, self.db, self.settings,
                                               seen)
        except Exception as exc:  # the database away: keep obeying the last campaign
            if not self._failing:
                log.warning("campaign cannot be read (%s); the last one still applies", exc)
            self._failing = True
            return False
        self._failing = False
        if campaign is None:
            return False
        self.apply(campaign)
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Poll every interval until stopped."""
        while not stop.is_set():
            await self.poll()
            try:
                await asyncio.wait_for(stop.wait(), self.interval)
            except TimeoutError:
                pass

    def apply(self, campaign: Campaign) -> None:
        """Put the campaign's values into the pacers, the window and the retry policy."""
        effective = campaign.apply_to(self.settings, self.records.server_id)
        for trunk in effective.trunks:
            if trunk.name in self.pacers:
                self.pacers[trunk.name].set_limits(trunk.max_channels, trunk.cps)
        self.window.set_hours(effective.call_window)
        self.records.policy = RetryPolicy.from_settings(effective)
        previous, self.campaign = self.campaign, campaign
        self._log(previous, campaign)
        for listener in self._listeners:
            listener()

    @staticmethod
    def _log(previous: Campaign | None, campaign: Campaign) -> None:
        if campaign.paused and (previous is None or not previous.paused):
            log.warning("campaign paused by %s: no new calls; calls in progress finish",
                        campaign.paused_by or "?")
        elif previous is not None and previous.paused and not campaign.paused:
            log.info("campaign resumed by %s: dialling again", campaign.updated_by or "?")
        changed = [k for k in changed_keys(previous, campaign) if k != "paused"] \
            if previous is not None else sorted(campaign.overridden)
        if changed:
            values = campaign.values()
            log.info("campaign revision %d applied: %s", campaign.revision,
                     ", ".join(f"{key}={values.get(key, 'removed')}" for key in changed))
