"""`callengine` in its own process on a shifted clock: the lab tests' engines at a chosen hour.

Run as `python -m tests.lab.shifted_engine SECONDS run ...`: every SystemClock of the engine
reads the real time moved by SECONDS, exactly like the in-process engines' ShiftedClock, so
a test runs the same at any real hour. Test code only: the engine has no such switch.
"""

from __future__ import annotations

import sys
from datetime import timedelta

from callengine import cli
from callengine.clock import SystemClock


def main(argv: list[str]) -> int:
    shift = timedelta(seconds=float(argv[0]))
    real_now = SystemClock.now
    SystemClock.now = lambda self: real_now(self) + shift  # type: ignore[method-assign]
    return cli.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
