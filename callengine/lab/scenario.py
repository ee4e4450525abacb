"""Resident behaviour for the lab's carrier, from a YAML scenario file.

Format (a public interface, see README):
    default: no_answer
    residents:
      "+84912345678": {answer_after: 2, keys: ["1", "2", "-"]}
      "+84987654321": busy
    trunks:
      vnpt: down          # every call on that trunk gets SIP 503
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from callengine.errors import ConfigError
from callengine.phones import InvalidPhone, normalize_phone

SIMPLE = {"busy": 486, "reject": 603, "invalid": 404, "congestion": 503, "no_answer": None}
ANSWER_FIELDS = {"answer_after", "keys", "hangup_after", "silent", "say", "hang_up"}
VALID_KEYS = set("0123456789*#-")


@dataclass(frozen=True)
class Behaviour:
    kind: str  # one of SIMPLE, or 'answer'
    answer_after: float = 0.0
    keys: tuple[str, ...] = ()
    hangup_after: float | None = None
    silent: bool = False
    say: tuple[Path, ...] = ()
    hang_up: bool = False  # hang up right after the last key or recording


@dataclass(frozen=True)
class Scenario:
    default: Behaviour
    residents: dict[str, Behaviour] = field(default_factory=dict)  # E.164 -> behaviour
    trunks_down: tuple[str, ...] = ()


def _seconds(where: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"{where}: {value!r} must be a number of seconds >= 0")
    return float(value)


def _keys(where: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: must be a list like [\"1\", \"2\", \"-\"]")
    keys = tuple(str(k) for k in value)
    for key in keys:
        if len(key) != 1 or key not in VALID_KEYS:
            raise ConfigError(f"{where}: {key!r} is not a key (0-9, *, #, or - for none)")
    return keys


def _say(where: str, value: object, base: Path) -> tuple[Path, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where}: must be a list of recording files")
    paths = tuple((base / str(p)).resolve() for p in value)
    for path in paths:
        if not path.is_file():
            raise ConfigError(f"{where}: recording {path} does not exist")
    return paths


def parse_behaviour(where: str, raw: object, base: Path) -> Behaviour:
    if isinstance(raw, str):
        if raw not in SIMPLE:
            raise ConfigError(f"{where}: {raw!r} is not one of {', '.join(SIMPLE)} or a mapping")
        return Behaviour(raw)
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a behaviour name or a mapping")
    unknown = sorted(set(raw) - ANSWER_FIELDS)
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(unknown)}")
    silent, hang_up = raw.get("silent", False), raw.get("hang_up", False)
    for name, value in (("silent", silent), ("hang_up", hang_up)):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}.{name}: must be true or false")
    hangup_after = raw.get("hangup_after")
    return Behaviour(
        kind="answer",
        answer_after=_seconds(f"{where}.answer_after", raw.get("answer_after", 0)),
        keys=_keys(f"{where}.keys", raw.get("keys", [])),
        hangup_after=None if hangup_after is None
        else _seconds(f"{where}.hangup_after", hangup_after),
        silent=silent,
        hang_up=hang_up,
        say=_say(f"{where}.say", raw["say"], base) if "say" in raw else (),
    )


def parse_scenario(raw: object, base: Path, label: str = "scenario") -> Scenario:
    if not isinstance(raw, dict):
        raise ConfigError(f"{label}: the top level must be a mapping")
    unknown = sorted(set(raw) - {"default", "residents", "trunks"})
    if unknown:
        raise ConfigError(f"{label}: unknown field(s) {', '.join(unknown)}")
    default = parse_behaviour(f"{label}: default", raw.get("default", "no_answer"), base)
    residents = {}
    entries = raw.get("residents") or {}
    if not isinstance(entries, dict):
        raise ConfigError(f"{label}: residents must map phone numbers to behaviours")
    for number, behaviour in entries.items():
        where = f"{label}: residents.{number}"
        try:
            e164 = normalize_phone(str(number)).e164
        except InvalidPhone as exc:
            raise ConfigError(f"{where}: {exc}") from None
        residents[e164] = parse_behaviour(where, behaviour, base)
    return Scenario(default, residents, _trunks_down(label, raw.get("trunks") or {}))


def _trunks_down(label: str, raw: object) -> tuple[str, ...]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{label}: trunks must map trunk names to 'up' or 'down'")
    for name, state in raw.items():
        if state not in ("up", "down"):
            raise ConfigError(f"{label}: trunks.{name}: {state!r} must be 'up' or 'down'")
    return tuple(str(name) for name, state in raw.items() if state == "down")


def load_scenario(path: Path) -> Scenario:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"scenario {path}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"scenario {path}: not valid YAML ({exc})") from None
    return parse_scenario(raw or {}, Path(path).resolve().parent, f"scenario {path}")
