"""The exposure query: the other visitors of a case's venues whose stays overlapped the case's.

The rules are in overlap.py; this module reads the check-ins. Every look at a venue is a range
scan of the (venue_id, checked_in_at) index: for each of the case's stays, the venue's
check-ins from the stay's start minus the longest a stay can last, up to the stay's end.
Reviews (store/exposure.py) keep the window a supervisor works with, one per case and source.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from callengine.casework.errors import CaseworkError, InvalidRequest, NotFound
from callengine.clock import to_db
from callengine.health.overlap import (
    Candidate,
    Stay,
    Visit,
    add_overlaps,
    case_stays,
    is_case_visit,
    lookback,
)
from callengine.importer.categories import F0
from callengine.importer.text import fold
from callengine.store.exposure import REVIEW_OPEN, ExposureReview
from callengine.store.models import Person
from callengine.store.venues import CheckIn, Venue

_VISIT_COLUMNS = (CheckIn.id, CheckIn.venue_id, CheckIn.checked_in_at, CheckIn.last_seen_at,
                  CheckIn.person_id, CheckIn.full_name, CheckIn.phone, CheckIn.national_id)


class ReviewConflict(CaseworkError):
    """Someone else changed or confirmed the review since it was read."""

    code = "conflict"


@dataclass(frozen=True)
class KnownPerson:
    """A candidate already in the register, and their class now."""

    id: int
    full_name: str
    phone: str
    national_id: str | None
    category: str | None
    status: str


@dataclass(frozen=True)
class Contact:
    """A candidate and, when the register knows them, who they are."""

    candidate: Candidate
    known: KnownPerson | None

    @property
    def proposable(self) -> bool:
        """A case (F0) is never proposed as a contact."""
        return self.known is None or self.known.category != F0

    @property
    def category(self) -> str | None:
        return self.known.category if self.known else None


@dataclass(frozen=True)
class VenueCount:
    venue_id: int
    name: str
    case_stays: int  # the case's stays there in the window
    contacts: int  # candidates who overlapped them


@dataclass(frozen=True)
class Exposure:
    """The query's answer for one case and window."""

    person_id: int
    window: Stay
    venues: list[VenueCount]
    contacts: list[Contact]
    venue_names: dict[int, str]

    def contact_for_checkin(self, checkin_id: int) -> Contact | None:
        return next((c for c in self.contacts if checkin_id in c.candidate.checkin_ids), None)

    def contact_for_person(self, person_id: int) -> Contact | None:
        return next((c for c in self.contacts if c.known and c.known.id == person_id), None)


# --- the query ------------------------------------------------------------------------------


def find_exposure(s: Session, person: Person, window: Stay, *, default_stay: int,
                  minimum_minutes: float) -> Exposure:
    """Everyone whose stay at one of the case's venues overlapped a case's stay in the window."""
    phones = _phones_of(person)
    longest = max(default_stay, s.scalar(select(func.max(Venue.stay_minutes))) or 0)
    own = _case_visits(s, person.id, phones, window, longest)
    venues = _venues(s, {v.venue_id for v in own})
    stay_minutes = {vid: stay or default_stay for vid, (_, stay) in venues.items()}
    candidates: dict[tuple, Candidate] = {}
    stays_per_venue: dict[int, int] = {}
    for visit, stay in case_stays(own, stay_minutes, window):
        minutes = stay_minutes[visit.venue_id]
        others = [v for v in _venue_visits(s, visit.venue_id, stay, minutes)
                  if not is_case_visit(v, person.id, phones)]
        add_overlaps(candidates, stay, others, minutes, minimum_minutes)
        stays_per_venue[visit.venue_id] = stays_per_venue.get(visit.venue_id, 0) + 1
    ordered = sorted(candidates.values(), key=lambda c: (c.overlaps[0].common.start, c.key))
    known = _known_people(s, ordered)
    contacts = [Contact(c, known.get(c.key)) for c in ordered]
    names = {vid: name for vid, (name, _) in venues.items()}
    return Exposure(person.id, window, _venue_counts(stays_per_venue, contacts, names),
                    contacts, names)


def _phones_of(person: Person) -> set[str]:
    return {person.phone, *(person.alt_phones or "").split()}


def _visit(row) -> Visit:
    return Visit(*row)


def _case_visits(s: Session, person_id: int, phones: set[str], window: Stay,
                 longest_stay: int) -> list[Visit]:
    """The case's check-ins (by person, or by their numbers) that may reach into the window.

    Two queries, each on its own index: by person on the partial index of check-ins that
    have one (store/exposure.py; most have none, so SQLite's statistics rate the plain
    person index so poorly that it scans instead), by phone on (phone, checked_in_at)."""
    in_window = (CheckIn.checked_in_at >= window.start - lookback(longest_stay),
                 CheckIn.checked_in_at < window.end)
    by_person = s.execute(select(*_VISIT_COLUMNS).where(
        CheckIn.person_id.is_not(None), CheckIn.person_id == person_id, *in_window))
    by_phone = s.execute(select(*_VISIT_COLUMNS).where(
        CheckIn.phone.in_(sorted(phones)), CheckIn.person_id.is_(None), *in_window))
    return [_visit(r) for r in (*by_person, *by_phone)]


def _venue_visits(s: Session, venue_id: int, stay: Stay, stay_minutes: int) -> list[Visit]:
    """A range scan of one venue's check-ins that may overlap `stay`."""
    rows = s.execute(select(*_VISIT_COLUMNS).where(
        CheckIn.venue_id == venue_id,
        CheckIn.checked_in_at >= stay.start - lookback(stay_minutes),
        CheckIn.checked_in_at < stay.end).order_by(CheckIn.checked_in_at, CheckIn.id))
    return [_visit(r) for r in rows]


def _venues(s: Session, ids: set[int]) -> dict[int, tuple[str, int | None]]:
    if not ids:
        return {}
    rows = s.execute(select(Venue.id, Venue.name, Venue.stay_minutes)
                     .where(Venue.id.in_(sorted(ids))))
    return {vid: (name, stay) for vid, name, stay in rows}


def _known_people(s: Session, candidates: list[Candidate]) -> dict[tuple, KnownPerson]:
    """Candidates the register knows: by the check-in's person, else by ID or phone + name
    (the import's identity rule; a stored person without a name matches any name)."""
    known: dict[tuple, KnownPerson] = {}
    ids = sorted({c.person_id for c in candidates if c.person_id is not None})
    for person in _people(s, Person.id.in_(ids)) if ids else ():
        known[("person", person.id)] = person
    anonymous = [c for c in candidates if c.person_id is None]
    phones = sorted({c.phone for c in anonymous})
    national_ids = sorted({c.national_id for c in anonymous if c.national_id})
    if not phones:
        return known
    stored = _people(s, or_(Person.phone.in_(phones), Person.national_id.in_(national_ids)))
    for candidate in anonymous:
        match = _same_person(candidate, stored)
        if match is not None:
            known[candidate.key] = match
    return known


def _people(s: Session, condition) -> list[KnownPerson]:
    rows = s.execute(select(Person.id, Person.full_name, Person.phone, Person.national_id,
                            Person.category, Person.status).where(condition))
    return [KnownPerson(*row) for row in rows]


def _same_person(candidate: Candidate, people: list[KnownPerson]) -> KnownPerson | None:
    if candidate.national_id:
        by_id = next((p for p in people if p.national_id == candidate.national_id), None)
        if by_id is not None:
            return by_id
    name = fold(candidate.full_name)
    same_phone = [p for p in people if p.phone == candidate.phone and
                  not (candidate.national_id and p.national_id and
                       p.national_id != candidate.national_id)]
    return next((p for p in same_phone if fold(p.full_name) == name), None) or \
        next((p for p in same_phone if not p.full_name or not name), None)


def _venue_counts(stays: dict[int, int], contacts: list[Contact],
                  names: dict[int, str]) -> list[VenueCount]:
    per_venue: dict[int, int] = {}
    for contact in contacts:
        for venue_id in contact.candidate.venue_ids:
            per_venue[venue_id] = per_venue.get(venue_id, 0) + 1
    return sorted((VenueCount(vid, names.get(vid, ""), n, per_venue.get(vid, 0))
                   for vid, n in stays.items()), key=lambda v: (-v.contacts, v.name, v.venue_id))


# --- reviews --------------------------------------------------------------------------------


def default_window(reference_at: datetime, isolated_at: datetime, days_before: int) -> Stay:
    """From days_before days before the reference (sampling or onset) up to isolation."""
    start = reference_at - timedelta(days=days_before)
    return Stay(start, max(isolated_at, start))


def _naive_utc(moment: datetime) -> datetime:
    return to_db(moment) if moment.tzinfo is not None else moment


def open_exposure_review(s: Session, *, person_id: int, reference_at: datetime,
                         isolated_at: datetime, source: str, now: datetime,
                         settings) -> ExposureReview:
    """The review of a new case's contacts (in the caller's transaction); once per person and
    source: opening it again returns the existing review unchanged."""
    existing = s.scalars(select(ExposureReview).where(
        ExposureReview.person_id == person_id, ExposureReview.source == source)).first()
    if existing is not None:
        return existing
    reference, isolated = _naive_utc(reference_at), _naive_utc(isolated_at)
    window = default_window(reference, isolated, settings.exposure_days_before)
    review = ExposureReview(person_id=person_id, reference_at=reference, isolated_at=isolated,
                            window_start=window.start, window_end=window.end,
                            source=source[:80], status=REVIEW_OPEN, created_at=to_db(now))
    s.add(review)
    s.flush()
    return review


def get_review(s: Session, review_id: int) -> ExposureReview:
    review = s.get(ExposureReview, review_id)
    if review is None:
        raise NotFound(f"Không có đợt rà soát tiếp xúc số {review_id}.")
    return review


def review_of_person(s: Session, person_id: int) -> ExposureReview | None:
    """The person's open review, else their latest one, else None."""
    reviews = s.scalars(select(ExposureReview).where(ExposureReview.person_id == person_id)
                        .order_by(ExposureReview.created_at.desc(), ExposureReview.id.desc())
                        ).all()
    return next((r for r in reviews if r.status == REVIEW_OPEN), reviews[0] if reviews else None)


def review_window(review: ExposureReview) -> Stay:
    return Stay(review.window_start, review.window_end)


def exposure_of_review(s: Session, review: ExposureReview, settings) -> Exposure:
    return find_exposure(s, review.person, review_window(review),
                         default_stay=settings.venue_stay_minutes,
                         minimum_minutes=settings.exposure_min_overlap_minutes)


def exposure_of_person(s: Session, person_id: int, now: datetime, settings
                       ) -> tuple[ExposureReview | None, Exposure]:
    """For the person's review, or with the default window ending now if there is none."""
    person, review = case_and_review(s, person_id)
    if review is not None:
        return review, exposure_of_review(s, review, settings)
    stamp = to_db(now)
    window = default_window(stamp, stamp, settings.exposure_days_before)
    return None, find_exposure(s, person, window, default_stay=settings.venue_stay_minutes,
                               minimum_minutes=settings.exposure_min_overlap_minutes)


def change_window(s: Session, review: ExposureReview, *, start: datetime, end: datetime,
                  version: int | None) -> None:
    """A supervisor's own window (naive UTC); refused once confirmed or if changed meanwhile."""
    check_open(review, version)
    if end <= start:
        raise InvalidRequest("Thời điểm kết thúc phải sau thời điểm bắt đầu.")
    review.window_start, review.window_end = start, end
    review.version += 1


def check_open(review: ExposureReview, version: int | None) -> None:
    if review.status != REVIEW_OPEN:
        raise ReviewConflict(
            f"Danh sách tiếp xúc này đã được {review.confirmed_by or 'người khác'} xác nhận; "
            "không xác nhận lại được.")
    if version is not None and version != review.version:
        raise ReviewConflict("Người khác vừa thay đổi đợt rà soát này; hãy tải lại trang và "
                             "kiểm tra trước khi xác nhận.")


def review_for_flag(s: Session, flag_id: int) -> tuple[int, ExposureReview | None]:
    """The flag's person and the review it leads to (a positive result's): the one its record
    opened, else the person's latest."""
    from callengine.store.supervision import Flag

    flag = s.get(Flag, flag_id)
    if flag is None:
        raise NotFound(f"Không có cảnh báo số {flag_id}.")
    if flag.reference:
        review = s.scalars(select(ExposureReview).where(
            ExposureReview.person_id == flag.person_id,
            ExposureReview.source == flag.reference)).first()
        if review is not None:
            return flag.person_id, review
    return flag.person_id, review_of_person(s, flag.person_id)


def case_and_review(s: Session, person_id: int) -> tuple[Person, ExposureReview | None]:
    """A person and their review (the open one, else the latest, else None)."""
    person = s.get(Person, person_id)
    if person is None:
        raise NotFound(f"Không có người số {person_id}.")
    return person, review_of_person(s, person_id)


def open_manual_review(s: Session, person_id: int, *, now: datetime, actor: str,
                       settings) -> ExposureReview:
    """A review a supervisor opens by hand for a case (the window ends now); one per day."""
    person = s.get(Person, person_id)
    if person is None:
        raise NotFound(f"Không có người số {person_id}.")
    if person.category != F0:
        raise InvalidRequest("Chỉ rà soát tiếp xúc cho ca F0.")
    stamp = to_db(now)
    return open_exposure_review(s, person_id=person_id, reference_at=stamp, isolated_at=stamp,
                                source=f"manual:{stamp:%Y-%m-%d}:{actor}"[:80], now=now,
                                settings=settings)
