"""A one-line progress bar on stderr, shown only on a terminal and only for large sheets."""

from __future__ import annotations

import sys
import time
from typing import TextIO

PROGRESS_MIN_ROWS = 3000  # smaller sheets validate in well under a second
_WIDTH = 30
_INTERVAL = 0.1  # seconds between redraws


class Progress:
    """Counts rows of one sheet; draws `label [#####.....] 12345/100000` while active."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None,
                 enabled: bool = True) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.label = label
        self.total = total
        self.done = 0
        self.active = enabled and total > PROGRESS_MIN_ROWS and _is_terminal(self.stream)
        self._drawn_at = 0.0

    def advance(self, rows: int = 1) -> None:
        self.done += rows
        if self.active and time.monotonic() - self._drawn_at >= _INTERVAL:
            self._draw()

    def close(self) -> None:
        if self.active:
            self.done = self.total
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        self._drawn_at = time.monotonic()
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
