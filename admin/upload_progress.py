"""How far the server has read an upload, for the page that is waiting for it.

The upload form carries a random job key. While the POST runs `stage`, its `on_progress`
listener writes the latest (label, rows done, rows in all) here, under that key and the
user's id; the page's script polls `imports.progress` for it. The state is in this
process's memory: `callengine admin` is one waitress process with several threads, so the
poll is answered by another thread of the same process. Entries go after KEEP_SECONDS.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from flask import Flask, current_app

from callengine.importer.progress import Listener

KEEP_SECONDS = 600
WAITING, READING, DONE = "waiting", "reading", "done"


@dataclass
class _Job:
    user_id: int | None
    state: str
    label: str = ""
    done: int = 0
    total: int = 0
    at: float = 0.0


class UploadProgress:
    """The latest progress of each upload being read, by job key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}

    def listener(self, job: str, user_id: int | None) -> Listener:
        """An `on_progress` for stage() that records this upload's progress."""
        self._put(job, _Job(user_id, READING, at=time.monotonic()))

        def report(label: str, done: int, total: int) -> None:
            self._put(job, _Job(user_id, READING, label, done, total, time.monotonic()))
        return report

    def finish(self, job: str, user_id: int | None) -> None:
        """The upload has been read (or refused): the page is about to change."""
        with self._lock:
            last = self._jobs.get(job) or _Job(user_id, READING)
        self._put(job, _Job(user_id, DONE, last.label, last.total, last.total, time.monotonic()))

    def status(self, job: str, user_id: int | None) -> dict:
        """{"state": waiting|reading|done, "label", "done", "total"}; another user's job, or
        one not started yet (the file is still being sent), is "waiting"."""
        with self._lock:
            entry = self._jobs.get(job)
        if entry is None or entry.user_id != user_id:
            return {"state": WAITING}
        return {"state": entry.state, "label": entry.label, "done": entry.done,
                "total": entry.total}

    def _put(self, job: str, entry: _Job) -> None:
        with self._lock:
            old = [k for k, v in self._jobs.items() if entry.at - v.at > KEEP_SECONDS]
            for key in old:
                del self._jobs[key]
            self._jobs[job] = entry


def configure(app: Flask) -> None:
    app.extensions["upload_progress"] = UploadProgress()


def upload_progress() -> UploadProgress:
    return current_app.extensions["upload_progress"]
