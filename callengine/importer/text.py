"""Cell values as text: Unicode NFC, collapsed whitespace, and accent-free keys for matching."""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, time

_NON_WORD = re.compile(r"[\W_]+")


def plain(value: object) -> object:
    """A Python scalar for a cell: numpy/pandas values converted, NaN/NaT -> None."""
    if value is None:
        return None
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    to_pydatetime = getattr(value, "to_pydatetime", None)  # pandas Timestamp
    if to_pydatetime is not None:
        try:
            return to_pydatetime()
        except ValueError:  # NaT
            return None
    item = getattr(value, "item", None)  # numpy scalar
    if item is not None and type(value).__module__ == "numpy":
        return plain(item())
    if type(value).__name__ == "NaTType":
        return None
    return value


def clean(text: str) -> str:
    """NFC with whitespace (line breaks, non-breaking spaces) collapsed to single spaces."""
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split())


def cell_text(value: object) -> str:
    """A cell as staff see it: '' for blanks, 912345678 not 912345678.0, dates dd/mm/yyyy."""
    if type(value) is str:  # the common case, first
        return clean(value) if value else ""
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return clean(str(value))


def _fold_table() -> dict[int, str | None]:
    """Latin letters with diacritics -> base letter; combining marks -> removed."""
    table: dict[int, str | None] = {}
    for start, end in ((0x00C0, 0x024F), (0x1E00, 0x1EFF)):
        for code in range(start, end + 1):
            base = "".join(ch for ch in unicodedata.normalize("NFD", chr(code))
                           if not unicodedata.combining(ch))
            if base != chr(code):
                table[code] = base
    for code in range(0x0300, 0x0370):
        table[code] = None
    table.update({ord("đ"): "d", ord("Đ"): "D", ord("ð"): "d", ord("Ð"): "D"})
    return table


_FOLD = _fold_table()


def fold(text: str) -> str:
    """Accent- and case-free form: 'Nguyễn  Văn An' and 'NGUYEN VAN AN' -> 'nguyen van an'."""
    return " ".join(text.translate(_FOLD).lower().split())


def word_key(text: str) -> str:
    """fold() with punctuation turned into spaces: 'Số CCCD/CMND:' -> 'so cccd cmnd'."""
    return " ".join(_NON_WORD.sub(" ", fold(text)).split())


def has_letter(text: str) -> bool:
    """True if the text holds at least one letter (a name, not a row number)."""
    return any(ch.isalpha() for ch in text)
