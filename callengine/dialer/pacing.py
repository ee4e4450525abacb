"""Per-trunk pacing: at most max_channels live calls and cps call starts per second (pure)."""

from __future__ import annotations

import math
from typing import Iterable


class TrunkPacer:
    def __init__(self, max_channels: int, cps: float) -> None:
        self.max_channels = max_channels
        self.spacing = 1.0 / cps
        self.active = 0
        self._next_start = -math.inf

    def wait_time(self, now: float) -> float:
        """Seconds until a call may start (0: now; inf: every channel is busy)."""
        if self.active >= self.max_channels:
            return math.inf
        return max(0.0, self._next_start - now)

    def started(self, now: float) -> None:
        self.active += 1
        self._next_start = max(now, self._next_start) + self.spacing

    def finished(self) -> None:
        self.active = max(0, self.active - 1)

    def set_limits(self, max_channels: int, cps: float) -> None:
        """New limits at once; live calls above a lowered limit finish, none is cut."""
        spacing = 1.0 / cps
        self._next_start += spacing - self.spacing  # the next start counts from the last one
        self.max_channels, self.spacing = max_channels, spacing


def build_pacers(trunks: Iterable) -> dict[str, TrunkPacer]:
    """One pacer per trunk, by trunk name."""
    return {t.name: TrunkPacer(t.max_channels, t.cps) for t in trunks}
