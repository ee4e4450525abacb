"""This server's stable id: stored on each attempt, so each server reconciles its own calls.

The setting wins; without it the id is made once (host name and a random suffix) and kept in
the data directory, so renaming the host does not orphan the live attempts of a restart.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
from pathlib import Path

from callengine.settings import Settings

SERVER_ID_FILE = "server-id"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_HOST_PART = 48  # leaves room for the suffix within the column's 64 characters


def server_id(settings: Settings) -> str:
    """The configured server id, else the one stored in the data directory (made once)."""
    if settings.server_id:
        return settings.server_id
    path = settings.data_dir / SERVER_ID_FILE
    return _read(path) or _store_new(path)


def process_holder(settings: Settings) -> str:
    """This process among the server's: how leases and plan runs name who holds them."""
    return f"{server_id(settings)}:{os.getpid()}"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return ""


def _store_new(path: Path) -> str:
    """Write a new id atomically; of two processes starting at once, the first one wins."""
    host = _UNSAFE.sub("-", socket.gethostname()).strip("-")[:_HOST_PART] or "server"
    new_id = f"{host}-{secrets.token_hex(3)}"
    path.parent.mkdir(parents=True, exist_ok=True)
    # A draft of its own (threads share a pid), linked into place in one step.
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    draft.write_text(new_id + "\n", encoding="utf-8")
    try:
        os.link(draft, path)  # fails if another process stored its id first
    except FileExistsError:
        return _read(path)
    finally:
        draft.unlink()
    return new_id
