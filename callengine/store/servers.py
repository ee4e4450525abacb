"""Engines' heartbeats (table servers): each engine says it is alive, on the database clock.

One writer per row: an engine writes only its own row. Readers (the dialer's dead-server
sweep) compare last_seen against the database clock, so hosts whose clocks differ agree.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from callengine import __version__
from callengine.store.db import Database
from callengine.store.dbclock import utc_now
from callengine.store.models import Server


@dataclass(frozen=True)
class ServerInfo:
    server_id: str
    host: str
    pid: int
    version: str

    @classmethod
    def of_this_process(cls, server_id: str) -> ServerInfo:
        return cls(server_id, socket.gethostname()[:255], os.getpid(), __version__)


class Heartbeat:
    """Writes this engine's row: started_at once per process, last_seen at every beat."""

    def __init__(self, db: Database, info: ServerInfo) -> None:
        self.db = db
        self.info = info
        self._started = False

    def beat(self) -> None:
        values = {"last_seen": utc_now(), "host": self.info.host, "pid": self.info.pid,
                  "version": self.info.version}
        if not self._started:
            values["started_at"] = utc_now()
        with self.db.session() as s:
            found = s.execute(  # type: ignore[attr-defined]  # DML gives a CursorResult
                update(Server).where(Server.server_id == self.info.server_id)
                .values(**values)).rowcount
        if not found:
            self._insert()
        self._started = True

    def _insert(self) -> None:
        try:
            with self.db.session() as s:
                s.add(Server(server_id=self.info.server_id, last_seen=utc_now(),
                             started_at=utc_now(), host=self.info.host, pid=self.info.pid,
                             version=self.info.version))
        except IntegrityError:  # another process of this server id wrote it first
            with self.db.session() as s:
                s.execute(update(Server).where(Server.server_id == self.info.server_id)
                          .values(last_seen=utc_now()))
