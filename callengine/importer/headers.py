"""Finding the header row of a hand-made list and matching its headers to fields.

Headers differ from office to office ("Họ và tên", "HỌ TÊN", "Số ĐT liên hệ", "SĐT"): they are
compared accent-, case- and spacing-insensitively against the synonyms below. A header that
starts with a synonym followed by more words also matches ("Ngày về địa phương"); the longest
synonym wins. Unknown headers are kept, and their values go into the person's notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from callengine.importer.text import cell_text, word_key

HEADER_SEARCH_ROWS = 20  # the header must be within the first 20 rows

# Fields a column can hold.
NAME = "full_name"
NAME_FIRST_PART = "name_first_part"  # "Họ và tên đệm" when "Tên" is a column of its own
PHONE = "phone"
NATIONAL_ID = "national_id"
CATEGORY = "category"
ARRIVAL_DATE = "arrival_date"
CONTACT_DATE = "contact_date"
BIRTH_YEAR = "birth_year"
BIRTH_YEAR_MALE = "birth_year_male"  # "Năm sinh" split into "Nam" | "Nữ" sub-columns
BIRTH_YEAR_FEMALE = "birth_year_female"
AGE = "age"
SEX = "sex"
VILLAGE = "village"
COMMUNE = "commune"
DISTRICT = "district"
ADDRESS = "address"
ORIGIN = "origin"
NOTE = "note"  # "Ghi chú": kept as is in the notes
IGNORED = "ignored"  # row numbers, and the columns our own error workbook adds

# (synonym, field, exact): `exact` synonyms must be the whole header (short, ambiguous words).
SYNONYMS: tuple[tuple[str, str, bool], ...] = (
    *((s, NAME, False) for s in ("họ và tên", "họ tên", "tên người", "tên đối tượng")),
    ("tên", NAME, True),
    *((s, NAME_FIRST_PART, True) for s in ("họ và tên đệm", "họ đệm", "họ và đệm", "họ")),
    *((s, PHONE, False) for s in (
        "số điện thoại", "sđt", "điện thoại", "đt liên hệ", "đt liên lạc", "số đt",
        "điện thoại liên hệ", "số di động", "di động")),
    *((s, PHONE, True) for s in ("đt", "tel", "phone", "mobile")),
    *((s, NATIONAL_ID, False) for s in (
        "cccd", "cmnd", "số cccd", "số cmnd", "số cccd cmnd", "số cmnd cccd", "cccd cmnd",
        "cmnd cccd", "số định danh", "mã định danh", "căn cước", "căn cước công dân",
        "chứng minh nhân dân", "chứng minh thư", "số hộ chiếu", "hộ chiếu")),
    *((s, CATEGORY, False) for s in (
        "phân loại", "đối tượng", "loại đối tượng", "phân loại đối tượng", "nhóm đối tượng")),
    *((s, ARRIVAL_DATE, False) for s in (
        "ngày về", "ngày đến", "ngày trở về", "ngày về địa phương", "ngày nhập cảnh")),
    *((s, CONTACT_DATE, False) for s in (
        "ngày tiếp xúc", "ngày tiếp xúc cuối", "ngày tiếp xúc gần nhất",
        "ngày tiếp xúc cuối cùng")),
    *((s, BIRTH_YEAR, False) for s in (
        "năm sinh", "ngày sinh", "ngày tháng năm sinh", "ngày tháng năm sinh")),
    ("ns", BIRTH_YEAR, True),
    ("nam", BIRTH_YEAR_MALE, True),
    ("nữ", BIRTH_YEAR_FEMALE, True),
    ("tuổi", AGE, True),
    *((s, SEX, False) for s in ("giới tính", "giới")),
    *((s, SEX, True) for s in ("gt", "nam nữ", "phái")),
    *((s, VILLAGE, False) for s in (
        "thôn", "xóm", "thôn xóm", "thôn bản", "tổ dân phố", "khu phố", "tdp", "thôn tổ")),
    *((s, COMMUNE, False) for s in (
        "xã", "phường", "thị trấn", "xã phường", "xã phường thị trấn", "xã phường tt",
        "phường xã")),
    *((s, DISTRICT, False) for s in (
        "huyện", "quận huyện", "huyện thị xã", "huyện thị", "huyện tx tp", "thị xã thành phố")),
    *((s, ADDRESS, False) for s in (
        "địa chỉ", "nơi ở", "nơi cư trú", "chỗ ở", "địa chỉ cư trú", "địa chỉ nơi ở",
        "nơi ở hiện nay", "chỗ ở hiện nay", "nơi lưu trú")),
    *((s, ORIGIN, False) for s in (
        "về từ", "nơi đi", "đi từ", "đến từ", "nơi về", "vùng dịch về", "về từ vùng dịch",
        "tỉnh thành phố đi về")),
    ("ghi chú", NOTE, False),
    *((s, IGNORED, True) for s in (
        "stt", "tt", "số tt", "số thứ tự", "lý do", "dòng gốc", "tệp gốc", "trang gốc")),
)

# Several columns may match one field; the most specific synonym wins (the last contact over
# any contact). Other columns of a single-valued field are kept as notes.
_SYNONYMS: dict[str, tuple[str, bool]] = {word_key(s): (f, exact) for s, f, exact in SYNONYMS}
_BY_LENGTH = sorted(_SYNONYMS, key=len, reverse=True)
# Abbreviations written with dots or spaces ('S.Đ.T', 'C M N D') compared without them.
_COMPACT = {s.replace(" ", ""): f for s, (f, _) in _SYNONYMS.items() if " " not in s}
MULTI_VALUED = frozenset({PHONE, NOTE, IGNORED})


@dataclass(frozen=True)
class HeaderMatch:
    """The header of one sheet: where it is and which column holds what."""

    row: int  # 0-based index of the last header row
    fields: dict[str, int]  # field -> column (single-valued fields)
    phone_columns: tuple[int, ...]  # every phone column, in order
    note_columns: tuple[int, ...]  # "Ghi chú" columns
    extra_columns: dict[int, str] = field(default_factory=dict)  # unknown header -> notes
    labels: dict[int, str] = field(default_factory=dict)  # column -> header as written

    def label(self, column: int) -> str:
        """The header of a column as the file shows it."""
        return self.labels.get(column, f"cột {column + 1}")


class HeaderNotFound(ValueError):
    """No row within the first 20 has both a name and a phone header; the message says why."""

    def __init__(self, message: str, *, has_phone: bool = False) -> None:
        super().__init__(message)
        self.has_phone = has_phone  # a phone header was found, without a name header


class DuplicateHeaders(HeaderNotFound):
    """Two columns claim one thing (two 'Số điện thoại', two class columns): which one holds
    the value is a guess, so the sheet is reported instead of being read."""


def match_header(text: str) -> str | None:
    """The field a header means, or None for an unknown header."""
    key = word_key(text)
    if not key:
        return None
    hit = _SYNONYMS.get(key)
    if hit is not None:
        return hit[0]
    for synonym in _BY_LENGTH:
        field_name, exact = _SYNONYMS[synonym]
        if not exact and key.startswith(synonym + " "):
            return field_name
    words = key.split()
    if len(words) > 1 and all(len(w) == 1 for w in words):
        return _COMPACT.get("".join(words))
    return None


def find_header(rows: list[list[object]]) -> HeaderMatch:
    """The header within the first 20 rows (title blocks, merged and blank rows above it)."""
    best: tuple[int, int, dict[int, str]] | None = None  # (score, row, column -> field)
    phone_only: int | None = None
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        matched = {col: f for col, cell in enumerate(row)
                   if (f := match_header(cell_text(cell))) is not None}
        found = set(matched.values())
        if PHONE in found and NAME in found:
            score = len(found)
            if best is None or score > best[0]:
                best = (score, index, matched)
        elif PHONE in found and phone_only is None:
            phone_only = index
    if best is None:
        if phone_only is not None:
            raise HeaderNotFound(
                f"dòng tiêu đề (dòng {phone_only + 1}) có cột số điện thoại nhưng không có cột "
                "họ tên; trang này không được nhập", has_phone=True
            )
        raise HeaderNotFound(
            f"không tìm thấy dòng tiêu đề có cột họ tên và cột số điện thoại trong "
            f"{HEADER_SEARCH_ROWS} dòng đầu; trang này không được nhập"
        )
    _, index, matched = best
    labels = {col: cell_text(cell) for col, cell in enumerate(rows[index]) if cell_text(cell)}
    _refuse_duplicates(index, matched, labels)
    sub = _sub_header(rows, index, matched)
    if sub:
        for col, (label, field_name) in sub.items():
            matched[col] = field_name
            labels[col] = label  # 'Nam' under 'Năm sinh': the sub-header says what it holds
        index += 1
    return _build(index, matched, labels)


def _refuse_duplicates(index: int, matched: dict[int, str], labels: dict[int, str]) -> None:
    """DuplicateHeaders for two columns with the same header, or two class columns."""
    seen: dict[tuple[str, str], int] = {}
    for col in sorted(matched):
        field_name = matched[col]
        if field_name in (NOTE, IGNORED):
            continue
        key = (field_name, "" if field_name == CATEGORY else word_key(labels.get(col, "")))
        if key in seen:
            first = seen[key]
            raise DuplicateHeaders(
                f"dòng tiêu đề (dòng {index + 1}) có hai cột '{labels.get(first, '')}' (cột "
                f"{column_letter(first)}) và '{labels.get(col, '')}' (cột {column_letter(col)}) "
                "cùng một nội dung; hãy giữ một cột, hoặc đổi tên cột kia cho rõ (vd. 'SĐT "
                "người thân'); trang này không được nhập")
        seen[key] = col


def column_letter(col: int) -> str:
    """Excel's name of a 0-based column: 0 -> A, 27 -> AB."""
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _sub_header(
    rows: list[list[object]], index: int, matched: dict[int, str]
) -> dict[int, tuple[str, str]]:
    """Recognised headers in the row below a header ('Nam' | 'Nữ' under 'Năm sinh')."""
    if index + 1 >= len(rows):
        return {}
    below = rows[index + 1]
    phone_cols = [c for c, f in matched.items() if f == PHONE]
    if any(c < len(below) and any(ch.isdigit() for ch in cell_text(below[c]))
           for c in phone_cols):
        return {}  # the row below holds data: it has a phone number
    name_cols = [c for c, f in matched.items() if f == NAME]
    if any(c < len(below) and cell_text(below[c]) and match_header(cell_text(below[c])) is None
           for c in name_cols):
        return {}  # the row below holds data: it has a name
    found: dict[int, tuple[str, str]] = {}
    for col, cell in enumerate(below):
        label = cell_text(cell)
        field_name = match_header(label)
        if field_name is not None and field_name != IGNORED:
            found[col] = (label, field_name)
    return found


def _build(index: int, matched: dict[int, str], labels: dict[int, str]) -> HeaderMatch:
    """Assign columns to fields: first phone column first, the most specific synonym wins."""
    fields: dict[str, int] = {}
    specificity: dict[str, int] = {}
    phones: list[int] = []
    notes: list[int] = []
    extra = {col: label for col, label in labels.items() if col not in matched}
    for col in sorted(matched):
        field_name = matched[col]
        if field_name == PHONE:
            phones.append(col)
        elif field_name == NOTE:
            notes.append(col)
        elif field_name != IGNORED:
            size = len(word_key(labels.get(col, "")))
            if field_name not in fields:
                fields[field_name], specificity[field_name] = col, size
            elif _more_specific(field_name, labels.get(col, ""), specificity[field_name]):
                extra[fields[field_name]] = labels.get(fields[field_name], "")
                fields[field_name], specificity[field_name] = col, size
            else:
                extra[col] = labels.get(col, "")
    if NAME_FIRST_PART in fields and NAME not in fields:
        fields[NAME] = fields.pop(NAME_FIRST_PART)  # a lone "Họ" column holds the whole name
    return HeaderMatch(index, fields, tuple(phones), tuple(notes), dict(sorted(extra.items())),
                       labels)


def _more_specific(field_name: str, label: str, current: int) -> bool:
    """True if a second column of a date field names the last contact more precisely."""
    key = word_key(label)
    return field_name == CONTACT_DATE and ("cuoi" in key or "gan nhat" in key) and \
        len(key) > current
