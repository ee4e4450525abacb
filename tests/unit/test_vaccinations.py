"""Doses (the rules, on both databases), coverage by commune and age band, and a person's
certificate made from the stored doses."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from callengine.casework.errors import NotAllowedNow, NotFound
from callengine.certificates import keyfiles, verify
from callengine.errors import ConfigError
from callengine.settings import Settings, load_settings
from callengine.vaccination.certificate import person_certificate
from callengine.vaccination.coverage import coverage_by_commune
from callengine.vaccination.doses import person_doses, record_dose
from callengine.vaccination.rules import DoseEntry, DoseRefused
from tests.unit.casework_helpers import add_person

NOW = datetime(2021, 11, 30, 3, 0, tzinfo=timezone.utc)  # 10:00 local, 30/11/2021
SETTINGS = Settings()


def _person(db, name="Trần Thị Diệu", phone="+84912345678", birth_year=1985,
            commune="Nga Liên", district="Nga Sơn"):
    with db.session() as s:
        person = add_person(s, phone, name, commune=commune, district=district)
        person.birth_year = birth_year
        return person.id


def _dose(db, person_id, product="AZ", number=1, day=date(2021, 8, 1), settings=SETTINGS):
    return record_dose(db, person_id, DoseEntry(product, number, day, "A1234", "TYT Nga Liên"),
                       actor="lan", now=NOW, settings=settings)


def test_doses_are_stored_with_their_dcc_codes_in_order(db):
    pid = _person(db)
    _dose(db, pid, "AZ", 1, date(2021, 8, 1))
    _dose(db, pid, "Pfizer", 2, date(2021, 9, 1))
    doses = person_doses(db, pid)
    assert [(d.dose_number, d.product, d.manufacturer) for d in doses] == [
        (1, "EU/1/21/1529", "ORG-100001699"), (2, "EU/1/20/1528", "ORG-100030215")]
    assert doses[0].created_by == "lan" and doses[0].lot == "A1234"


@pytest.mark.parametrize("typed", ["Vero Cell", "vero cell", "BBIBP-CorV", "Sinopharm"])
def test_products_are_found_by_the_names_staff_type(db, typed):
    pid = _person(db)
    assert _dose(db, pid, typed).product == "BBIBP-CorV"


def test_a_dose_needs_the_previous_one(db):
    pid = _person(db)
    with pytest.raises(DoseRefused, match="Chưa có mũi 1") as refused:
        _dose(db, pid, "AZ", 2)
    assert refused.value.field == "dose_number"
    assert person_doses(db, pid) == []


def test_a_dose_number_is_given_once(db):
    pid = _person(db)
    _dose(db, pid)
    with pytest.raises(DoseRefused, match="đã có mũi 1"):
        _dose(db, pid, day=date(2021, 9, 1))


def test_the_minimum_interval_is_the_previous_products(db):
    pid = _person(db)
    _dose(db, pid, "AZ", 1, date(2021, 8, 1))
    with pytest.raises(DoseRefused, match="cách mũi 1 20 ngày; khoảng cách tối thiểu là 28"):
        _dose(db, pid, "AZ", 2, date(2021, 8, 21))
    with pytest.raises(DoseRefused, match="phải tiêm sau mũi 1"):
        _dose(db, pid, "AZ", 2, date(2021, 7, 1))
    assert _dose(db, pid, "AZ", 2, date(2021, 8, 29)).dose_number == 2


def test_the_interval_comes_from_the_settings_when_set(db):
    pid = _person(db)
    settings = load_settings({"CALLENGINE_VACCINE_MIN_INTERVALS": "AZ=56, Pfizer=21"})
    _dose(db, pid, "AZ", 1, date(2021, 8, 1), settings=settings)
    with pytest.raises(DoseRefused, match="tối thiểu là 56"):
        _dose(db, pid, "AZ", 2, date(2021, 9, 1), settings=settings)


def test_bad_interval_settings_are_refused_with_the_setting_named():
    with pytest.raises(ConfigError, match="CALLENGINE_VACCINE_MIN_INTERVALS"):
        load_settings({"CALLENGINE_VACCINE_MIN_INTERVALS": "AZ=soon"})


def test_no_dose_in_the_future_and_no_unknown_product(db):
    pid = _person(db)
    with pytest.raises(DoseRefused, match="ở tương lai") as future:
        _dose(db, pid, day=date(2021, 12, 1))
    assert future.value.field == "given_on"
    with pytest.raises(DoseRefused, match="không có trong danh mục") as unknown:
        _dose(db, pid, "Covaxin")
    assert unknown.value.field == "product"
    with pytest.raises(NotFound):
        _dose(db, 999999)


def test_coverage_by_commune_and_age_band(db):
    young = _person(db, "Lê Văn A", "+84912000001", 2010)
    adult = _person(db, "Lê Văn B", "+84912000002", 1990)
    _person(db, "Lê Văn C", "+84912000003", 1950)
    other = _person(db, "Hà Thị D", "+84912000004", None, commune="Nga Thủy")
    _dose(db, adult, "AZ", 1, date(2021, 8, 1))
    _dose(db, adult, "AZ", 2, date(2021, 9, 1))
    _dose(db, young, "Pfizer", 1, date(2021, 10, 1))
    _dose(db, other, "Janssen", 1, date(2021, 11, 1))  # a full course in one dose
    rows = {(r.district, r.commune): r for r in coverage_by_commune(db, date(2021, 11, 30))}
    lien = rows[("Nga Sơn", "Nga Liên")]
    assert (lien.total.people, lien.total.one_dose, lien.total.full_course) == (3, 2, 1)
    assert (lien.bands["<18"].people, lien.bands["<18"].one_dose) == (1, 1)
    assert lien.bands["18-49"].full_course == 1
    assert (lien.bands["65+"].people, lien.bands["65+"].one_dose) == (1, 0)
    thuy = rows[("Nga Sơn", "Nga Thủy")]
    assert (thuy.total.full_course, thuy.bands["unknown"].people) == (1, 1)
    # on an earlier day the later doses do not count yet
    before = {(r.district, r.commune): r for r in coverage_by_commune(db, date(2021, 8, 15))}
    assert before[("Nga Sơn", "Nga Liên")].total.one_dose == 1
    assert before[("Nga Sơn", "Nga Liên")].total.full_course == 0
    assert lien.to_dict()["full_course_share"] == pytest.approx(1 / 3)


def test_a_persons_certificate_holds_the_latest_dose_and_verifies(db, tmp_path):
    signer = keyfiles.generate(tmp_path / "k.pem", tmp_path / "c.pem", NOW)
    pid = _person(db)
    first = _dose(db, pid, "AZ", 1, date(2021, 8, 1))
    _dose(db, pid, "Pfizer", 2, date(2021, 9, 1))
    certificate = person_certificate(db, pid, signer, NOW, SETTINGS)
    result = verify.verify(certificate.hc1, keyfiles.trusted_keys(tmp_path / "c.pem"), NOW)
    assert result.valid
    (dose,) = result.hcert["v"]
    assert (dose["dn"], dose["mp"], dose["dt"]) == (2, "EU/1/20/1528", "2021-09-01")
    assert result.hcert["nam"]["gnt"] == "THI<DIEU" and result.hcert["dob"] == "1985"
    again = person_certificate(db, pid, signer, NOW + timedelta(days=1), SETTINGS)
    assert again.hcert["v"][0]["ci"] == dose["ci"]  # one identifier per dose, kept
    assert dose["ci"].startswith("URN:UVCI:01:VN:")
    assert first.id != certificate.dose_id


def test_no_certificate_without_a_dose(db, tmp_path):
    signer = keyfiles.generate(tmp_path / "k.pem", tmp_path / "c.pem", NOW)
    pid = _person(db)
    with pytest.raises(NotAllowedNow, match="chưa có mũi tiêm"):
        person_certificate(db, pid, signer, NOW, replace(SETTINGS))
