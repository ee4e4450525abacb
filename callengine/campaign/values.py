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
    """The flat key of one trunk limit, e.g. trunk.viettel.max_channels, or for one server
    only trunk.viettel@lab-2.max_channels."""
    return f"trunk.{trunk}.{limit}"


def split_trunk_key(key: str) -> tuple[str, str | None, str] | None:
    """(trunk, server or None, limit) of a trunk limit's key; None for any other key.

    Server ids may hold dots: the limit is the last part, the trunk the first."""
    prefix, _, rest = key.partition(".")
    target, _, limit = rest.rpartition(".")
    if prefix != "trunk" or not target or limit not in TRUNK_LIMITS:
        return None
    name, at, server = target.partition("@")
    return name, server if at else None, limit


def label(key: str) -> str:
    """The Vietnamese label of a campaign key, trunk limits included."""
    parts = split_trunk_key(key)
    if parts is not None:
        name, server, limit = parts
        where = f", máy chủ {server}" if server is not None else ""
        return f"{LABELS[limit]} (trung kế {name}{where})"
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
    trunks: dict[str, TrunkLimits]  # every server, unless server_limits says otherwise
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
    # "viettel@lab-2" -> the limits set for that trunk on that server only (they win there)
    server_limits: dict[str, dict[str, float]] = field(default_factory=dict)

    def limits_on(self, name: str, server: str | None) -> TrunkLimits:
        """A trunk's limits on one server: its server's own values, else every server's."""
        shared = self.trunks[name]
        own = self.server_limits.get(f"{name}@{server}", {}) if server else {}
        return TrunkLimits(int(own.get("max_channels", shared.max_channels)),
                           float(own.get("cps", shared.cps)))

    def apply_to(self, settings: Settings, server: str | None = None) -> Settings:
        """The settings with this campaign's values in place (on that server, if given)."""
        trunks = tuple(_with_limits(t, self.limits_on(t.name, server))
                       if t.name in self.trunks else t for t in settings.trunks)
        values = {key: getattr(self, key) for key in SETTING_KEYS}
        return replace(settings, trunks=trunks, **values)

    def values(self) -> dict[str, Any]:
        """Every key (trunk limits flat, per-server ones too) with its JSON value."""
        flat = {key: _json_value(getattr(self, key)) for key in SCALAR_KEYS}
        for name, limits in self.trunks.items():
            for limit in TRUNK_LIMITS:
                flat[trunk_key(name, limit)] = _number(getattr(limits, limit))
        for target, given in self.server_limits.items():
            for limit, value in given.items():
                flat[trunk_key(target, limit)] = _number(value)
        return flat

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (GET /api/v1/campaign); PUT takes the same keys."""
        body: dict[str, Any] = {"revision": self.revision}
        body.update({key: _json_value(getattr(self, key)) for key in SCALAR_KEYS})
        body["trunks"] = {name: {"max_channels": t.max_channels, "cps": _number(t.cps)}
                          for name, t in self.trunks.items()}
        body["trunks"].update({target: {k: _number(v) for k, v in given.items()}
                               for target, given in self.server_limits.items()})
        for key in ("paused_by", "paused_at", "updated_by", "updated_at"):
            body[key] = _json_value(getattr(self, key))
        body["overridden"] = sorted(self.overridden)
        return body


def changed_keys(before: Campaign, after: Campaign) -> list[str]:
    """Keys whose value differs between two campaigns (a removed per-server limit too)."""
    old, new = before.values(), after.values()
    return [key for key in new if old.get(key) != new[key]] + [k for k in old if k not in new]


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
    per_server = {target: {k: float(v) for k, v in given.items() if k in TRUNK_LIMITS}
                  for target, given in limits.items()
                  if "@" in target and target.partition("@")[0] in trunks}
    overridden = set(stored) | {trunk_key(name, limit) for name, given in limits.items()
                                if name in trunks or name in per_server for limit in given}
    return Campaign(
        server_limits={target: given for target, given in per_server.items() if given},
        revision=row.revision, paused=bool(row.paused), trunks=trunks,
        paused_by=row.paused_by, paused_at=_aware(row.paused_at),
        updated_by=row.updated_by, updated_at=_aware(row.updated_at),
        overridden=frozenset(overridden), **values)


def _with_limits(trunk: Trunk, limits: TrunkLimits) -> Trunk:
    return replace(trunk, max_channels=limits.max_channels, cps=limits.cps)


def _limits(trunk: Trunk, stored: dict[str, Any]) -> TrunkLimits:
    return TrunkLimits(int(stored.get("max_channels", trunk.max_channels)),
                       float(stored.get("cps", trunk.cps)))


def _aware(moment: datetime | None) -> datetime | None:
    return from_db(moment) if moment is not None else None
