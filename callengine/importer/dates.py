"""Dates from hand-typed lists: Excel date cells and day-first text, near the list's date."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache

from callengine.importer.text import cell_text, plain

EXCEL_EPOCH = date(1899, 12, 30)
_SERIAL_RANGE = (20000, 80000)  # Excel serials of 1954..2119: a date cell shown as a number
MAX_DAYS_BEFORE_LIST = 366  # an older date is a typo (2012 for 2021), not a real exposure
MAX_DAYS_AFTER_LIST = 31  # a later date is a typo too; planned arrivals are allowed a month

_ISO = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_DMY = re.compile(r"(?<!\d)(\d{1,2})\s*[-/.]\s*(\d{1,2})(?:\s*[-/.]\s*(\d{4}|\d{2}))?(?![\d/.-])")
_WORDS = re.compile(
    r"ngày\s*(\d{1,2})\s*(?:/|tháng)\s*(\d{1,2})(?:\s*(?:/|năm)\s*(\d{4}))?", re.IGNORECASE
)
_ISO_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[ T]\d{2}:\d{2}(:\d{2})?")


class InvalidDate(ValueError):
    """A cell is not a readable date; the message (Vietnamese) says why."""


def parse_date(value: object, list_date: date, *,
               bounds: tuple[date, date] | None = None) -> date:
    """The date in a cell; day/month without a year takes the list's year. Raises InvalidDate.
    A date must be near the list's date, or within `bounds` (first, last day) when given."""
    value = plain(value)
    if isinstance(value, datetime):
        return _checked(value.date(), value, list_date, bounds)
    if isinstance(value, date):
        return _checked(value, value, list_date, bounds)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _checked(_from_serial(value), value, list_date, bounds)
    return _parse_text(cell_text(value), list_date, bounds)


@lru_cache(maxsize=4096)
def _parse_text(text: str, list_date: date, bounds: tuple[date, date] | None) -> date:
    """parse_date for text; lists repeat a few dates many times, so results are cached."""
    return _checked(_from_text(text, list_date), text, list_date, bounds)


def _from_serial(number: float) -> date:
    """A date cell that reached us as its serial number (45123)."""
    if not (_SERIAL_RANGE[0] <= number <= _SERIAL_RANGE[1]):
        raise InvalidDate(f"'{cell_text(number)}' không phải ngày (ghi theo ngày/tháng/năm)")
    return EXCEL_EPOCH + timedelta(days=int(number))


def _from_text(text: str, list_date: date) -> date:
    """Day-first text: dd/mm/yyyy, d/m/yy, dd-mm-yyyy, dd.mm.yyyy, yyyy-mm-dd, dd/mm."""
    iso_time = _ISO_TIME.fullmatch(text)
    if iso_time:
        text = iso_time.group(1)
    found: list[date] = []
    for match in _ISO.finditer(text):
        found.append(_build(text, int(match.group(3)), int(match.group(2)), int(match.group(1))))
    if not found:
        for match in (*_WORDS.finditer(text), *_DMY.finditer(text)):
            day, month, year = match.group(1), match.group(2), match.group(3)
            found.append(_day_month_year(text, int(day), int(month), year, list_date))
    if not found:
        raise InvalidDate(f"không đọc được ngày '{text}' (ghi theo ngày/tháng/năm)")
    if len(set(found)) > 1:
        raise InvalidDate(f"ô '{text}' có nhiều ngày; chỉ ghi một ngày")
    return found[0]


def _day_month_year(text: str, day: int, month: int, year: str | None, list_date: date) -> date:
    """Build a date; no year -> the list's year, or the year before across New Year."""
    if year is None:
        result = _build(text, day, month, list_date.year)
        if result > list_date + timedelta(days=MAX_DAYS_AFTER_LIST):
            result = _build(text, day, month, list_date.year - 1)  # '28/12' on a January list
        return result
    full_year = int(year) + 2000 if len(year) == 2 else int(year)
    return _build(text, day, month, full_year)


def _build(text: str, day: int, month: int, year: int) -> date:
    """date(year, month, day), or InvalidDate naming the impossible part."""
    if not 1 <= month <= 12:
        raise InvalidDate(f"ngày '{text}' có tháng {month} không hợp lệ (ghi theo ngày/tháng/năm)")
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidDate(f"ngày '{text}' không có thật (tháng {month} không có ngày {day})") \
            from None


def _checked(result: date, shown: object, list_date: date,
             bounds: tuple[date, date] | None = None) -> date:
    """Reject dates too far from the list's date (or outside the bounds) to be anything but
    a typo."""
    earliest, latest = bounds or (list_date - timedelta(days=MAX_DAYS_BEFORE_LIST),
                                  list_date + timedelta(days=MAX_DAYS_AFTER_LIST))
    if not earliest <= result <= latest:
        text, read = cell_text(shown), result.strftime("%d/%m/%Y")
        read_as = "" if text == read else f" ({read})"
        if bounds:
            raise InvalidDate(f"ngày '{text}'{read_as} phải từ {earliest:%d/%m/%Y} đến "
                              f"{latest:%d/%m/%Y}; kiểm tra lại năm")
        raise InvalidDate(
            f"ngày '{text}'{read_as} quá xa ngày của danh sách "
            f"({list_date.strftime('%d/%m/%Y')}); kiểm tra lại năm"
        )
    return result


def parse_year(value: object, list_date: date) -> int | None:
    """A birth year from a year, a date cell or a date text; None if unreadable."""
    value = plain(value)
    if isinstance(value, (datetime, date)):
        return value.year if 1900 <= value.year <= list_date.year else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if float(value).is_integer() and 1900 <= int(value) <= list_date.year:
            return int(value)
        return None
    text = cell_text(value)
    match = re.fullmatch(r"(?:\d{1,2}\s*[-/.]\s*){0,2}((?:19|20)\d\d)", text)
    if match and 1900 <= int(match.group(1)) <= list_date.year:
        return int(match.group(1))
    return None
