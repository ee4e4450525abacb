"""The dashboard's 14-day chart as plain geometry: stacked bars per day, drawn by a template
into an inline <svg> (no script, no inline style: the CSP stays strict, and it works without
JavaScript)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Sequence

from callengine.dialer.outcome import (
    BUSY,
    COMPLETED,
    CONGESTION,
    FAILED,
    INVALID,
    NO_ANSWER,
    PARTIAL,
    REJECTED,
)
from callengine.labels import OUTCOME_LABELS
from callengine.reports import DayOutcomes

# Stacked from the bottom: answered first, then the kinds of failure. Colours tell answered
# (greens) from not reached (ambers) from broken (reds, greys) and stay apart for common
# colour-vision deficiencies.
OUTCOME_COLOURS = {
    COMPLETED: "#1b7f3b",
    PARTIAL: "#7cc48b",
    NO_ANSWER: "#e0a030",
    BUSY: "#f2cf63",
    REJECTED: "#8c5a2b",
    INVALID: "#b3261e",
    CONGESTION: "#6d7a88",
    FAILED: "#2f3b48",
}
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 12, 34  # room for the axis labels


@dataclass(frozen=True)
class Segment:
    outcome: str
    label: str
    count: int
    y: float
    height: float
    colour: str


@dataclass(frozen=True)
class Bar:
    day: date
    x: float
    width: float
    total: int
    segments: tuple[Segment, ...]

    @property
    def centre(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True)
class LegendEntry:
    outcome: str
    label: str
    colour: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    bottom: float  # y of the axis
    right: int
    bars: tuple[Bar, ...]
    ticks: tuple[tuple[float, int], ...]  # (y, value) of the horizontal grid lines
    legend: tuple[LegendEntry, ...]


TICKS = 4  # grid lines above the axis


def nice_step(value: int) -> int:
    """The grid step: the smallest 1, 2 or 5 times a power of ten with TICKS steps >= value."""
    needed = max(math.ceil(value / TICKS), 1)
    power = 10 ** math.floor(math.log10(needed))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= needed)


def outcome_chart(series: Sequence[DayOutcomes]) -> Chart:
    """Stacked bars of the days' outcomes, one bar per day, oldest on the left."""
    axis, plot_height = HEIGHT - BOTTOM, HEIGHT - BOTTOM - TOP
    step = nice_step(max((d.total for d in series), default=0))
    top_value = step * TICKS
    scale = plot_height / top_value
    slot = (WIDTH - LEFT - RIGHT) / max(len(series), 1)
    bars = []
    for i, day in enumerate(series):
        y, segments = float(axis), []
        for outcome, colour in OUTCOME_COLOURS.items():
            count = day.counts.get(outcome, 0)
            if count:
                height = count * scale
                y -= height
                segments.append(Segment(outcome, OUTCOME_LABELS[outcome], count, round(y, 2),
                                        round(height, 2), colour))
        bars.append(Bar(day.day, round(LEFT + i * slot + slot * 0.15, 2), round(slot * 0.7, 2),
                        day.total, tuple(segments)))
    ticks = tuple((round(axis - plot_height * k / TICKS, 2), step * k) for k in range(TICKS + 1))
    legend = tuple(LegendEntry(o, OUTCOME_LABELS[o], c) for o, c in OUTCOME_COLOURS.items())
    return Chart(WIDTH, HEIGHT, LEFT, axis, WIDTH - RIGHT, tuple(bars), ticks, legend)
