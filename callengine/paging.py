"""Keyset pagination: opaque cursors and the "after this row" condition (never OFFSET)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Sequence, TypeVar

from sqlalchemy import ColumnElement, tuple_

from callengine.errors import CallengineError

T = TypeVar("T")


class InvalidCursor(CallengineError):
    """A cursor that this code did not produce."""

    def __init__(self) -> None:
        super().__init__("Con trỏ phân trang không hợp lệ.")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and the cursor of the next one (None on the last page)."""

    items: list[T]
    next: str | None


def encode_cursor(*values: int | str | datetime) -> str:
    """An opaque, URL-safe cursor for the sort key of the last row of a page."""
    raw = [{"t": v.isoformat()} if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    """The sort key back from encode_cursor; InvalidCursor for anything else."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != arity:
            raise ValueError
        return [datetime.fromisoformat(v["t"]) if isinstance(v, dict) else v for v in raw]
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor() from None


def after(columns: Sequence[Any], key: Sequence[Any], *, descending: bool = True
          ) -> ColumnElement[bool]:
    """Rows strictly after `key` in the (columns) order, as a row-value comparison."""
    left, right = tuple_(*columns), tuple_(*key)
    return left < right if descending else left > right


def page_of(rows: Sequence[T], limit: int, key: Any) -> Page[T]:
    """A page from `limit + 1` fetched rows; `key(row)` is the sort key tuple of a row."""
    if len(rows) <= limit:
        return Page(list(rows), None)
    items = list(rows[:limit])
    return Page(items, encode_cursor(*key(items[-1])))
