"""Live channel use, read from the attempts that have not ended (the admin never asks Asterisk)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callengine.settings import Settings
from callengine.store.models import ATTEMPT_ENDED, CallAttempt


@dataclass(frozen=True)
class ChannelUse:
    """Live calls on one trunk (against its limit) or one server (no limit)."""

    name: str
    live: int
    max_channels: int | None = None


def live_counts(s: Session) -> list[tuple[str, str, int]]:
    """(trunk, server, live attempts); the predicate matches the live-person partial index."""
    return [(r[0], r[1], r[2]) for r in s.execute(
        select(CallAttempt.trunk, CallAttempt.server_id, func.count())
        .where(CallAttempt.state != ATTEMPT_ENDED)
        .group_by(CallAttempt.trunk, CallAttempt.server_id)
    )]


def trunk_use(rows: list[tuple[str, str, int]], settings: Settings,
              limits: dict[str, int] | None = None) -> tuple[ChannelUse, ...]:
    """Every configured trunk (idle ones too), then any other trunk still carrying calls."""
    live: Counter[str] = Counter()
    for trunk, _server, n in rows:
        live[trunk] += n
    limits = {t.name: t.max_channels for t in settings.trunks} | (limits or {})
    names = [t.name for t in settings.trunks] + sorted(set(live) - set(limits))
    return tuple(ChannelUse(name, live[name], limits.get(name)) for name in names)


def server_use(rows: list[tuple[str, str, int]]) -> tuple[ChannelUse, ...]:
    """Live calls per engine server."""
    live: Counter[str] = Counter()
    for _trunk, server, n in rows:
        live[server] += n
    return tuple(ChannelUse(name, n) for name, n in sorted(live.items()))
