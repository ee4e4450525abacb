"""Campaign changes checked with the settings' own parsers; errors in Vietnamese, per field."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from callengine.campaign.values import SETTING_KEYS, format_window, label, split_trunk_key
from callengine.errors import ConfigError
from callengine.settings import (
    _SERVER_ID,
    _parse_bool,
    _parse_int,
    _parse_positive_float,
    parse_duration,
    parse_window,
)
from callengine.store.campaign import DURATION_COLUMNS

READ_ONLY = ("revision", "paused_by", "paused_at", "updated_by", "updated_at", "overridden")
MAX_ACTOR = 100


class CampaignError(ConfigError):
    """A campaign change refused; errors maps each bad key to its Vietnamese message."""

    code = "invalid_campaign"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors
        self.field = next(iter(errors))


class CampaignConflict(CampaignError):
    """The campaign changed since the revision the change was based on."""

    code = "campaign_conflict"


_REASONS = {
    "bool": "phải là true hoặc false",
    "window": "phải là khung giờ dạng 08:00-20:00, giờ kết thúc sau giờ bắt đầu",
    "duration": "phải là số giây không âm, hoặc dạng 90s, 15m, 2h",
    "count": "phải là số nguyên từ 1 trở lên",
    "rate": "phải là số lớn hơn 0",
}


def _window(key: str, value: Any) -> str:
    return format_window(parse_window(key, value))


def _count(key: str, value: Any) -> int:
    return _parse_int(key, value, 1)


_PARSERS: dict[str, tuple[str, Callable[[str, Any], Any]]] = {
    "paused": ("bool", _parse_bool),
    "call_window": ("window", _window),
    "max_attempts_per_day": ("count", _count),
    **{key: ("duration", parse_duration) for key in DURATION_COLUMNS},
    "max_channels": ("count", _count),
    "cps": ("rate", _parse_positive_float),
}


def flatten(changes: Mapping[str, Any]) -> dict[str, Any]:
    """PUT bodies may nest trunk limits: {"trunks": {"viettel": {"cps": 5}}}."""
    flat = {key: value for key, value in changes.items() if key != "trunks"}
    trunks = changes.get("trunks", {})
    if not isinstance(trunks, Mapping):
        raise CampaignError({"trunks": "Đường trung kế (trunks): phải là bảng theo tên trung kế"})
    for name, limits in trunks.items():
        if not isinstance(limits, Mapping):
            raise CampaignError({f"trunk.{name}": f"Trung kế {name}: phải là bảng giới hạn "
                                                  "(max_channels, cps)"})
        flat.update({f"trunk.{name}.{limit}": value for limit, value in limits.items()})
    return flat


def parse_changes(changes: Mapping[str, Any], trunks: tuple[str, ...]) -> dict[str, Any]:
    """Validated values by flat key (None: back to the settings); every bad key reported."""
    parsed, errors = {}, {}
    for key, value in flatten(changes).items():
        try:
            parsed[key] = _parse_one(str(key), value, trunks)
        except CampaignError as exc:
            errors.update(exc.errors)
    if errors:
        raise CampaignError(errors)
    return parsed


def _parse_one(key: str, value: Any, trunks: tuple[str, ...]) -> Any:
    kind = _kind_of(key, trunks)
    if value is None and key != "paused":
        return None
    reason, parser = _PARSERS[kind]
    try:
        return parser(key, value)
    except ConfigError:
        raise CampaignError({key: f"{label(key)} ({key}): {value!r} không hợp lệ, "
                                  f"{_REASONS[reason]}"}) from None


def _kind_of(key: str, trunks: tuple[str, ...]) -> str:
    """The parser's name for a key, or a CampaignError for a key that cannot change."""
    if key in SETTING_KEYS or key == "paused":
        return key
    parts = split_trunk_key(key)
    if parts is not None:
        name, server, limit = parts
        if name not in trunks:
            raise CampaignError({key: f"Trung kế {name!r} không có trong cấu hình "
                                      f"(có: {', '.join(trunks)})"})
        if server is not None and not _SERVER_ID.match(server):
            raise CampaignError({key: f"{key}: tên máy chủ {server!r} không hợp lệ: sau @ là "
                                      "mã máy chủ (CALLENGINE_SERVER_ID), 1 đến 64 chữ cái, "
                                      "chữ số, dấu . _ : -, ví dụ trunk.viettel@lab-2.cps"})
        return limit
    if key in READ_ONLY:
        raise CampaignError({key: f"{key}: chỉ đọc, không thay đổi được"})
    raise CampaignError({key: f"{key}: không phải thiết lập của chiến dịch (có: "
                              f"paused, {', '.join(SETTING_KEYS)}, "
                              "trunk.<tên>.max_channels, trunk.<tên>.cps, "
                              "trunk.<tên>@<máy chủ>.max_channels, "
                              "trunk.<tên>@<máy chủ>.cps)"})


def check_actor(actor: str) -> str:
    """Who makes a change: required, as stored (at most 100 characters)."""
    actor = (actor or "").strip()
    if not actor or len(actor) > MAX_ACTOR:
        raise CampaignError({"by": "Người thay đổi (by): bắt buộc, tối đa 100 ký tự"})
    return actor
