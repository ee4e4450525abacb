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

# In a title, 'về từ' alone is too loose ('báo cáo về từng xã'): only the epidemic-area phrases.
_TITLE_RETURNEE_WORDS = ("tro ve tu vung dich", "ve tu vung dich", "tu vung dich ve",
                         "nguoi tu vung dich", "vvd", "tro ve tu", "nguoi ve tu", "returnee")


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


def infer_category(texts: list[str]) -> str | None:
    """The one class that a sheet's title block or name speaks of ('DANH SÁCH CÔNG DÂN TRỞ VỀ
    TỪ VÙNG DỊCH', 'Danh sách F1'), else None (none, or several: 'F1, F2')."""
    found = {category for text in texts if (category := _class_in(word_key(text)))}
    return found.pop() if len(found) == 1 else None


def _class_in(key: str) -> str | None:
    """The class a free text names anywhere in it (a title, not a class cell)."""
    contact_of = _CONTACT_OF.search(key)
    if contact_of:
        return f"F{int(contact_of.group(1)) + 1}"
    tokens = {f"F{t}" for t in _CLASS_TOKEN.findall(key)}
    if len(tokens) == 1:
        return tokens.pop()
    if tokens:
        return None
    padded = f" {key} "
    for category, phrases in ((F1, _F1_WORDS), (RETURNEE, _TITLE_RETURNEE_WORDS)):
        if any(f" {p} " in padded for p in phrases):
            return category
    return None


def _starts_with_any(key: str, phrases: tuple[str, ...]) -> bool:
    """True if `key` is one of the phrases or starts with one followed by a word break."""
    return any(key == p or key.startswith(p + " ") for p in phrases)


def more_severe(a: str, b: str) -> bool:
    """True if class `a` outranks class `b`."""
    return SEVERITY[a] > SEVERITY[b]
