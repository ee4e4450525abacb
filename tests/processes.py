"""Processes started by this test run: found by a marker in their environment.

Every process the tests start (engines, recognition workers, the lab's Asterisk instances)
inherits the marker, so whatever is still alive when the suite ends was leaked by a test.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

from callengine.procinfo import describe_process

MARKER = "CALLENGINE_TEST_RUN"


def new_marker() -> str:
    """Mark this run: every process started from now on inherits the marker."""
    os.environ[MARKER] = uuid.uuid4().hex
    return os.environ[MARKER]


def _state_and_parent(pid: int) -> tuple[str, int]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def _is_own_resource_tracker(pid: int, parent: int) -> bool:
    """multiprocessing's tracker of this very process: it ends with the test run."""
    if parent != os.getpid():
        return False
    return b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes()


def marked_processes(marker: str) -> list[int]:
    """Live processes (not this one) that carry the marker."""
    needle = f"{MARKER}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        pid = int(entry.name)
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state, parent = _state_and_parent(pid)
            if state in ("Z", "X") or _is_own_resource_tracker(pid, parent):
                continue
        except OSError:
            continue  # ended meanwhile
        found.append(pid)
    return found


def leftovers(marker: str, grace: float = 10.0) -> list[str]:
    """What is still running after a grace period (for shutdowns in progress), then killed."""
    deadline = time.monotonic() + grace
    pids = marked_processes(marker)
    while pids and time.monotonic() < deadline:
        time.sleep(0.2)
        pids = marked_processes(marker)
    described = [describe_process(pid) for pid in pids]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return described
