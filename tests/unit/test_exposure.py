"""The exposure query on real databases, and the supervisor's confirmation enrolling contacts
like an imported list, up to the next morning's plan."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from callengine.casework.errors import InvalidRequest
from callengine.health.confirm import ContactChoice, confirm_exposure, parse_choices
from callengine.health.exposure import (
    ReviewConflict,
    change_window,
    exposure_of_person,
    exposure_of_review,
    get_review,
    open_exposure_review,
)
from callengine.planning import plan_day
from callengine.store.exposure import ExposureReview
from callengine.store.models import CallTask, ImportBatch, MonitoringPeriod, Person
from tests.unit.exposure_helpers import (
    NOW,
    SETTINGS,
    TODAY,
    TOMORROW,
    VISIT,
    WINDOW,
    add_checkin,
    add_venue,
    make_case,
    market_story,
)


@pytest.fixture
def story(db):
    with db.session() as s:
        return market_story(s)


def exposure(db, review_id):
    with db.session() as s:
        return exposure_of_review(s, get_review(s, review_id), SETTINGS)


def by_phone(result):
    return {c.candidate.phone: c for c in result.contacts}


def test_the_visitors_who_overlapped_the_case_are_proposed_once_each(db, story):
    result = exposure(db, story["review"].id)
    contacts = by_phone(result)
    assert set(contacts) == {"+84912000301", "+84912000202", "+84912000404"}
    bich = contacts["+84912000202"]
    assert bich.known.id == story["known_f2"].id and bich.category == "F2" and bich.proposable
    assert bich.candidate.venue_ids == sorted([story["market"].id, story["pharmacy"].id])
    assert [o.minutes for o in bich.candidate.overlaps] == [50, 10]  # pharmacy: 15-minute stays
    assert contacts["+84912000301"].known is None
    assert contacts["+84912000301"].candidate.overlaps[0].minutes == 30
    dung = contacts["+84912000404"]
    assert dung.category == "F0" and not dung.proposable  # a case is never proposed as F1
    counts = {v.name: (v.case_stays, v.contacts) for v in result.venues}
    assert counts == {"Chợ Nga Liên": (1, 3), "Nhà thuốc Hồng Phúc": (1, 1)}


def test_a_visitor_known_by_phone_and_name_is_recognised_without_a_person_on_the_checkin(
        db, story):
    with db.session() as s:
        add_checkin(s, s.get(type(story["market"]), story["market"].id),
                    VISIT + timedelta(minutes=40), phone="+84912000202", name="TRAN THI BICH")
    bich = by_phone(exposure(db, story["review"].id))["+84912000202"]
    assert bich.known.id == story["known_f2"].id


def test_a_case_visit_outside_the_window_counts_only_once_the_window_is_widened(db):
    with db.session() as s:
        case, review = make_case(s)
        market = add_venue(s)
        early = VISIT - timedelta(days=3)
        add_checkin(s, market, early, phone=case.phone, name=case.full_name, person=case)
        add_checkin(s, market, early + timedelta(minutes=5), phone="+84912000301", name="Em")
    result = exposure(db, review.id)
    assert result.contacts == [] and result.venues == []
    with db.session() as s:
        review = get_review(s, review.id)
        change_window(s, review, start=early - timedelta(hours=1), end=review.window_end,
                      version=review.version)
    assert [c.candidate.phone for c in exposure(db, review.id).contacts] == ["+84912000301"]


def test_opening_a_review_twice_for_one_source_returns_the_first(db):
    with db.session() as s:
        case, review = make_case(s)
        again = open_exposure_review(s, person_id=case.id, reference_at=NOW, isolated_at=NOW,
                                     source="sample:ABC123", now=NOW, settings=SETTINGS)
        other = open_exposure_review(s, person_id=case.id, reference_at=NOW, isolated_at=NOW,
                                     source="sample:XYZ", now=NOW, settings=SETTINGS)
        assert again.id == review.id and other.id != review.id
        assert review.window_start == datetime(2026, 11, 18, 1, 0)
        assert review.window_end == datetime(2026, 11, 20, 5, 0)
        assert s.scalar(select(func.count()).select_from(ExposureReview)) == 2


def test_without_a_review_the_default_window_ends_now(db):
    with db.session() as s:
        case = make_case(s)[0]
        s.query(ExposureReview).delete()
    with db.session() as s:
        review, result = exposure_of_person(s, case.id, NOW, SETTINGS)
    assert review is None
    assert result.window.end == datetime(2026, 11, 20, 6, 0)
    assert result.window.start == datetime(2026, 11, 18, 6, 0)


def confirm(db, story, **kwargs):
    f1 = kwargs.pop("f1", [ContactChoice(checkin_id=story["stranger"].id),
                           ContactChoice(person_id=story["known_f2"].id)])
    f2 = kwargs.pop("f2", [ContactChoice(full_name="Lê Thị Hoa", phone="0912 000 501",
                                         commune="Nga Liên")])
    return confirm_exposure(db, story["review"].id, f1=f1, f2=f2, actor="giamsat1", now=NOW,
                            settings=SETTINGS, **kwargs)


def test_confirmed_contacts_are_enrolled_like_an_import_and_called_the_next_morning(
        db, story):
    result = confirm(db, story)
    assert (result.f1, result.f2, result.created, result.updated) == (2, 1, 2, 1)
    with db.session() as s:
        batch = s.get(ImportBatch, result.batch_id)
        assert batch.created_by == "giamsat1" and batch.rows == 3 and batch.created == 2
        review = s.get(ExposureReview, story["review"].id)
        assert (review.status, review.confirmed_by, review.batch_id) == \
            ("confirmed", "giamsat1", batch.id)
        stranger = s.scalars(select(Person).where(Person.phone == "+84912000301")).one()
        assert (stranger.category, stranger.status) == ("F1", "monitoring")
        period = s.scalars(select(MonitoringPeriod).where(
            MonitoringPeriod.person_id == stranger.id)).one()
        # monitored 14 days from the last contact (the 19th), the batch recorded
        assert (period.start_date, period.end_date, period.batch_id) == \
            (VISIT.date(), VISIT.date() + timedelta(days=14), batch.id)
        assert s.get(Person, story["known_f2"].id).category == "F1"  # promoted from F2
        hoa = s.scalars(select(Person).where(Person.phone == "+84912000501")).one()
        assert (hoa.category, hoa.commune, hoa.monitoring_end) == \
            ("F2", "Nga Liên", TODAY + timedelta(days=7))
        called_ids = {stranger.id, story["known_f2"].id, hoa.id}
    plan_day(db, TOMORROW, NOW + timedelta(hours=19), WINDOW)
    with db.session() as s:
        tomorrow = set(s.scalars(select(CallTask.person_id).where(CallTask.day == TOMORROW)))
    assert called_ids <= tomorrow
    assert story["case"].id not in tomorrow and story["other_case"].id not in tomorrow


def test_a_case_chosen_as_a_contact_is_not_demoted(db, story):
    result = confirm(db, story, f1=[ContactChoice(checkin_id=story["dung"].id),
                                    ContactChoice(checkin_id=story["stranger"].id)], f2=[])
    assert result.skipped_cases == ("Phạm Văn Dũng",) and result.f1 == 1
    with db.session() as s:
        dung = s.get(Person, story["other_case"].id)
        assert (dung.category, dung.status) == ("F0", "F0")


def test_an_edited_name_and_phone_are_what_is_enrolled(db, story):
    confirm(db, story, f1=[ContactChoice(checkin_id=story["stranger"].id,
                                         full_name="Hoàng Văn Em", phone="0912000399")], f2=[])
    with db.session() as s:
        phones = set(s.scalars(select(Person.phone)))
    assert "+84912000399" in phones and "+84912000301" not in phones


def test_confirming_again_is_refused_and_changes_nothing(db, story):
    confirm(db, story)
    with pytest.raises(ReviewConflict, match="đã được giamsat1 xác nhận"):
        confirm(db, story)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ImportBatch)) == 1


def test_a_stale_version_is_refused(db, story):
    with db.session() as s:
        review = get_review(s, story["review"].id)
        change_window(s, review, start=review.window_start, end=review.window_end + timedelta(
            hours=1), version=review.version)
    with pytest.raises(ReviewConflict, match="Người khác vừa thay đổi"):
        confirm(db, story, version=story["review"].version)


def test_bad_choices_are_refused_in_vietnamese_and_nothing_is_written(db, story):
    with pytest.raises(InvalidRequest, match=r"f2\[0\] \(Lê Thị Hoa\): Số điện thoại '12'"):
        confirm(db, story, f2=[ContactChoice(full_name="Lê Thị Hoa", phone="12")])
    with pytest.raises(InvalidRequest, match="không có trong danh sách tiếp xúc"):
        confirm(db, story, f1=[ContactChoice(checkin_id=story["touching"].id)])
    with pytest.raises(InvalidRequest, match="thiếu họ tên"):
        confirm(db, story, f1=[ContactChoice(phone="0912000777")])
    with db.session() as s:
        assert s.get(ExposureReview, story["review"].id).status == "open"
        assert s.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_choices_from_json_are_checked():
    assert parse_choices([{"checkin_id": 3}, {"full_name": " An ", "phone": "0912"}], "f1") == [
        ContactChoice(checkin_id=3), ContactChoice(full_name="An", phone="0912")]
    with pytest.raises(InvalidRequest, match=r"f1\[0\]: trường không hợp lệ: name"):
        parse_choices([{"name": "x"}], "f1")
    with pytest.raises(InvalidRequest, match=r"f2\[0\].person_id: phải là một số nguyên"):
        parse_choices([{"person_id": "4"}], "f2")
