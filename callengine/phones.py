"""Vietnamese phone numbers: normalise hand-typed cells, guess the carrier, mask for logs.

Only numbers that reach a person are valid (mobile or fixed line). Error messages are in
Vietnamese because they are shown to district health-centre staff who fix the workbook.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType
from phonenumbers import carrier as pn_carrier

from callengine.errors import CallengineError

__all__ = [
    "InvalidPhone",
    "LEGACY_MOBILE_PREFIXES",
    "ParsedCell",
    "PhoneNumber",
    "carrier_of",
    "mask_phone",
    "normalize_phone",
    "parse_phone_cell",
]

COUNTRY_CODE = "84"

# 2018 conversion of 11-digit mobile numbers to 10 digits, keyed on the national significant
# number (without the trunk 0): 0162xxxxxxx -> 032xxxxxxx is "162" -> "32".
LEGACY_MOBILE_PREFIXES: dict[str, str] = {
    **{f"16{d}": f"3{d}" for d in "23456789"},  # Viettel 0162-0169 -> 032-039
    "120": "70", "121": "79", "122": "77", "126": "76", "128": "78",  # MobiFone
    "123": "83", "124": "84", "125": "85", "127": "81", "129": "82",  # Vinaphone
    "186": "56", "188": "58",  # Vietnamobile
    "199": "59",  # Gmobile
}

# Carrier by mobile prefix, used when phonenumbers has no carrier name for a number.
# Mobile number portability exists (since 2019), so a carrier is only a routing hint:
# the subscriber may have moved to another network and kept the number.
_PREFIX_CARRIERS: dict[str, str] = {
    **{p: "viettel" for p in ("86", "96", "97", "98", "32", "33", "34", "35", "36", "37",
                              "38", "39")},
    **{p: "vinaphone" for p in ("88", "91", "94", "81", "82", "83", "84", "85")},
    **{p: "mobifone" for p in ("89", "90", "93", "70", "76", "77", "78", "79")},
    **{p: "vietnamobile" for p in ("92", "56", "58")},
    **{p: "gmobile" for p in ("99", "59")},
    "87": "itelecom",
    "55": "reddi",
}

# MVNO blocks that phonenumbers attributes to the host network (087 -> 'Vinaphone'); the
# block itself is allocated to the MVNO, so the MVNO wins.
_MVNO_PREFIXES: dict[str, str] = {"87": "itelecom"}

# phonenumbers carrier names (lower-cased, letters only) -> carrier keys.
_CARRIER_NAMES: dict[str, str] = {
    "viettel": "viettel",
    "vinaphone": "vinaphone",
    "vnpt": "vinaphone",
    "mobifone": "mobifone",
    "vietnamobile": "vietnamobile",
    "gmobile": "gmobile",
    "gtel": "gmobile",
    "beeline": "gmobile",
    "indochinatelecom": "itelecom",
    "itelecom": "itelecom",
    "reddi": "reddi",
    "mobicast": "reddi",
}

_PERSON_TYPES: dict[int, str] = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed",
}

_MOBILE_LEADS = "35789"  # first digit of a 9-digit mobile national significant number
_SERVICE_PREFIXES = ("1800", "1900")
_MIN_NUMBER_DIGITS = 8  # a shorter digit run is not an attempt at a whole number

_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_SPACES = re.compile(r"[\u00a0\u2007\u202f\t]")
_NUMBER_CHARS = re.compile(r"[\d\s.\-/()]*\d[\d\s.\-/()]*")
_EXCEL_FLOAT = re.compile(r"(\d+)\.0+")
_LEADING_PLUS = re.compile(r"^[\s(]*\+")

_HARD_SEPARATORS = re.compile(
    r"[,;\n\r|]+"  # list punctuation and line breaks
    r"|\s+/+\s+"  # a spaced slash
    r"|\s+-+\s+"  # a spaced dash
    r"|\s+(?:và|hoặc|hoac|hay|or)\s+"  # 'and' / 'or'
    r"|(?<=[\d)])\s+va\s+(?=[+(]?\d)",  # unaccented 'và' between two numbers
    re.IGNORECASE,
)
_RUN = re.compile(r"[+(]*\d(?:[ .\-/()]*\d)*")
_GROUP = re.compile(r"\d+")
_LETTER = re.compile(r"[^\W\d_]")
_WORD_BEFORE = re.compile(r"[^\W\d_]\s*$")
_LABELS = re.compile(
    r"(?<!\w)(?:s[đd]t|[đd]t|d[đd]|tel|phone|mobile|điện thoại|dien thoai|di động|di dong)"
    r"(?!\w)\s*[:.]?",
    re.IGNORECASE,
)
_NOTE_TRIM = " \t-:.,;/()[]{}'\"*"


class InvalidPhone(CallengineError, ValueError):
    """A value is not a callable Vietnamese phone number; the message says why."""

    def __init__(self, raw: str, reason: str, *, looks_like_number: bool = True) -> None:
        self.raw = raw
        self.reason = reason
        self.looks_like_number = looks_like_number
        super().__init__(self._message(raw))

    def _message(self, shown: str) -> str:
        """The message with `shown` standing for the value."""
        if self.looks_like_number:
            return f"Số điện thoại '{shown}' {self.reason}"
        return f"'{shown}' {self.reason}"

    def masked_message(self) -> str:
        """The message with the value masked, safe for logs."""
        return self._message(mask_phone(self.raw))


@dataclass(frozen=True)
class PhoneNumber:
    """A valid Vietnamese number that reaches a person."""

    e164: str
    kind: str
    carrier: str

    def national(self) -> str:
        """National form with trunk zero: '0912345678'."""
        return "0" + self.e164[1 + len(COUNTRY_CODE):]

    def international_digits(self) -> str:
        """International form without '+': '84912345678'."""
        return self.e164[1:]

    def masked(self) -> str:
        """National form masked for logs: '*******678'."""
        return mask_phone(self.national())


@dataclass(frozen=True)
class ParsedCell:
    """The numbers, rejected pieces and free-text note found in one spreadsheet cell."""

    primary: PhoneNumber | None
    alternates: tuple[PhoneNumber, ...]
    invalid: tuple[str, ...]
    note: str


def mask_phone(text: str) -> str:
    """Keep only the last 3 digits of `text`: '+84912345678' -> '********678'."""
    digits = re.sub(r"\D", "", text)
    if len(digits) <= 3:
        return "*" * len(digits)  # never reveal a whole number
    return "*" * (len(digits) - 3) + digits[-3:]


def normalize_phone(raw: str | int | float) -> PhoneNumber:
    """Normalise one hand-typed or numeric value, or raise InvalidPhone naming the reason."""
    shown = _shown(raw)
    digits, plus = _digits_of(raw, shown)
    nsn = _convert_legacy(_national_significant(digits, plus, shown))
    _check_shape(nsn, shown)
    return _to_phone(nsn, shown)


def carrier_of(e164: str) -> str:
    """Carrier key of a number (any accepted format); raises InvalidPhone if not valid."""
    return normalize_phone(e164).carrier


def parse_phone_cell(raw: object) -> ParsedCell:
    """Split a cell into a primary number, alternates, invalid pieces and a note."""
    if _is_blank(raw):
        return ParsedCell(None, (), (), "")
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return _assemble([(_shown(raw), _attempt(raw))], [])
    items: list[tuple[str, PhoneNumber | None]] = []
    notes: list[str] = []
    for piece in _HARD_SEPARATORS.split(_clean_cell(str(raw))):
        piece_items, piece_notes = _parse_piece(piece)
        items += piece_items
        notes += piece_notes
    return _assemble(items, notes)


# --- normalize_phone helpers ---------------------------------------------------------------


def _shown(raw: object) -> str:
    """The value as staff would recognise it in an error message."""
    if isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


def _digits_of(raw: object, shown: str) -> tuple[str, bool]:
    """Digits of the value and whether it was written with a leading '+'."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise _not_a_number(shown)
    if isinstance(raw, float):
        return _float_digits(raw, shown), False
    if isinstance(raw, int):
        if raw < 0:
            raise _not_a_number(shown)
        return str(raw), False
    return _text_digits(raw, shown)


def _float_digits(raw: float, shown: str) -> str:
    """Digits of an Excel numeric cell such as 912345678.0."""
    if not math.isfinite(raw) or not raw.is_integer() or raw < 0:
        raise _not_a_number(shown)
    return str(int(raw))


def _text_digits(raw: str, shown: str) -> tuple[str, bool]:
    """Digits of a typed number; only digits and group separators are allowed."""
    text = _SPACES.sub(" ", _DASHES.sub("-", raw)).strip().lstrip("'").strip()
    if not text:
        raise InvalidPhone(shown, "bị để trống")
    excel = _EXCEL_FLOAT.fullmatch(text)
    if excel:
        text = excel.group(1)
    plus = bool(_LEADING_PLUS.match(text))
    if plus:
        text = text.replace("+", "", 1)
    if not _NUMBER_CHARS.fullmatch(text):
        raise _not_a_number(shown)
    return re.sub(r"\D", "", text), plus


def _national_significant(digits: str, plus: bool, shown: str) -> str:
    """Strip +84 / 0084 / 84 / trunk 0 to get the national significant number."""
    if plus:
        if digits.startswith(COUNTRY_CODE):
            return _strip_trunk(digits[2:])
        if digits.startswith("0"):  # '+0912...': a plus typed before a national number
            return digits[1:]
        raise _foreign(shown)
    if digits.startswith("00" + COUNTRY_CODE):
        return _strip_trunk(digits[4:])
    if digits.startswith("00"):
        raise _foreign(shown)
    if digits.startswith("0"):
        return digits[1:]
    if digits.startswith(COUNTRY_CODE) and len(digits) >= 10:
        return _strip_trunk(digits[2:])
    return digits  # a numeric cell that lost its leading zero, or a service number


def _strip_trunk(nsn: str) -> str:
    """Drop a trunk zero written after the country code: '+84 (0) 912...'."""
    return nsn[1:] if nsn.startswith("0") else nsn


def _convert_legacy(nsn: str) -> str:
    """Apply the 2018 conversion of 11-digit mobile prefixes (0166... -> 036...)."""
    new_prefix = LEGACY_MOBILE_PREFIXES.get(nsn[:3])
    if new_prefix is None or len(nsn) != 10:
        return nsn
    return new_prefix + nsn[3:]


def _check_shape(nsn: str, shown: str) -> None:
    """Reject service numbers, short codes and wrong lengths with a specific reason."""
    if nsn.startswith(_SERVICE_PREFIXES):
        raise InvalidPhone(shown, "là số dịch vụ, không gọi được")
    if nsn.startswith("1") and len(nsn) <= 6:
        raise InvalidPhone(shown, _short_code_reason(nsn))
    expected = _expected_length(nsn)
    if expected is not None and len(nsn) != expected:
        raise _wrong_length(shown, nsn, expected)
    if len(nsn) < _MIN_NUMBER_DIGITS:
        raise _wrong_length(shown, nsn, None)


def _expected_length(nsn: str) -> int | None:
    """Length of a national significant number starting like `nsn`, if known."""
    if nsn[:1] and nsn[0] in _MOBILE_LEADS:
        return 9
    if nsn.startswith("2") or nsn[:3] in LEGACY_MOBILE_PREFIXES:
        return 10
    return None


def _short_code_reason(nsn: str) -> str:
    """Reason for a short code such as 113 or 1022."""
    if phonenumbers.is_emergency_number(nsn, "VN"):
        return "là số khẩn cấp, không gọi được"
    return "là số dịch vụ (đầu số ngắn), không gọi được"


# phonenumbers' rules for Vietnam are a prefix of at most 4 digits and a length (patterns
# such as 9(?:[0-8]\d)\d{6}), and its carrier prefixes have at most 3 digits after 84; so a
# number's verdict (kind and carrier, or why not) is that of its first 4 digits and length.
# It is computed once per such key with phonenumbers and reused: a list of 100,000 numbers
# needs a few hundred phonenumbers calls instead of 100,000 (tests/unit/test_phones.py checks
# the premise against the installed metadata, and the cached path against the direct one).
VERDICT_PREFIX = 4
_verdicts: dict[tuple[str, int], tuple[str | None, str]] = {}  # -> (kind, carrier or error)


def _to_phone(nsn: str, shown: str) -> PhoneNumber:
    """The PhoneNumber of a well-shaped national significant number, from the cached
    verdict of its prefix and length."""
    if not (nsn.isascii() and nsn.isdigit()) or nsn.startswith("0"):
        return _to_phone_uncached(nsn, shown)
    key = (nsn[:VERDICT_PREFIX], len(nsn))
    verdict = _verdicts.get(key)
    if verdict is None:
        try:
            number = _to_phone_uncached(nsn, shown)
            verdict = (number.kind, number.carrier)
        except InvalidPhone as exc:
            verdict = (None, exc.reason)
        _verdicts[key] = verdict
    kind, detail = verdict
    if kind is None:
        raise InvalidPhone(shown, detail)
    return PhoneNumber(e164=f"+{COUNTRY_CODE}{nsn}", kind=kind, carrier=detail)


def _to_phone_uncached(nsn: str, shown: str) -> PhoneNumber:
    """Validate with phonenumbers' metadata and build the PhoneNumber."""
    try:
        number = phonenumbers.parse("+" + COUNTRY_CODE + nsn)
    except phonenumbers.NumberParseException as exc:
        raise _not_in_use(shown) from exc
    if not phonenumbers.is_valid_number(number):
        raise _not_in_use(shown)
    kind = _kind_of(number, nsn)
    if kind is None:
        raise InvalidPhone(shown, "là số dịch vụ, không gọi được")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return PhoneNumber(e164=e164, kind=kind, carrier=_carrier_for(number, nsn, kind))


def _kind_of(number: phonenumbers.PhoneNumber, nsn: str) -> str | None:
    """'mobile', 'fixed', or None for numbers that do not reach a person."""
    number_type = phonenumbers.number_type(number)
    if number_type == PhoneNumberType.FIXED_LINE_OR_MOBILE:
        return "fixed" if nsn.startswith("2") else "mobile"
    return _PERSON_TYPES.get(number_type)


def _carrier_for(number: phonenumbers.PhoneNumber, nsn: str, kind: str) -> str:
    """Carrier key: MVNO block, else phonenumbers' name, else the prefix table."""
    if kind == "fixed":
        return "fixed"
    if nsn[:2] in _MVNO_PREFIXES:
        return _MVNO_PREFIXES[nsn[:2]]
    name = re.sub(r"[^a-z]", "", pn_carrier.name_for_number(number, "en").lower())
    return _CARRIER_NAMES.get(name) or _PREFIX_CARRIERS.get(nsn[:2], "unknown")


def _not_a_number(shown: str) -> InvalidPhone:
    """Error for a value that is not a phone number at all."""
    return InvalidPhone(shown, "không phải số điện thoại", looks_like_number=False)


def _foreign(shown: str) -> InvalidPhone:
    """Error for a number with another country code."""
    return InvalidPhone(shown, "không phải số Việt Nam (+84), không gọi được")


def _not_in_use(shown: str) -> InvalidPhone:
    """Error for a number of the right shape outside every allocated range."""
    return InvalidPhone(shown, "không thuộc dải số di động hay cố định nào đang dùng")


def _wrong_length(shown: str, nsn: str, expected: int | None) -> InvalidPhone:
    """Error for a number with too few or too many digits."""
    got = len(nsn) + 1  # counted with the trunk zero, as staff write numbers
    need = f", cần {expected + 1}" if expected is not None else ""
    return InvalidPhone(shown, f"sai độ dài ({got} chữ số kể cả số 0 đầu{need})")


# --- parse_phone_cell helpers --------------------------------------------------------------


def _is_blank(raw: object) -> bool:
    """True for None, NaN and whitespace-only cells."""
    if raw is None:
        return True
    if isinstance(raw, float):
        return math.isnan(raw)
    return isinstance(raw, str) and not raw.strip()


def _attempt(raw: str | int | float) -> PhoneNumber | None:
    """normalize_phone, or None when the value is invalid."""
    try:
        return normalize_phone(raw)
    except InvalidPhone:
        return None


def _clean_cell(text: str) -> str:
    """Unify dashes and spaces, and drop Excel's text-cell apostrophe."""
    text = _SPACES.sub(" ", _DASHES.sub("-", text)).strip().lstrip("'")
    excel = _EXCEL_FLOAT.fullmatch(text)
    return excel.group(1) if excel else text


def _parse_piece(piece: str) -> tuple[list[tuple[str, PhoneNumber | None]], list[str]]:
    """Numbers and notes of one piece between hard separators."""
    items: list[tuple[str, PhoneNumber | None]] = []
    leftovers: list[str] = []
    position = 0
    for match in _RUN.finditer(piece):
        if not _is_number_run(piece, match):
            continue
        leftovers.append(piece[position:match.start()])
        items += _split_run(match.group())
        position = match.end()
    leftovers.append(piece[position:])
    return items, [note for note in map(_clean_note, leftovers) if note]


def _is_number_run(piece: str, match: re.Match[str]) -> bool:
    """False for short digit runs that belong to words ('17h', 'tổ 5')."""
    digit_count = sum(len(g) for g in _GROUP.findall(match.group()))
    if digit_count >= 7:
        return True
    before, after = piece[:match.start()], piece[match.end():]
    glued = bool(_LETTER.match(after)) or bool(before and _LETTER.match(before[-1]))
    return not glued and not (digit_count <= 3 and _WORD_BEFORE.search(before))


def _split_run(run: str) -> list[tuple[str, PhoneNumber | None]]:
    """One digit run -> numbers: whole, else the best split, else invalid piece(s)."""
    whole = _attempt(run)
    groups = list(_GROUP.finditer(run))
    if whole is not None or len(groups) == 1:
        return [(_tidy(run), whole)]
    best = _best_partition(run, groups)
    if best is not None:
        return best
    return [(_tidy(part), None) for part in re.split(r"/+", run) if _GROUP.search(part)]


def _best_partition(
    run: str, groups: list[re.Match[str]]
) -> list[tuple[str, PhoneNumber | None]] | None:
    """Split digit groups into whole numbers, most valid numbers first, then fewest pieces.

    A piece that is not valid must still look like a whole number (>= 8 digits): this keeps
    a wrong-length number from being silently cut into a valid number plus leftovers.
    """
    # best[i]: (valid count, -pieces, pieces) for groups[:i]
    best: list[tuple[int, int, list[tuple[str, PhoneNumber | None]]] | None] = [None] * (
        len(groups) + 1
    )
    best[0] = (0, 0, [])
    for end in range(1, len(groups) + 1):
        for start in range(end):
            best[end] = _better(best[end], _extend(best[start], run, groups[start:end]))
    result = best[len(groups)]
    return result[2] if result is not None and result[0] > 0 else None


def _extend(
    prefix: tuple[int, int, list[tuple[str, PhoneNumber | None]]] | None,
    run: str,
    chunk: list[re.Match[str]],
) -> tuple[int, int, list[tuple[str, PhoneNumber | None]]] | None:
    """`prefix` followed by one piece made of `chunk`, or None if the piece is not allowed."""
    digit_count = sum(len(g.group()) for g in chunk)
    if prefix is None or digit_count > 14:
        return None
    start = chunk[0].start()
    if start > 0 and run[start - 1] == "+":
        start -= 1
    text = run[start:chunk[-1].end()]
    phone = _attempt(text)
    if phone is None and digit_count < _MIN_NUMBER_DIGITS:
        return None
    valid, neg_pieces, pieces = prefix
    return valid + (phone is not None), neg_pieces - 1, pieces + [(_tidy(text), phone)]


def _better(
    a: tuple[int, int, list[tuple[str, PhoneNumber | None]]] | None,
    b: tuple[int, int, list[tuple[str, PhoneNumber | None]]] | None,
) -> tuple[int, int, list[tuple[str, PhoneNumber | None]]] | None:
    """The better of two partial partitions (more valid numbers, then fewer pieces)."""
    if a is None:
        return b
    if b is None:
        return a
    return b if b[:2] > a[:2] else a


def _tidy(text: str) -> str:
    """A piece as shown in `invalid`: trimmed of separators, brackets balanced."""
    text = text.strip(" .-/")
    if text.count("(") != text.count(")"):
        text = text.strip("()").strip(" .-/")
    return text


def _clean_note(text: str) -> str:
    """Free text around the numbers, minus labels like 'ĐT:'; '' if no words remain."""
    text = " ".join(_LABELS.sub(" ", text).split()).strip(_NOTE_TRIM)
    if text.count("(") != text.count(")"):
        text = text.replace("(", "").replace(")", "").strip()
    return text if _LETTER.search(text) else ""


def _assemble(items: list[tuple[str, PhoneNumber | None]], notes: list[str]) -> ParsedCell:
    """Deduplicate numbers (order kept) and build the ParsedCell."""
    valid = list(dict.fromkeys(phone for _, phone in items if phone is not None))
    invalid = tuple(dict.fromkeys(text for text, phone in items if phone is None and text))
    note = "; ".join(dict.fromkeys(notes))
    primary = valid[0] if valid else None
    return ParsedCell(primary, tuple(valid[1:]), invalid, note)
