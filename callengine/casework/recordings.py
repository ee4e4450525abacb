"""Where a spoken answer's recording is: looked up by the answer's id, never by a name that
came from outside, and only inside the recordings folder."""

from __future__ import annotations

from pathlib import Path

from callengine.contract import is_recording_name
from callengine.settings import Settings
from callengine.store.db import Database
from callengine.store.models import Answer


def recording_name_of(db: Database, answer_id: int) -> str | None:
    """The stored file name of an answer's recording; None if no such answer or none kept."""
    with db.session() as s:
        answer = s.get(Answer, answer_id)
        return answer.audio_path if answer is not None else None


def recording_file(settings: Settings, name: str | None) -> Path | None:
    """The recording's file on this host, or None: a name recording_name did not make, a
    path that leads out of the recordings folder, or a file already deleted (retention)."""
    if not name or not is_recording_name(name):
        return None
    folder = settings.on_engine_host(settings.recordings_dir).resolve()
    path = (folder / name).resolve()
    if path.parent != folder or not path.is_file():
        return None
    return path


def answer_recording(db: Database, settings: Settings, answer_id: int) -> Path | None:
    """The file of an answer's recording, if it has one that still exists."""
    return recording_file(settings, recording_name_of(db, answer_id))
