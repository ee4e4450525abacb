"""Written district and commune names matched to Thanh Hóa's official codes, old and new."""

from __future__ import annotations

import pytest

from callengine.geo import (
    AMBIGUOUS,
    EMPTY,
    MATCHED,
    NEW,
    OLD,
    UNMATCHED,
    load_units,
    match_district,
    match_place,
)

HOANG_HOA, HOANG_QUY, HOANG_QUY_ACUTE = "399", "15886", "15916"  # Quỳ and Quý: both in Hoằng Hóa
TP_THANH_HOA, HAM_RONG_OLD, HAM_RONG_NEW = "380", "14755", "14758"
BIM_SON, LAM_SON_BIM_SON, NGOC_LAC, LAM_SON_NGOC_LAC = "381", "14815", "389", "15064"


def test_the_list_has_both_divisions_of_the_province():
    units = load_units()
    assert units.province == "Tỉnh Thanh Hóa"
    assert len(units.districts) == 26 and len(units.old) == 547 and len(units.new) == 166
    assert units.old[HOANG_QUY].name == "Xã Hoằng Quỳ"
    assert units.old[HOANG_QUY].district == HOANG_HOA
    # every old commune went into a new one, and codes of the two divisions overlap
    assert all(u.successor in units.new for u in units.old.values())
    assert units.old[HAM_RONG_NEW].name == "Phường Đông Thọ"
    assert units.new[HAM_RONG_NEW].name == "Phường Hàm Rồng"


@pytest.mark.parametrize("district, commune", [
    ("H. Hoằng Hóa", "X. Hoằng Quỳ"),
    ("Huyện Hoằng Hóa", "Xã Hoằng Quỳ"),
    ("huyện hoằng hoá", "xã hoằng quỳ"),  # old-style tone placement, lower case
    ("HOẰNG HÓA", "HOẰNG QUỲ"),
    ("Hoằng Hóa", "Hoằng Quỳ"),
    ("h hoằng hóa", "x hoằng quỳ"),
    ("  Huyện   Hoằng  Hóa ", "Xã  Hoằng Quỳ."),
    (None, "xã Hoằng Quỳ"),  # the only Hoằng Quỳ with this accent in the province
    ("", "Hoằng Quỳ"),
    ("Hoằng Hóa", "Hoằngquỳ"),
    ("H.Hoằng Hóa", "X.Hoằng Quỳ"),
])
def test_accents_case_prefixes_and_abbreviations_name_one_commune(district, commune):
    match = match_place(district, commune)
    assert (match.status, match.division) == (MATCHED, OLD)
    assert match.codes() == {"district_code": HOANG_HOA, "commune_code": HOANG_QUY,
                             "new_commune_code": "15880"}


def test_names_that_differ_only_in_accents_are_told_apart_when_written_with_them():
    assert match_place("Hoằng Hóa", "Hoằng Quý").commune_code == HOANG_QUY_ACUTE
    unaccented = match_place("Hoang Hoa", "Hoang Quy")  # could be either: reported
    assert unaccented.status == AMBIGUOUS
    assert set(unaccented.candidates) == {f"old:{HOANG_QUY}", f"old:{HOANG_QUY_ACUTE}"}
    assert unaccented.commune_code is None and unaccented.district_code == HOANG_HOA


@pytest.mark.parametrize("district, commune, code", [
    ("Thành phố Thanh Hóa", "Phường Hàm Rồng", HAM_RONG_OLD),
    ("TP Thanh Hóa", "P. Hàm Rồng", HAM_RONG_OLD),
    ("TP. Thanh Hoá", "phường Hàm Rồng", HAM_RONG_OLD),
    ("thành phố thanh hoa", "ham rong", HAM_RONG_OLD),
    ("Thị xã Bỉm Sơn", "Lam Sơn", LAM_SON_BIM_SON),
    ("TX Bỉm Sơn", "P. Lam Sơn", LAM_SON_BIM_SON),
    ("thị xã bim son", "phuong lam son", LAM_SON_BIM_SON),
    ("Huyện Ngọc Lặc", "Xã Lam Sơn", LAM_SON_NGOC_LAC),
    ("H. Ngoc Lac", "lam son", LAM_SON_NGOC_LAC),
    ("Hà Trung", "TT. Hà Trung", "15271"),
    ("Huyện Hà Trung", "Thị trấn Hà Trung", "15271"),
    ("Hậu Lộc", "thị trấn Hậu Lộc", "16012"),
])
def test_district_and_town_prefixes_and_abbreviations(district, commune, code):
    match = match_place(district, commune)
    assert (match.status, match.commune_code) == (MATCHED, code)


def test_a_repeated_commune_name_is_narrowed_by_its_district():
    alone = match_place(None, "Lam Sơn")
    assert alone.status == AMBIGUOUS and len(alone.candidates) == 4
    assert match_place("Bỉm Sơn", "Lam Sơn").district_code == BIM_SON
    assert match_place("Ngọc Lặc", "Lam Sơn").district_code == NGOC_LAC


@pytest.mark.parametrize("district, commune", [
    (None, "Xã Không Có Thật"),
    ("Hoằng Hóa", "Hàm Rồng"),  # a real name, but not in that district
    ("Bỉm Sơn", "Hoằng Quỳ"),
    (None, "123"),
])
def test_a_name_that_matches_nothing_gets_no_code(district, commune):
    match = match_place(district, commune)
    assert match.status == UNMATCHED
    assert match.commune_code is None and match.new_commune_code is None


def test_an_unknown_district_is_reported_and_does_not_narrow():
    match = match_place("Huyện Không Tồn Tại", "Hoằng Quỳ")
    assert match.district_status == UNMATCHED
    assert (match.status, match.commune_code, match.district_code) == (MATCHED, HOANG_QUY,
                                                                       HOANG_HOA)


def test_nothing_written_is_empty_not_a_problem():
    assert match_place(None, None).status == EMPTY
    assert match_place("", " ").status == EMPTY
    only_district = match_place("Huyện Hoằng Hóa", None)
    assert (only_district.status, only_district.district_code) == (EMPTY, HOANG_HOA)


@pytest.mark.parametrize("written, code", [
    ("Huyện Hoằng Hóa", HOANG_HOA),
    ("H. Hoằng Hóa", HOANG_HOA),
    ("TP Thanh Hóa", TP_THANH_HOA),
    ("Thành phố Thanh Hóa", TP_THANH_HOA),
    ("Huyện Đông Sơn", TP_THANH_HOA),  # merged into the city in 2024: a former name
    ("Huyện Tĩnh Gia", "407"),  # now Thị xã Nghi Sơn
    ("thị xã Nghi Sơn", "407"),
    ("TX. Bỉm Sơn", BIM_SON),
])
def test_district_names_and_former_names(written, code):
    status, unit = match_district(written)
    assert (status, unit.code) == (MATCHED, code)


def test_former_commune_names_match_the_merged_commune():
    match = match_place(None, "Xã Hoằng Long")  # merged into Phường Long Anh
    assert match.status == MATCHED
    assert load_units().old[match.commune_code].name == "Phường Long Anh"


def test_a_commune_only_in_the_new_division_gets_its_new_code_only():
    match = match_place(None, "Phường Hạc Thành")  # created on 1 July 2025
    assert (match.status, match.division) == (MATCHED, NEW)
    assert match.codes() == {"district_code": None, "commune_code": None,
                             "new_commune_code": "14797"}


def test_the_written_type_prefers_the_unit_of_that_type():
    town = match_place("Hà Trung", "Thị trấn Hà Trung")  # the old town
    commune = match_place("Hà Trung", "Xã Hà Trung")  # the new commune that took it in
    assert (town.division, town.commune_code) == (OLD, "15271")
    assert (commune.division, commune.new_commune_code) == (NEW, "15271")
    assert town.new_commune_code == commune.new_commune_code


def test_old_and_new_codes_of_one_written_name():
    # the old Đông Thọ's code is the new Hàm Rồng's, but Đông Thọ went into Hạc Thành
    match = match_place("TP Thanh Hóa", "Phường Đông Thọ")
    assert (match.commune_code, match.new_commune_code) == (HAM_RONG_NEW, "14797")
    assert load_units().old[match.commune_code].name == "Phường Đông Thọ"
    assert load_units().new[HAM_RONG_NEW].name == "Phường Hàm Rồng"
    assert load_units().new[match.new_commune_code].name == "Phường Hạc Thành"
