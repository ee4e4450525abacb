"""Vietnamese text helpers for transcripts: normalisation, accent folding, numbers read aloud.

Pure functions, no I/O. Tokens are NFC, lower-case words or digit groups ("38", "38,5").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[^\W\d_]+")


def tokens(text: str) -> list[str]:
    """Lower-case NFC words and numbers of a text; punctuation and spacing dropped."""
    return _TOKEN.findall(unicodedata.normalize("NFC", text).lower())


def normalize(text: str) -> str:
    """The text as single-spaced lower-case NFC words ("Dạ, KHÔNG!" -> "dạ không")."""
    return " ".join(tokens(text))


def fold(text: str) -> str:
    """Strip tones, vowel marks and the đ stroke: how text typed without accents looks."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền sắc ngã hỏi nặng


def tone_fold(text: str) -> str:
    """Strip only the five tone marks: a tone error compares equal ("mồi" = "mỏi")."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))


def sounds_like(word: str, target: str) -> bool:
    """Whether a word may stand for target: the same, a tone error, or typed without accents."""
    if word == target or tone_fold(word) == tone_fold(target):
        return True
    return word.isascii() and word == fold(target)


# --- numbers read aloud -----------------------------------------------------------------

DIGITS = {"một": 1, "hai": 2, "ba": 3, "bốn": 4, "năm": 5, "sáu": 6, "bảy": 7, "bẩy": 7,
          "tám": 8, "chín": 9}
# Forms a unit digit takes after a tens word or another digit: "ba mươi mốt", "ba lăm".
UNIT_VARIANTS = {**DIGITS, "mốt": 1, "tư": 4, "lăm": 5, "nhăm": 5, "răm": 5}
ZERO = {"không", "linh", "lẻ"}
TEN = "mười"  # "mười" (10) and "mươi" (x10) fold alike; ASR confuses them
HALF = {"rưỡi", "rưởi", "rưới"}
DECIMAL_MARKS = {"phẩy", "chấm", "độ"}
DEGREE = {"độ"}
# Words that sound like a number but are usually something else: never fold-matched.
NOT_NUMBERS = {"bà", "bá", "bạ", "sau", "nam", "bay", "bày", "tam", "tạm"}
# A number followed by one of these is a count, not a temperature ("ba bốn ngày").
COUNT_UNITS = {"ngày", "hôm", "bữa", "lần", "tuổi", "tiếng", "giờ", "phút", "tuần", "tháng",
               "người", "cái", "viên", "lít", "ký", "kg", "cân"}

_FOLDED_UNITS = {fold(w): (w, v) for w, v in UNIT_VARIANTS.items()}
_FOLDED_DIGITS = {fold(w): (w, v) for w, v in DIGITS.items()}


@dataclass(frozen=True)
class NumberSpan:
    """A number found in a token list: its value and the tokens [start, end) it used."""

    value: float
    start: int
    end: int
    unit: str | None = None  # the word after it: "độ", "ngày", ... or None


def _lookup(token: str, exact: dict[str, int], folded: dict[str, tuple]) -> int | None:
    if token in exact:
        return exact[token]
    if token in NOT_NUMBERS or token in ZERO:
        return None
    word, value = folded.get(fold(token), ("", None))
    return value if word and sounds_like(token, word) else None


def _digit(token: str) -> int | None:
    return _lookup(token, DIGITS, _FOLDED_DIGITS)


def _unit(token: str) -> int | None:
    return _lookup(token, UNIT_VARIANTS, _FOLDED_UNITS)


def _is_ten(token: str) -> bool:
    return sounds_like(token, TEN)


def _at(words: list[str], i: int) -> str:
    return words[i] if i < len(words) else ""


def _integer(words: list[str], i: int) -> tuple[int, int, str] | None:
    """(value, next index, form) of an integer at i; form is arabic, tens, short or single."""
    word = words[i]
    if word.isdigit():
        return int(word), i + 1, "arabic"
    if _is_ten(word):
        unit = _unit(_at(words, i + 1))
        return (10 + unit, i + 2, "tens") if unit else (10, i + 1, "tens")
    tens = _digit(word)
    if tens is None:
        return None
    if _is_ten(_at(words, i + 1)):
        unit = _unit(_at(words, i + 2))
        return (tens * 10 + unit, i + 3, "tens") if unit else (tens * 10, i + 2, "tens")
    unit = _unit(_at(words, i + 1))
    if unit is not None and _at(words, i + 2) not in COUNT_UNITS:
        return tens * 10 + unit, i + 2, "short"  # "ba tám" = 38
    return tens, i + 1, "single"


def _decimal_digits(words: list[str], i: int) -> tuple[str, int]:
    digits = ""
    while i < len(words):
        word = words[i]
        value: int | str | None = _unit(word)
        if word.isdigit():
            value = word
        elif word in ZERO and (_unit(_at(words, i + 1)) is not None or _at(words, i + 1) in ZERO):
            value = 0
        if value is None:
            break
        digits += str(value)
        i += 1
    return digits, i


def _fraction(words: list[str], i: int, shorthand: bool) -> tuple[float, int]:
    """(fraction, next index) after an integer: "rưỡi", "độ năm", "phẩy hai", "ba tám năm"."""
    word = _at(words, i)
    if word in HALF:
        return 0.5, i + 1
    if word in DECIMAL_MARKS:
        if _at(words, i + 1) in HALF:
            return 0.5, i + 2
        digits, end = _decimal_digits(words, i + 1)
        if digits:
            return float("0." + digits), end
    elif shorthand and (unit := _unit(word)) is not None and not _is_ten(_at(words, i + 1)):
        return unit / 10, i + 1  # "ba tám năm" = 38.5
    return 0.0, i


def _number_at(words: list[str], i: int) -> NumberSpan | None:
    word = words[i]
    if re.fullmatch(r"\d+[.,]\d+", word):
        return _with_unit(words, float(word.replace(",", ".")), i, i + 1)
    parsed = _integer(words, i)
    if parsed is None:
        return None
    value, end, form = parsed
    fraction, after = _fraction(words, end, shorthand=form == "short")
    if form == "single" and after == end and _at(words, end) not in DEGREE:
        return None  # a lone "ba" or "năm" is rarely a number
    return _with_unit(words, value + fraction, i, after)


def _with_unit(words: list[str], value: float, start: int, end: int) -> NumberSpan:
    unit = _at(words, end) or None
    if unit in DEGREE:
        end += 1
        if _at(words, end) == "c":
            end += 1
    elif unit not in COUNT_UNITS:
        unit = None
    return NumberSpan(value, start, end, unit)


def find_numbers(words: list[str]) -> list[NumberSpan]:
    """Numbers in a token list: "ba mươi tám độ rưỡi" -> 38.5, "ba tám độ năm" -> 38.5."""
    found, i = [], 0
    while i < len(words):
        span = _number_at(words, i)
        if span is None:
            i += 1
            continue
        found.append(span)
        i = span.end
    return found
