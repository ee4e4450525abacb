"""The business risk self-assessment's criteria as data: loaded from a YAML file, validated.

A criteria set has groups of criteria, each criterion options worth points, a formula (the
index is points / max_points x 100 %) and bands of the index. A malformed file is refused with
a Vietnamese message naming the file and the place in it that is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from callengine.errors import ConfigError

CRITERIA_DIR = Path(__file__).resolve().parent.parent / "risk_criteria"
DEFAULT_CRITERIA = CRITERIA_DIR / "workplace_hcmc_2020.yaml"
_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Option:
    id: str
    text: str
    points: int


@dataclass(frozen=True)
class Criterion:
    id: str
    text: str
    options: tuple[Option, ...]

    @property
    def max_points(self) -> int:
        return max(option.points for option in self.options)

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True)
class Group:
    id: str
    title: str
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class Band:
    code: str
    label: str
    advice: str
    lower: float
    upper: float
    include_upper: bool = False
    requires_no_component_alert: bool = False
    otherwise: str | None = None  # the band given instead when the component rule fails

    def holds(self, index: float) -> bool:
        return self.lower <= index < self.upper or (self.include_upper and index == self.upper)


@dataclass(frozen=True)
class CriteriaSet:
    id: str
    version: int
    title: str
    source: str
    notes: str
    max_points: int
    component_alert: int
    groups: tuple[Group, ...]
    bands: tuple[Band, ...]

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        return tuple(c for group in self.groups for c in group.criteria)

    def band(self, code: str) -> Band:
        return next(b for b in self.bands if b.code == code)


class _Reader:
    """Checks one file's parts; every error names the file and where in it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, where: str, problem: str) -> ConfigError:
        return ConfigError(f"Tệp tiêu chí {self.path.name}: {where}: {problem}")

    def mapping(self, where: str, raw: Any) -> dict:
        if not isinstance(raw, dict):
            raise self.error(where, "phải là một bảng khóa: giá trị")
        return raw

    def items(self, where: str, raw: Any) -> list:
        if not isinstance(raw, list) or not raw:
            raise self.error(where, "phải là một danh sách không rỗng")
        return raw

    def text(self, where: str, raw: dict, key: str) -> str:
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"{where}.{key}", "thiếu hoặc không phải chữ")
        return " ".join(value.split())

    def ident(self, where: str, raw: dict, seen: set[str]) -> str:
        value = raw.get("id", raw.get("code"))
        if not isinstance(value, str) or not _ID.match(value):
            raise self.error(where, f"mã {value!r} không hợp lệ (chữ thường, số, dấu _)")
        if value in seen:
            raise self.error(where, f"mã {value!r} bị trùng")
        seen.add(value)
        return value

    def number(self, where: str, raw: Any, *, low: float, high: float) -> float:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) \
                or not low <= raw <= high:
            raise self.error(where, f"{raw!r} phải là số từ {low:g} đến {high:g}")
        return raw

    def option(self, where: str, raw: Any, seen: set[str]) -> Option:
        raw = self.mapping(where, raw)
        points = self.number(f"{where}.points", raw.get("points"), low=0, high=1000)
        if not float(points).is_integer():
            raise self.error(f"{where}.points", f"{points!r} phải là số nguyên")
        return Option(self.ident(where, raw, seen), self.text(where, raw, "text"), int(points))

    def criterion(self, where: str, raw: Any, seen: set[str]) -> Criterion:
        raw = self.mapping(where, raw)
        ident = self.ident(where, raw, seen)
        where = f"{where} ({ident})"
        options: set[str] = set()
        return Criterion(ident, self.text(where, raw, "text"), tuple(
            self.option(f"{where}.options[{i}]", item, options)
            for i, item in enumerate(self.items(f"{where}.options", raw.get("options")))))

    def group(self, where: str, raw: Any, seen: set[str], criteria: set[str]) -> Group:
        raw = self.mapping(where, raw)
        ident = self.ident(where, raw, seen)
        where = f"{where} ({ident})"
        return Group(ident, self.text(where, raw, "title"), tuple(
            self.criterion(f"{where}.criteria[{i}]", item, criteria)
            for i, item in enumerate(self.items(f"{where}.criteria", raw.get("criteria")))))

    def band(self, where: str, raw: Any, seen: set[str]) -> Band:
        raw = self.mapping(where, raw)
        code = self.ident(where, raw, seen)
        where = f"{where} ({code})"
        lower = self.number(f"{where}.lower", raw.get("lower"), low=0, high=100)
        upper = self.number(f"{where}.upper", raw.get("upper"), low=0, high=100)
        if lower >= upper:
            raise self.error(where, "cần lower < upper")
        otherwise = raw.get("otherwise")
        return Band(code, self.text(where, raw, "label"), self.text(where, raw, "advice"),
                    lower, upper, raw.get("include_upper") is True,
                    raw.get("requires_no_component_alert") is True,
                    otherwise if isinstance(otherwise, str) else None)


def _check_bands(reader: _Reader, bands: tuple[Band, ...]) -> None:
    """The bands cover 0..100 % in order without gap or overlap."""
    edge = 0.0
    for band in bands:
        if band.lower != edge:
            raise reader.error(f"bands ({band.code})",
                               f"bắt đầu từ {band.lower:g} % nhưng dải trước dừng ở {edge:g} %")
        edge = band.upper
    if edge != 100 or not bands[-1].include_upper:
        raise reader.error("bands", "dải cuối phải kết thúc ở 100 % (include_upper: true)")
    codes = {band.code for band in bands}
    for band in bands:
        if band.requires_no_component_alert and band.otherwise not in codes:
            raise reader.error(f"bands ({band.code})",
                               "requires_no_component_alert cần otherwise là mã một dải khác")


def load_criteria(path: Path = DEFAULT_CRITERIA) -> CriteriaSet:
    """Read and validate a criteria file, or ConfigError saying what is wrong."""
    path = Path(path)
    reader = _Reader(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise reader.error("tệp", f"không đọc được ({exc})") from None
    raw = reader.mapping("tệp", raw)
    ids: set[str] = set()
    criteria: set[str] = set()
    groups = tuple(reader.group(f"groups[{i}]", item, ids, criteria)
                   for i, item in enumerate(reader.items("groups", raw.get("groups"))))
    codes: set[str] = set()
    bands = tuple(reader.band(f"bands[{i}]", item, codes)
                  for i, item in enumerate(reader.items("bands", raw.get("bands"))))
    _check_bands(reader, bands)
    formula = reader.mapping("formula", raw.get("formula"))
    max_points = int(reader.number("formula.max_points", formula.get("max_points"),
                                   low=1, high=100000))
    reachable = sum(c.max_points for g in groups for c in g.criteria)
    if reachable != max_points:
        raise reader.error("formula.max_points", f"là {max_points} nhưng tổng điểm cao nhất "
                                                 f"của các tiêu chí là {reachable}")
    version = reader.number("version", raw.get("version"), low=1, high=10000)
    alert = reader.number("component_alert", raw.get("component_alert", max_points + 1),
                          low=0, high=max_points + 1)
    return CriteriaSet(
        reader.ident("id", raw, set()), int(version), reader.text("tệp", raw, "title"),
        reader.text("tệp", raw, "source"), raw.get("notes", "") or "", max_points, int(alert),
        groups, bands)


@lru_cache(maxsize=4)
def default_criteria() -> CriteriaSet:
    """The criteria set shipped with the project, read once."""
    return load_criteria(DEFAULT_CRITERIA)
