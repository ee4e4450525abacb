"""Cell values that spreadsheets store as they are and never run as formulas.

One place for the importer and every export (people, results, the error workbook):

- `storable`: text without the characters Excel cannot store (C0 controls, NUL included);
  a row imported before this existed still exports.
- `xlsx_cell`: an .xlsx cell; text stays a text cell, shown as written (no apostrophe), and
  text that looks like a formula is marked as text (quotePrefix) so that editing it in Excel
  does not run it either.
- `csv_value`: a CSV field; text starting with = + - @ (or tab, CR) gets a leading apostrophe
  (OWASP's advice), except our own E.164 phones, written as ="+84..." so that Excel shows
  them as text instead of a number without its plus sign.
"""

from __future__ import annotations

import re

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# What Excel cannot store in a cell (XML 1.0 forbids it): C0 controls other than tab, line
# feed and carriage return (NUL included), lone surrogates, and U+FFFE/U+FFFF.
UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_PHONES = re.compile(r"\+\d{6,15}(?:[;,] ?\+\d{6,15})*")  # E.164 numbers, as we store them


def storable(text: str) -> str:
    """The text without characters that Excel cannot store (a NUL from a broken export)."""
    return UNSTORABLE.sub("", text) if UNSTORABLE.search(text) else text


def neutralise(value: object) -> object:
    """Text that a spreadsheet will not run as a formula: storable, apostrophe before a
    formula-like start (for CSV and for overview rows of our own)."""
    if not isinstance(value, str):
        return value
    value = storable(value)
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def csv_value(value: object) -> object:
    """A CSV field: neutralised text, our E.164 phones as Excel text formulas."""
    if isinstance(value, str) and _PHONES.fullmatch(value):
        return f'="{value}"'
    return neutralise(value)


def xlsx_cell(sheet, value: object) -> object:
    """What to append to an openpyxl sheet for `value`: text as a text cell (formula-like
    text marked as text, not prefixed), anything else as it is."""
    if not isinstance(value, str):
        return value
    from openpyxl.cell import WriteOnlyCell

    value = storable(value)
    if not value.startswith(FORMULA_PREFIXES):
        return value
    cell = WriteOnlyCell(sheet, value)
    cell.data_type = "s"  # openpyxl would store '=...' as a formula
    cell.quotePrefix = True
    return cell
