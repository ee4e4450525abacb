"""Attempt limits counted from the audit log, so several admin processes share them."""

from __future__ import annotations

from datetime import timedelta
from typing import Iterable

from callengine.audit import count_since
from callengine.clock import Clock
from callengine.store.db import Database


def retry_after(db: Database, clock: Clock, actions: Iterable[str], rate: tuple[int, float],
                *, username: str | None = None, address: str | None = None) -> int | None:
    """Seconds to wait if `rate` (count, seconds) is used up for this name or address."""
    limit, span = rate
    since = clock.now() - timedelta(seconds=span)
    used = count_since(db, actions, since, username=username, address=address)
    return int(span) if used >= limit else None
