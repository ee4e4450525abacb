"""Factories for the exposure tests: venues, check-ins, and a case with its review.

The story (times naive UTC; local time is UTC+7): on 19 November a case visits the market
at 09:00 local for the default hour; a visitor who came at 09:30 and a known F2 who came at
09:10 (and then the pharmacy) overlap them; one who came at 10:00 only touches the stay.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from callengine.clock import to_db
from callengine.dialer.window import Window
from callengine.health.exposure import open_exposure_review
from callengine.importer.text import fold
from callengine.settings import load_settings, parse_window
from callengine.store.models import MonitoringPeriod, Person
from callengine.store.venues import CheckIn, Venue

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)  # 13:00 local on the 20th
TODAY = date(2026, 11, 20)
TOMORROW = date(2026, 11, 21)
VISIT = datetime(2026, 11, 19, 2, 0)  # 09:00 local on the 19th
WINDOW = Window(parse_window("w", "08:00-20:00"), "Asia/Ho_Chi_Minh", 300)
SETTINGS = load_settings({})
CASE_PHONE = "+84912000100"


def add_venue(s, name="Chợ Nga Liên", stay_minutes=None, token=None) -> Venue:
    venue = Venue(name=name, address="", kind="market", stay_minutes=stay_minutes,
                  token=token or f"tok-{name}", active=True, created_at=to_db(NOW))
    s.add(venue)
    s.flush()
    return venue


def add_checkin(s, venue: Venue, at: datetime, *, phone: str, name: str,
                person: Person | None = None, last: datetime | None = None,
                national_id: str | None = None) -> CheckIn:
    checkin = CheckIn(venue_id=venue.id, person_id=person.id if person else None,
                      full_name=name, phone=phone, national_id=national_id, checked_in_at=at,
                      last_seen_at=last or at, visits=1, created_at=at)
    s.add(checkin)
    s.flush()
    return checkin


def add_person(s, name: str, phone: str, category: str, *, status: str = "monitoring",
               start: date = TODAY - timedelta(days=3), days: int = 7) -> Person:
    person = Person(full_name=name, name_key=fold(name), phone=phone, alt_phones="",
                    carrier="viettel", category=category, status=status,
                    monitoring_start=start, monitoring_end=start + timedelta(days=days),
                    created_at=to_db(NOW), updated_at=to_db(NOW))
    s.add(person)
    s.flush()
    if category != "F0":
        s.add(MonitoringPeriod(person_id=person.id, category=category, start_date=start,
                               end_date=start + timedelta(days=days), created_at=to_db(NOW)))
    return person


def make_case(s, name="Lê Văn Ca", phone=CASE_PHONE, source="sample:ABC123", visit=VISIT):
    """An F0 (set by hand, as a positive result does) and their open review: sampled the day
    after `visit` (23 hours later), isolated 4 hours after sampling."""
    case = add_person(s, name, phone, "F0", status="F0")
    sampled = visit.replace(tzinfo=timezone.utc) + timedelta(hours=23)
    review = open_exposure_review(
        s, person_id=case.id, reference_at=sampled, isolated_at=sampled + timedelta(hours=4),
        source=source, now=NOW, settings=SETTINGS)
    return case, review


def market_story(s, visit: datetime = VISIT) -> dict:
    """The case, the market and the pharmacy, and their visitors (see the module's doc);
    `visit` is the case's time at the market (naive UTC)."""
    case, review = make_case(s, visit=visit)
    market = add_venue(s, "Chợ Nga Liên")
    pharmacy = add_venue(s, "Nhà thuốc Hồng Phúc", stay_minutes=15)
    known_f2 = add_person(s, "Trần Thị Bích", "+84912000202", "F2")
    other_case = add_person(s, "Phạm Văn Dũng", "+84912000404", "F0", status="F0")
    add_checkin(s, market, visit, phone=CASE_PHONE, name="Lê Văn Ca", person=case)
    add_checkin(s, pharmacy, visit + timedelta(hours=3), phone=CASE_PHONE, name="Lê Văn Ca")
    stranger = add_checkin(s, market, visit + timedelta(minutes=30), phone="+84912000301",
                           name="Hoàng Văn Em")
    bich_market = add_checkin(s, market, visit + timedelta(minutes=10), phone="+84912000202",
                              name="Trần Thị Bích", person=known_f2)
    bich_pharmacy = add_checkin(s, pharmacy, visit + timedelta(hours=3, minutes=5),
                                phone="+84912000202", name="Trần Thị Bích", person=known_f2)
    touching = add_checkin(s, market, visit + timedelta(minutes=60), phone="+84912000302",
                           name="Đỗ Thị Giang")
    dung = add_checkin(s, market, visit + timedelta(minutes=20), phone="+84912000404",
                       name="Phạm Văn Dũng", person=other_case)
    return {"case": case, "review": review, "market": market, "pharmacy": pharmacy,
            "known_f2": known_f2, "other_case": other_case, "stranger": stranger,
            "bich_market": bich_market, "bich_pharmacy": bich_pharmacy, "touching": touching,
            "dung": dung}
