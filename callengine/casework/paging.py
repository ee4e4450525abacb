"""Keyset pagination: an opaque cursor holds the last row's sort key (never an OFFSET)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from callengine.casework.errors import BadCursor, InvalidRequest

T = TypeVar("T")
MAX_LIMIT = 200
BAD_CURSOR = "Con trỏ trang không hợp lệ; hãy tải lại danh sách từ đầu."


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows and the cursor of the next one (None: this is the last page)."""

    items: tuple[T, ...]
    next: str | None


def encode_cursor(*key: object) -> str:
    """An opaque cursor for a sort key of ints, strings, bools and datetimes."""
    values = [["t", v.isoformat()] if isinstance(v, datetime) else v for v in key]
    raw = json.dumps(values, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *types: type) -> tuple:
    """The sort key of a cursor, checked against the expected types; InvalidRequest if not."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        key = tuple(_value(v, t) for v, t in zip(values, types, strict=True))
    except (ValueError, TypeError, binascii.Error):
        raise BadCursor(BAD_CURSOR) from None
    return key


def _value(value: object, kind: type) -> object:
    if kind is datetime:
        if not (isinstance(value, list) and len(value) == 2 and value[0] == "t"):
            raise ValueError(value)
        return datetime.fromisoformat(value[1])
    if kind is bool and isinstance(value, bool) or type(value) is kind:
        return value
    raise TypeError(value)


def check_limit(limit: int) -> int:
    """A page size between 1 and MAX_LIMIT."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest(f"Số dòng mỗi trang phải từ 1 đến {MAX_LIMIT}.")
    return limit


def page_of(rows: list, limit: int, key) -> tuple[tuple, str | None]:
    """Rows fetched with limit + 1 → (the page's rows, the next cursor or None)."""
    if len(rows) <= limit:
        return tuple(rows), None
    page = tuple(rows[:limit])
    return page, encode_cursor(*key(page[-1]))
