"""Monitoring classes (F0, F1, F2, returnee): spellings, severity and monitoring periods."""

from __future__ import annotations

import re
from functools import lru_cache

from callengine.importer.text import word_key

F0 = "F0"  # a case (patient): stored, never called
F1 = "F1"  # close contact of a case
F2 = "F2"  # contact of an F1
RETURNEE = "returnee"  # back from an epidemic area ("người về từ vùng dịch")
CATEGORIES = (F0, F1, F2, RETURNEE)

# F0 > F1 > F2 = returnee; a tie is settled by the newer list.
SEVERITY: dict[str, int] = {F0: 3, F1: 2, F2: 1, RETURNEE: 1}

# Days of monitoring from an appearance's date (arrival for returnees, last contact for
# contacts). F0 are patients: their appearance is recorded but opens no monitoring.
DEFAULT_PERIOD_DAYS: dict[str, int] = {RETURNEE: 14, F1: 14, F2: 7, F0: 0}

_CLASS_TOKEN = re.compile(r"\bf ?([0-2])\b")
_IN_BRACKETS = re.compile(r"[(\[]\s*[fF]\s*([0-2])\s*[)\]]")
_CONTACT_OF = re.compile(r"\b(?:tiep xuc|tx)(?: gan)? (?:voi|cua) f ?([01])\b")
_F0_WORDS = ("ca benh", "ca duong tinh", "duong tinh", "benh nhan", "ca nhiem", "f0", "case")
_F1_WORDS = ("tiep xuc gan", "tiep xuc truc tiep", "txg")
_RETURNEE_WORDS = (
    "nguoi ve tu", "ve tu", "tro ve tu", "tro ve", "nguoi tro ve", "vvd", "returnee",
    "nguoi tu vung dich", "tu vung dich ve", "vung dich", "nguoi den tu", "den tu",
)


@lru_cache(maxsize=1024)
def parse_category(raw: str) -> str | None:
    """F0/F1/F2/returnee for a hand-typed class ('f1', 'F 1', 'Tiếp xúc gần (F1)'), else None."""
    bracketed = _IN_BRACKETS.search(raw)
    if bracketed:
        return f"F{bracketed.group(1)}"
    key = word_key(raw)
    if not key:
        return None
    contact_of = _CONTACT_OF.search(key)
    if contact_of:  # 'tiếp xúc với F1' is an F2
        return f"F{int(contact_of.group(1)) + 1}"
    token = _CLASS_TOKEN.search(key)
    if token:
        return f"F{token.group(1)}"
    if _starts_with_any(key, _F0_WORDS):
        return F0
    if _starts_with_any(key, _F1_WORDS):
        return F1
    if _starts_with_any(key, _RETURNEE_WORDS):
        return RETURNEE
    return None


def _starts_with_any(key: str, phrases: tuple[str, ...]) -> bool:
    """True if `key` is one of the phrases or starts with one followed by a word break."""
    return any(key == p or key.startswith(p + " ") for p in phrases)


def more_severe(a: str, b: str) -> bool:
    """True if class `a` outranks class `b`."""
    return SEVERITY[a] > SEVERITY[b]
