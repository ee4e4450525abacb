"""Written place names as keys: accent-, case-, space- and prefix-free, with the prefix kept.

    "X. Hoằng Quỳ", "xã Hoằng Quỳ", "Hoang Quy"  -> WrittenName(kind="xa", short="hoangquy")
    "H. Hoằng Hóa", "huyện Hoằng Hoá"             -> WrittenName(kind="huyen", short="hoanghoa")
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from callengine.importer.text import clean, fold, word_key

_NON_WORD = re.compile(r"[\W_]+")

# Written prefix (as word_key() gives it) -> the unit kind's key (its type's word_key, joined).
COMMUNE_PREFIXES = {
    "xa": "xa", "x": "xa",
    "phuong": "phuong", "p": "phuong",
    "thi tran": "thitran", "tt": "thitran", "t tran": "thitran",
}
DISTRICT_PREFIXES = {
    "huyen": "huyen", "h": "huyen",
    "thanh pho": "thanhpho", "tp": "thanhpho", "t p": "thanhpho",
    "thi xa": "thixa", "tx": "thixa", "t x": "thixa",
}


@dataclass(frozen=True)
class WrittenName:
    """A name as keys: its kind if a prefix said it (None if not), and the name itself,
    folded ('hoangquy') and with its accents ('hoằngquỳ': Hoằng Quỳ and Hoằng Quý differ)."""

    kind: str | None
    short: str
    exact: str

    @property
    def full(self) -> str | None:
        """Kind and name together, as the official list's keys are ('xahoangquy')."""
        return self.kind + self.short if self.kind else None


def kind_key(unit_type: str) -> str:
    """An official type ('Thị trấn') as a kind key ('thitran')."""
    return word_key(unit_type).replace(" ", "")


def _words(text: str) -> list[str]:
    """The words of a name, lower-case, accents kept, punctuation dropped."""
    return _NON_WORD.sub(" ", clean(text).lower()).split()


def parse_name(text: str | None, prefixes: dict[str, str]) -> WrittenName | None:
    """The written name's keys, or None when nothing is written."""
    words = _words(text or "")
    folded = [fold(w) for w in words]
    kind = None
    for length in (2, 1):  # the longest prefix first ('thi tran' before a one-letter one)
        head = " ".join(folded[:length])
        if len(words) > length and head in prefixes:
            kind, words, folded = prefixes[head], words[length:], folded[length:]
            break
    short = "".join(folded)
    return WrittenName(kind, short, "".join(words)) if short else None


def exact_short(name: str, unit_type: str) -> str:
    """An official name without its type, accents kept: 'Xã Hoằng Quỳ' -> 'hoằngquỳ'."""
    words, type_words = _words(name), len(_words(unit_type))
    return "".join(words[type_words:] if words[:type_words] == _words(unit_type) else words)


def unit_keys(name: str, unit_type: str) -> tuple[str, str]:
    """An official unit's (full, short) keys: 'Xã Hoằng Quỳ', 'Xã' -> ('xahoangquy', 'hoangquy')."""
    kind = kind_key(unit_type)
    full = word_key(name).replace(" ", "")
    return full, full.removeprefix(kind) if full.startswith(kind) else full
