"""Fuzzing the cell parsers (phones, dates, classes) and the cell sanitising, bounded to a few
seconds: whatever a cell holds, the parser answers with a value or its own error, never
another exception, and the cached phone verdicts agree with phonenumbers asked directly."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callengine import phones
from callengine.cells import FORMULA_PREFIXES, UNSTORABLE, csv_value, storable
from callengine.importer.categories import CATEGORIES, infer_category, parse_category
from callengine.importer.dates import (
    MAX_DAYS_AFTER_LIST,
    MAX_DAYS_BEFORE_LIST,
    InvalidDate,
    parse_date,
)

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LIST_DATE = date(2021, 8, 15)
# Text that looks like what staff type: digits, separators, words, and anything else.
PHONE_TEXT = st.one_of(
    st.text(alphabet="0123456789 +-./()'\n,;và", max_size=40),
    st.from_regex(r"\+?(84|0)?[1-9]\d{7,10}", fullmatch=True),
    st.text(max_size=40),
)
CELL = st.one_of(PHONE_TEXT, st.integers(-10**15, 10**15), st.floats(allow_nan=True),
                 st.none())


@FUZZ
@given(CELL)
def test_a_phone_cell_parses_into_valid_numbers_or_invalid_pieces(cell):
    parsed = phones.parse_phone_cell(cell)
    for number in (parsed.primary, *parsed.alternates):
        if number is not None:
            assert number.e164.startswith("+84") and number.e164[1:].isdigit()
            assert number.kind in ("mobile", "fixed")
    assert parsed.primary is not None or not parsed.alternates


@FUZZ
@given(st.from_regex(r"[1-9]\d{6,10}", fullmatch=True))
def test_the_cached_phone_verdict_is_what_phonenumbers_says(nsn):
    def verdict(to_phone):
        try:
            return to_phone(nsn, nsn)
        except phones.InvalidPhone as exc:
            return exc.reason

    assert verdict(phones._to_phone) == verdict(phones._to_phone_uncached)


@FUZZ
@given(st.one_of(st.text(max_size=30), st.from_regex(r"\d{1,2}[/.-]\d{1,2}([/.-]\d{2,4})?",
                                                     fullmatch=True),
                 st.integers(-10**6, 10**6), st.floats(allow_nan=True), st.dates()))
def test_a_date_cell_is_a_date_near_the_list_or_a_clear_error(cell):
    try:
        found = parse_date(cell, LIST_DATE)
    except InvalidDate as exc:
        assert str(exc)
        return
    assert LIST_DATE - timedelta(days=MAX_DAYS_BEFORE_LIST) <= found
    assert found <= LIST_DATE + timedelta(days=MAX_DAYS_AFTER_LIST)


@FUZZ
@given(st.text(max_size=60))
def test_a_class_cell_or_title_gives_a_known_class_or_none(text):
    assert parse_category(text) in (*CATEGORIES, None)
    assert infer_category([text]) in (*CATEGORIES, None)


@FUZZ
@given(st.text(max_size=40))
def test_exported_text_can_be_stored_and_never_runs(text):
    assert not UNSTORABLE.search(storable(text))
    value = csv_value(text)
    assert not str(value).startswith(FORMULA_PREFIXES) or str(value).startswith('="+')
