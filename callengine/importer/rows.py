"""One row of a list -> a typed person record, a rejection with reasons, or nothing (skipped).

Pure functions: no database, no I/O. Reasons are in Vietnamese, name the column as the file
writes it and quote the value, so that staff can find and fix the cell.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from callengine.importer import headers as h
from callengine.importer.categories import F0, RETURNEE, parse_category
from callengine.importer.dates import InvalidDate, parse_date, parse_year
from callengine.importer.headers import HeaderMatch
from callengine.importer.text import cell_text, fold, has_letter, plain, word_key
from callengine.phones import InvalidPhone, PhoneNumber, normalize_phone, parse_phone_cell

# Column sizes of callengine.store.models.Person.
MAX_LENGTHS = {"full_name": 200, "village": 100, "commune": 100, "district": 100,
               "address": 300, "origin": 200, "sex": 10}
MAX_ALT_PHONES_CHARS = 200
_MIN_ATTEMPT_DIGITS = 7  # fewer digits without a name: a count or a row number, not a phone

# Rows that are neither people nor data: totals, signatures and group headings.
_FOOTER = re.compile(
    r"^(?:(?:tong|cong)(?: cong| so|\s*[:=]|\s*\d|$)|nguoi lap|nguoi ky|nguoi bao cao|"
    r"\(?ky(?: ten| ghi ro|,| va)|xac nhan|truong tram|truong khoa|truong phong|giam doc|"
    r"pho giam doc|thu truong|lanh dao|ghi chu|luu y|danh sach|t/?m[. ]|k/?t[. ]|"
    r".*, ngay \d+ thang)"
)
_HEADING = re.compile(
    r"^(?:[ivx]+[.)/]|[a-h][.)] |(?:xa|phuong|thi tran|huyen|thi xa|thanh pho|tp\.?|tx\.?|"
    r"thon|xom|khu pho|to dan pho|khu vuc)\s)"
)
_NATIONAL_ID = re.compile(r"\d{9}|\d{12}")
_PASSPORT = re.compile(r"[A-Z]\d{7,8}")
_MARKS = {"x", "v", "co", "1", "✓", "✔", "√"}
_SEXES = {"nam": "Nam", "male": "Nam", "m": "Nam", "trai": "Nam",
          "nu": "Nữ", "female": "Nữ", "f": "Nữ", "gai": "Nữ"}


def compact_national_id(text: str) -> str | None:
    """A typed CCCD/CMND (9 or 12 digits) or passport number without spaces, dots or dashes;
    None if it is none of these."""
    compact = re.sub(r"[\s.\-]", "", text).upper().lstrip("'")
    return compact if _NATIONAL_ID.fullmatch(compact) or _PASSPORT.fullmatch(compact) else None


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem of a rejected row."""

    column: str
    value: str
    reason: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """A row that cannot be imported, with every problem found."""

    errors: tuple[RowError, ...]


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """One accepted row: who, how to reach them, and the appearance (class and date)."""

    row: int  # as Excel shows it (1-based)
    full_name: str
    name_key: str
    phone: PhoneNumber
    alt_phones: tuple[PhoneNumber, ...]
    national_id: str | None
    category: str
    event_date: date
    birth_year: int | None = None
    sex: str | None = None
    village: str | None = None
    commune: str | None = None
    district: str | None = None
    address: str | None = None
    origin: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SheetContext:
    """What a row's validation needs from its sheet and the command line."""

    header: HeaderMatch
    list_date: date
    default_category: str | None = None  # --category
    district: str | None = None  # from the sheet name, when there is no district column


def validate_row(cells: list[object], row_number: int,
                 ctx: SheetContext) -> PersonRecord | Rejected | None:
    """The record of a data row, its rejection, or None for a blank/total/signature row."""
    header = ctx.header
    fields = header.fields
    name = _name(cells, fields)
    phones = _phones(cells, header)
    named = has_letter(name)
    if not named and not phones.attempted:
        return None
    if phones.primary is None and _not_a_person(cells, header, name):
        return None
    errors: list[RowError] = []
    if phones.primary is None:
        errors.append(phones.error())
    category = _category(cells, ctx, errors)
    dates = _dates(cells, ctx, errors)
    if errors:
        return Rejected(tuple(errors))
    assert phones.primary is not None and category is not None
    notes = list(phones.notes)
    full_name = name[:MAX_LENGTHS["full_name"]] if named else ""
    person = _Details(cells, ctx, notes)
    return PersonRecord(
        row=row_number,
        full_name=full_name,
        name_key=fold(full_name),
        phone=phones.primary,
        alt_phones=tuple(phones.alternates),
        national_id=person.national_id(),
        category=category,
        event_date=_event_date(category, dates, ctx.list_date),
        birth_year=person.birth_year(),
        sex=person.sex,
        village=person.text(h.VILLAGE),
        commune=person.text(h.COMMUNE),
        district=person.text(h.DISTRICT) or ctx.district,
        address=person.text(h.ADDRESS),
        origin=person.text(h.ORIGIN),
        notes=tuple(dict.fromkeys(person.extra_notes())),
    )


def _cell(cells: list[object], column: int | None) -> object:
    """The raw value at `column`, None beyond the row's end."""
    if column is None or column >= len(cells):
        return None
    return cells[column]


def _name(cells: list[object], fields: dict[str, int]) -> str:
    """The full name, joining 'Họ và tên đệm' and 'Tên' columns when the form splits them."""
    parts = [cell_text(_cell(cells, fields.get(f))) for f in (h.NAME_FIRST_PART, h.NAME)]
    return " ".join(p for p in parts if p)


def _not_a_person(cells: list[object], header: HeaderMatch, name: str) -> bool:
    """Totals, signatures, dates of signing and group headings ('Xã Nga Thủy', 'II.')."""
    ignored = [c for c, f in _ignored_columns(header)]
    texts = [fold(name)] + [fold(cell_text(_cell(cells, c))) for c in ignored]
    if any(_FOOTER.match(t) for t in texts if t):
        return True
    if not _HEADING.match(fold(name) + " "):
        return False
    used = set(header.fields) - {h.NAME, h.NAME_FIRST_PART}
    others = [header.fields[f] for f in used] + list(header.phone_columns)
    return not any(cell_text(_cell(cells, c)) for c in others)


def _ignored_columns(header: HeaderMatch) -> list[tuple[int, str]]:
    """Columns such as 'STT' (kept out of the notes)."""
    return [(c, label) for c, label in header.labels.items()
            if h.match_header(label) == h.IGNORED]


# --- phones ---------------------------------------------------------------------------------


class _Phones:
    """Numbers found in a row's phone column(s)."""

    def __init__(self) -> None:
        self.primary: PhoneNumber | None = None
        self.alternates: list[PhoneNumber] = []
        self.notes: list[str] = []
        self.attempted = False  # something that looks like a phone number was written
        self._first_invalid: tuple[str, str, str] | None = None  # label, value, piece
        self._first_text: tuple[str, str] | None = None  # label, value
        self._first_label: str | None = None

    def add(self, label: str, raw: object) -> None:
        """Parse one cell and add what it holds."""
        self._first_label = self._first_label or label
        value = _phone_input(raw)
        shown = cell_text(raw)
        if not shown:
            return
        self._first_text = self._first_text or (label, shown)
        parsed = parse_phone_cell(value)
        for number in (parsed.primary, *parsed.alternates):
            if number is None:
                continue
            if self.primary is None:
                self.primary = number
            elif number != self.primary and number not in self.alternates:
                self.alternates.append(number)
        if parsed.primary is not None:
            self.attempted = True
        for piece in parsed.invalid:
            if sum(ch.isdigit() for ch in piece) >= _MIN_ATTEMPT_DIGITS:
                self.attempted = True
            self._first_invalid = self._first_invalid or (label, shown, piece)
            self.notes.append(f"{label}: số không dùng được '{piece}' ({_phone_reason(piece)})")
        if parsed.note:
            self.notes.append(f"{label}: {parsed.note}")

    def error(self) -> RowError:
        """Why the row has no number to call."""
        if self._first_invalid is not None:
            label, shown, piece = self._first_invalid
            return RowError(label, shown, f"Cột '{label}': {_phone_message(piece)}")
        if self._first_text is not None:
            label, shown = self._first_text
            return RowError(label, shown, f"Cột '{label}': '{shown}' không có số điện thoại nào")
        label = self._first_label or "Số điện thoại"
        return RowError(label, "", f"Cột '{label}' để trống: không có số điện thoại để gọi")


def _phones(cells: list[object], header: HeaderMatch) -> _Phones:
    phones = _Phones()
    for column in header.phone_columns:
        phones.add(header.label(column), _cell(cells, column))
    return phones


def _phone_input(raw: object) -> object:
    """What phones.parse_phone_cell accepts: Python int/float/str (never numpy values)."""
    value = plain(raw)
    if value is None or isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)  # line breaks kept: they separate numbers
    return cell_text(value)


def _phone_message(piece: str) -> str:
    """normalize_phone's Vietnamese message for an invalid piece."""
    try:
        normalize_phone(piece)
    except InvalidPhone as exc:
        return str(exc)
    return f"Số điện thoại '{piece}' không dùng được"


def _phone_reason(piece: str) -> str:
    try:
        normalize_phone(piece)
    except InvalidPhone as exc:
        return exc.reason
    return "không dùng được"


# --- class and dates ------------------------------------------------------------------------


def _category(cells: list[object], ctx: SheetContext, errors: list[RowError]) -> str | None:
    """The row's class from its column, else --category; errors name the column and value."""
    column = ctx.header.fields.get(h.CATEGORY)
    if column is None:
        return ctx.default_category
    label = ctx.header.label(column)
    text = cell_text(_cell(cells, column))
    if not text:
        if ctx.default_category is None:
            errors.append(RowError(label, "", f"Cột '{label}' để trống: thiếu phân loại (F0, F1, "
                                              "F2 hoặc người về từ vùng dịch)"))
        return ctx.default_category
    category = parse_category(text)
    if category is None:
        errors.append(RowError(label, text, f"Cột '{label}': không nhận ra phân loại '{text}' "
                                            "(dùng F0, F1, F2 hoặc người về từ vùng dịch)"))
    return category


def _dates(cells: list[object], ctx: SheetContext,
           errors: list[RowError]) -> dict[str, date]:
    """Every date column of the row that is filled in; unreadable ones become errors."""
    found: dict[str, date] = {}
    for field_name in (h.ARRIVAL_DATE, h.CONTACT_DATE):
        column = ctx.header.fields.get(field_name)
        raw = _cell(cells, column)
        if column is None or not cell_text(raw):
            continue
        try:
            found[field_name] = parse_date(raw, ctx.list_date)
        except InvalidDate as exc:
            label = ctx.header.label(column)
            errors.append(RowError(label, cell_text(raw), f"Cột '{label}': {exc}"))
    return found


def _event_date(category: str, dates: dict[str, date], list_date: date) -> date:
    """Arrival date for returnees, last contact for contacts; the list's date when missing."""
    order = (h.ARRIVAL_DATE, h.CONTACT_DATE) if category in (RETURNEE, F0) else \
        (h.CONTACT_DATE, h.ARRIVAL_DATE)
    for field_name in order:
        if field_name in dates:
            return dates[field_name]
    return list_date


# --- other details --------------------------------------------------------------------------


class _Details:
    """Identity and address details; unreadable values become notes, never rejections."""

    def __init__(self, cells: list[object], ctx: SheetContext, notes: list[str]) -> None:
        self.cells = cells
        self.ctx = ctx
        self.header = ctx.header
        self.notes = notes
        self.sex: str | None = None
        self._year_from_split: int | None = None
        self._read_sex()

    def _raw(self, field_name: str) -> object:
        return _cell(self.cells, self.header.fields.get(field_name))

    def _note(self, field_name: str, text: str) -> None:
        self.notes.append(f"{self.header.label(self.header.fields[field_name])}: {text}")

    def text(self, field_name: str) -> str | None:
        """A free-text field, cleaned and cut to its column's size."""
        text = cell_text(self._raw(field_name))
        return text[:MAX_LENGTHS[field_name]] if text else None

    def national_id(self) -> str | None:
        """CCCD (12 digits) or CMND (9 digits), leading zeros restored; a passport number."""
        raw = plain(self._raw(h.NATIONAL_ID))
        text = cell_text(raw)
        if not text:
            return None
        if isinstance(raw, float) and raw.is_integer() or isinstance(raw, int):
            digits = str(int(raw))
            if len(digits) in (8, 11):  # a numeric cell lost its leading zero
                digits = "0" + digits
            if _NATIONAL_ID.fullmatch(digits):
                return digits
        compact = compact_national_id(text)
        if compact:
            return compact
        self._note(h.NATIONAL_ID, f"'{text}' (không phải số CCCD/CMND hợp lệ)")
        return None

    def _read_sex(self) -> None:
        text = cell_text(self._raw(h.SEX))
        if text:
            self.sex = _SEXES.get(word_key(text))
            if self.sex is None:
                self._note(h.SEX, text)
        for field_name, sex in ((h.BIRTH_YEAR_MALE, "Nam"), (h.BIRTH_YEAR_FEMALE, "Nữ")):
            raw = self._raw(field_name)
            text = cell_text(raw)
            if not text:
                continue
            self.sex = self.sex or sex
            year = parse_year(raw, self.ctx.list_date)
            if year is not None:
                self._year_from_split = self._year_from_split or year
            elif text.lower() not in _MARKS and word_key(text) not in _MARKS:
                self._note(field_name, text)

    def birth_year(self) -> int | None:
        """From 'Năm sinh' (a year or a date), the Nam/Nữ split columns, or 'Tuổi'."""
        raw = self._raw(h.BIRTH_YEAR)
        text = cell_text(raw)
        if text:
            year = parse_year(raw, self.ctx.list_date)
            if year is not None:
                return year
            self._note(h.BIRTH_YEAR, text)
        if self._year_from_split is not None:
            return self._year_from_split
        age_raw = plain(self._raw(h.AGE))
        age_text = cell_text(age_raw)
        if age_text:
            if age_text.isdigit() and 0 <= int(age_text) <= 120:
                return self.ctx.list_date.year - int(age_text)
            self._note(h.AGE, age_text)
        return None

    def extra_notes(self) -> list[str]:
        """Notes: 'Ghi chú' columns as written, unknown columns as 'header: value'."""
        notes = list(self.notes)
        for column in self.header.note_columns:
            text = cell_text(_cell(self.cells, column))
            if text:
                notes.append(text)
        for column, label in self.header.extra_columns.items():
            text = cell_text(_cell(self.cells, column))
            if text:
                notes.append(f"{label}: {text}" if label else text)
        return notes


def split_notes(text: str | None) -> list[str]:
    """A person's stored notes as fragments."""
    return [part for part in (text or "").split("\n") if part]


def join_notes(fragments: list[str]) -> str | None:
    """Fragments stored one per line; None when there are none."""
    return "\n".join(fragments) if fragments else None


__all__ = ["PersonRecord", "Rejected", "RowError", "SheetContext", "validate_row"]
