"""The effective campaign: the settings overlaid by the campaign row, with Vietnamese labels."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from callengine.clock import from_db
from callengine.settings import CallWindow, Settings, Trunk, parse_window
from callengine.store.campaign import DURATION_COLUMNS, CampaignRow

TRUNK_LIMITS = ("max_channels", "cps")
SETTING_KEYS = ("call_window", *DURATION_COLUMNS, "max_attempts_per_day")  # override settings
SCALAR_KEYS = ("paused", *SETTING_KEYS)

LABELS: dict[str, str] = {
    "paused": "Tạm dừng gọi",
    "call_window": "Khung giờ gọi",
    "retry_busy": "Gọi lại sau khi máy bận",
    "retry_no_answer": "Gọi lại sau khi không nghe máy",
    "retry_congestion": "Gọi lại sau khi mạng nghẽn (gấp đôi mỗi lần)",
    "retry_congestion_max": "Thời gian chờ gọi lại tối đa (nghẽn mạng, lỗi khác)",
    "retry_partial": "Gọi lại sau cuộc gọi dở dang (một lần)",
    "retry_rejected": "Gọi lại sau khi bị từ chối (một lần)",
    "retry_failed": "Gọi lại sau lỗi khác (gấp đôi mỗi lần)",
    "max_attempts_per_day": "Số lần gọi tối đa mỗi ngày",
    "max_channels": "Số kênh đồng thời tối đa",
    "cps": "Số cuộc gọi bắt đầu mỗi giây",
}


def trunk_key(trunk: str, limit: str) -> str:
    """The flat key of one trunk limit, e.g. trunk.viettel.max_channels."""
    return f"trunk.{trunk}.{limit}"


def label(key: str) -> str:
    """The Vietnamese label of a campaign key, trunk limits included."""
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "trunk" and parts[2] in TRUNK_LIMITS:
        return f"{LABELS[parts[2]]} (trung kế {parts[1]})"
    return LABELS.get(key, key)


def format_window(window: CallWindow) -> str:
    """08:00-20:00, or with seconds when a bound has them (00:00:00-23:59:59)."""
    pattern = "%H:%M:%S" if window.start.second or window.end.second else "%H:%M"
    return f"{window.start.strftime(pattern)}-{window.end.strftime(pattern)}"


@dataclass(frozen=True)
class TrunkLimits:
    """The live limits of one trunk (the trunk itself is defined in the settings)."""

    max_channels: int
    cps: float


@dataclass(frozen=True)
class Campaign:
    """What every engine obeys now; overridden lists the keys set in the database."""

    revision: int
    paused: bool
    call_window: CallWindow
    trunks: dict[str, TrunkLimits]
    retry_busy: float
    retry_no_answer: float
    retry_congestion: float
    retry_congestion_max: float
    retry_partial: float
    retry_rejected: float
    retry_failed: float
    max_attempts_per_day: int
    paused_by: str | None = None
    paused_at: datetime | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None
    overridden: frozenset[str] = field(default_factory=frozenset)

    def apply_to(self, settings: Settings) -> Settings:
        """The settings with this campaign's values in place."""
        trunks = tuple(replace(t, max_channels=self.trunks[t.name].max_channels,
                               cps=self.trunks[t.name].cps) if t.name in self.trunks else t
                       for t in settings.trunks)
        values = {key: getattr(self, key) for key in SETTING_KEYS}
        return replace(settings, trunks=trunks, **values)

    def values(self) -> dict[str, Any]:
        """Every key (trunk limits flat) with its JSON value."""
        flat = {key: _json_value(getattr(self, key)) for key in SCALAR_KEYS}
        for name, limits in self.trunks.items():
            for limit in TRUNK_LIMITS:
                flat[trunk_key(name, limit)] = _number(getattr(limits, limit))
        return flat

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (GET /api/v1/campaign); PUT takes the same keys."""
        body: dict[str, Any] = {"revision": self.revision}
        body.update({key: _json_value(getattr(self, key)) for key in SCALAR_KEYS})
        body["trunks"] = {name: {"max_channels": t.max_channels, "cps": _number(t.cps)}
                          for name, t in self.trunks.items()}
        for key in ("paused_by", "paused_at", "updated_by", "updated_at"):
            body[key] = _json_value(getattr(self, key))
        body["overridden"] = sorted(self.overridden)
        return body


def changed_keys(before: Campaign, after: Campaign) -> list[str]:
    """Keys whose value differs between two campaigns."""
    old, new = before.values(), after.values()
    return [key for key in new if old.get(key) != new[key]]


def _json_value(value: Any) -> Any:
    if isinstance(value, CallWindow):
        return format_window(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, float):
        return _number(value)
    return value


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def overlay(settings: Settings, row: CampaignRow | None) -> Campaign:
    """The settings overlaid by what the campaign row stores (None: nothing stored)."""
    row = row if row is not None else CampaignRow(revision=0, paused=False)
    stored = {key: getattr(row, key) for key in SETTING_KEYS
              if getattr(row, key) is not None}
    values = {key: getattr(settings, key) for key in SETTING_KEYS}
    values.update(stored)
    if "call_window" in stored:
        values["call_window"] = parse_window("call_window", stored["call_window"])
    limits = row.trunk_limits or {}
    trunks = {t.name: _limits(t, limits.get(t.name) or {}) for t in settings.trunks}
    overridden = set(stored) | {trunk_key(name, limit) for name, given in limits.items()
                                if name in trunks for limit in given}
    return Campaign(
        revision=row.revision, paused=bool(row.paused), trunks=trunks,
        paused_by=row.paused_by, paused_at=_aware(row.paused_at),
        updated_by=row.updated_by, updated_at=_aware(row.updated_at),
        overridden=frozenset(overridden), **values)


def _limits(trunk: Trunk, stored: dict[str, Any]) -> TrunkLimits:
    return TrunkLimits(int(stored.get("max_channels", trunk.max_channels)),
                       float(stored.get("cps", trunk.cps)))


def _aware(moment: datetime | None) -> datetime | None:
    return from_db(moment) if moment is not None else None
