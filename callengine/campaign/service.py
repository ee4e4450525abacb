"""Reading and changing the campaign: the one writer of the campaign row."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from callengine.campaign.validate import CampaignConflict, check_actor, parse_changes
from callengine.campaign.values import Campaign, overlay, split_trunk_key
from callengine.clock import to_db
from callengine.settings import Settings
from callengine.store.campaign import CAMPAIGN_ROW_ID, CampaignRow
from callengine.store.db import Database

log = logging.getLogger("callengine.campaign")


def revision(db: Database) -> int:
    """The campaign's revision: one indexed read, for engines polling for a change."""
    with db.session() as s:
        return s.scalar(select(CampaignRow.revision)
                        .where(CampaignRow.id == CAMPAIGN_ROW_ID)) or 0


def current(db: Database, settings: Settings) -> Campaign:
    """The effective campaign: the settings overlaid by what is stored."""
    with db.session() as s:
        return overlay(settings, s.get(CampaignRow, CAMPAIGN_ROW_ID))


def changed_since(db: Database, settings: Settings, seen: int) -> Campaign | None:
    """The campaign if its revision is no longer `seen`, else None (one cheap read)."""
    return current(db, settings) if revision(db) != seen else None


def effective_settings(db: Database, settings: Settings,
                       server: str | None = None) -> Settings:
    """The settings as the campaign has them now (window, retries, trunk limits; a
    server's own trunk limits when server is given)."""
    return current(db, settings).apply_to(settings, server)


def update(db: Database, settings: Settings, changes: Mapping[str, Any], actor: str,
           now: datetime, *, expected_revision: int | None = None) -> Campaign:
    """Validate every change, then store them all in one transaction (or nothing).

    A value of None puts a setting back to the settings file's; expected_revision, when
    given, refuses the change if someone changed the campaign meanwhile."""
    actor = check_actor(actor)
    parsed = parse_changes(changes, tuple(t.name for t in settings.trunks))
    if not parsed:
        return current(db, settings)
    with db.session() as s:
        row = _locked_row(s)
        if expected_revision is not None and row.revision - 1 != expected_revision:
            raise CampaignConflict({"revision": (
                f"Chiến dịch vừa được {row.updated_by or 'người khác'} thay đổi (phiên bản "
                f"{row.revision - 1}); hãy tải lại rồi sửa lại")})
        _write(row, parsed, actor, now)
        campaign = overlay(settings, row)
    log.info("campaign revision %d by %s: %s", campaign.revision, actor,
             ", ".join(f"{key}={value}" for key, value in parsed.items()))
    return campaign


def pause(db: Database, settings: Settings, actor: str, now: datetime) -> Campaign:
    """No new call starts on any engine; calls in progress finish."""
    return update(db, settings, {"paused": True}, actor, now)


def resume(db: Database, settings: Settings, actor: str, now: datetime) -> Campaign:
    """Every engine starts dialling again."""
    return update(db, settings, {"paused": False}, actor, now)


def _locked_row(s: Session) -> CampaignRow:
    """The row with its revision already raised: the write lock orders concurrent changes."""
    bumped = s.execute(sql_update(CampaignRow).where(CampaignRow.id == CAMPAIGN_ROW_ID)  # type: ignore[attr-defined]  # DML gives a CursorResult
                       .values(revision=CampaignRow.revision + 1)).rowcount
    if not bumped:  # the row was deleted by hand: start again
        s.add(CampaignRow(id=CAMPAIGN_ROW_ID, revision=1, paused=False))
        s.flush()
    return s.get_one(CampaignRow, CAMPAIGN_ROW_ID, populate_existing=True)


def _write(row: CampaignRow, parsed: dict[str, Any], actor: str, now: datetime) -> None:
    limits = {name: dict(given) for name, given in (row.trunk_limits or {}).items()}
    for key, value in parsed.items():
        parts = split_trunk_key(key)
        if parts is not None:
            name, server, limit = parts
            target = f"{name}@{server}" if server is not None else name
            _set_or_drop(limits.setdefault(target, {}), limit, value)
        elif key == "paused":
            _set_paused(row, value, actor, now)
        else:
            setattr(row, key, value)
    row.trunk_limits = {name: given for name, given in limits.items() if given} or None
    row.updated_at, row.updated_by = to_db(now), actor


def _set_or_drop(mapping: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        mapping.pop(key, None)
    else:
        mapping[key] = value


def _set_paused(row: CampaignRow, paused: bool, actor: str, now: datetime) -> None:
    if paused and not row.paused:
        row.paused_by, row.paused_at = actor, to_db(now)
    elif not paused:
        row.paused_by = row.paused_at = None
    row.paused = paused
