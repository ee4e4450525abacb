"""The daily call window in local time (pure)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from callengine.settings import CallWindow


class Window:
    def __init__(self, window: CallWindow, tz: str, close_guard: float) -> None:
        self.window = window
        self.tz = ZoneInfo(tz)
        self.close_guard = timedelta(seconds=close_guard)

    def set_hours(self, window: CallWindow) -> None:
        """A new daily window (a campaign change), obeyed from the next check."""
        self.window = window

    def local_day(self, now: datetime) -> date:
        return now.astimezone(self.tz).date()

    def opens(self, day: date) -> datetime:
        return datetime.combine(day, self.window.start, self.tz)

    def last_start(self, day: date) -> datetime:
        """The latest moment a call may start on that day."""
        return datetime.combine(day, self.window.end, self.tz) - self.close_guard

    def may_start(self, now: datetime) -> bool:
        day = self.local_day(now)
        return self.opens(day) <= now < self.last_start(day)

    def next_start(self, now: datetime) -> datetime | None:
        """When calls may start again today (now if open), or None when today is over."""
        day = self.local_day(now)
        if now >= self.last_start(day):
            return None
        return max(now, self.opens(day))
