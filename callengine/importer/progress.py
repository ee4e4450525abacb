"""Progress of a sheet being validated: a one-line bar on stderr (a terminal, large sheets
only) and/or a listener called with (label, rows done, rows in all), for the web's uploads."""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

PROGRESS_MIN_ROWS = 3000  # smaller sheets validate in well under a second
_WIDTH = 30
_INTERVAL = 0.1  # seconds between redraws

# Called with (label, rows done, rows in all) when a sheet starts, at most every _INTERVAL
# while it is validated, and when it is done.
Listener = Callable[[str, int, int], None]


class Progress:
    """Counts rows of one sheet; draws `label [#####.....] 12345/100000` while active."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None,
                 enabled: bool = True, listener: Listener | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.label = label
        self.total = total
        self.done = 0
        self.drawing = enabled and total > PROGRESS_MIN_ROWS and _is_terminal(self.stream)
        self.listener = listener
        self.active = self.drawing or listener is not None  # rows must be counted
        self._drawn_at = 0.0
        if listener is not None:
            listener(label, 0, total)

    def advance(self, rows: int = 1) -> None:
        self.done += rows
        if self.active and time.monotonic() - self._drawn_at >= _INTERVAL:
            self._report()

    def close(self) -> None:
        if self.active:
            self.done = self.total
            self._report()
        if self.drawing:
            self.stream.write("\n")
            self.stream.flush()

    def _report(self) -> None:
        self._drawn_at = time.monotonic()
        if self.listener is not None:
            self.listener(self.label, self.done, self.total)
        if self.drawing:
            self._draw()

    def _draw(self) -> None:
        filled = int(_WIDTH * self.done / self.total) if self.total else _WIDTH
        bar = "#" * filled + "." * (_WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total} dòng")
        self.stream.flush()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def note(message: str, rows: int, stream: TextIO | None = None) -> None:
    """One line on a terminal before a long step without a bar (writing `rows` rows)."""
    stream = stream if stream is not None else sys.stderr
    if rows > PROGRESS_MIN_ROWS and _is_terminal(stream):
        stream.write(message + "\n")
        stream.flush()
