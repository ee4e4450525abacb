"""Who was at the same venue at the same time as a case: pure interval rules, no database.

A check-in has no check-out, so a visit is the half-open stay
[checked_in_at, last_seen_at + stay) with the venue's stay length (or the default). Repeats of
one visitor merged into one check-in extend the stay up to MAX_MERGED_VISIT; longer chains are
cut there, so a query can bound how far back a stay that reaches a moment may have started.
Two stays overlap by min(ends) - max(starts); touching stays (end == start) do not overlap,
and an overlap counts only above the minimum.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable

MAX_MERGED_VISIT = timedelta(hours=12)  # the longest merged visit counted (checked_in → last)


@dataclass(frozen=True, slots=True)
class Visit:
    """One stored check-in, as the rules need it (times naive UTC)."""

    checkin_id: int
    venue_id: int
    checked_in_at: datetime
    last_seen_at: datetime
    person_id: int | None
    full_name: str
    phone: str  # E.164
    national_id: str | None = None


@dataclass(frozen=True, slots=True)
class Stay:
    """[start, end) of a visit."""

    start: datetime
    end: datetime

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60


def stay_of(visit: Visit, stay_minutes: int) -> Stay:
    """The visit's stay: from the check-in to the last merged repeat plus the venue's stay."""
    last = min(visit.last_seen_at, visit.checked_in_at + MAX_MERGED_VISIT)
    return Stay(visit.checked_in_at, last + timedelta(minutes=stay_minutes))


def lookback(stay_minutes: int) -> timedelta:
    """How long before a moment a stay reaching that moment may have started."""
    return MAX_MERGED_VISIT + timedelta(minutes=stay_minutes)


def overlap(a: Stay, b: Stay) -> Stay | None:
    """The common part of two stays, or None when they do not overlap (touching included)."""
    start, end = max(a.start, b.start), min(a.end, b.end)
    return Stay(start, end) if end > start else None


def clip(stay: Stay, window: Stay) -> Stay | None:
    """The part of a stay inside the window, or None."""
    return overlap(stay, window)


@dataclass(frozen=True, slots=True)
class Overlap:
    """Where and when one candidate was with the case."""

    venue_id: int
    checkin_id: int  # the candidate's check-in
    case_stay: Stay  # the case's stay, clipped to the window
    stay: Stay  # the candidate's stay
    common: Stay  # when both were there

    @property
    def minutes(self) -> float:
        return round(self.common.minutes, 1)


@dataclass
class Candidate:
    """One other visitor, listed once with every overlap (a person id, else a phone)."""

    key: tuple[str, int | str]
    person_id: int | None
    full_name: str
    phone: str
    national_id: str | None
    overlaps: list[Overlap] = field(default_factory=list)

    @property
    def last_contact(self) -> datetime:
        return max(o.common.end for o in self.overlaps)

    @property
    def checkin_ids(self) -> list[int]:
        return sorted({o.checkin_id for o in self.overlaps})

    @property
    def venue_ids(self) -> list[int]:
        return sorted({o.venue_id for o in self.overlaps})


def candidate_key(visit: Visit) -> tuple[str, int | str]:
    """Visitors are told apart by person id when the check-in has one, else by phone."""
    return ("person", visit.person_id) if visit.person_id is not None else ("phone", visit.phone)


def case_stays(visits: Iterable[Visit], stay_minutes: dict[int, int],
               window: Stay) -> list[tuple[Visit, Stay]]:
    """The case's own stays inside the window (clipped to it), oldest first."""
    stays = []
    for visit in visits:
        inside = clip(stay_of(visit, stay_minutes[visit.venue_id]), window)
        if inside is not None:
            stays.append((visit, inside))
    return sorted(stays, key=lambda pair: (pair[1].start, pair[0].checkin_id))


def add_overlaps(candidates: dict[tuple, Candidate], case_stay: Stay, others: Iterable[Visit],
                 stay_minutes: int, minimum_minutes: float) -> None:
    """Add every visitor among `others` (one venue) whose stay overlaps the case's stay by
    more than the minimum."""
    for visit in others:
        stay = stay_of(visit, stay_minutes)
        common = overlap(case_stay, stay)
        if common is None or common.minutes <= minimum_minutes:
            continue
        key = candidate_key(visit)
        candidate = candidates.get(key)
        if candidate is None:
            candidate = candidates[key] = Candidate(key, visit.person_id, visit.full_name,
                                                    visit.phone, visit.national_id)
        candidate.overlaps.append(Overlap(visit.venue_id, visit.checkin_id, case_stay, stay,
                                          common))


def is_case_visit(visit: Visit, person_id: int, phones: Iterable[str]) -> bool:
    """A check-in of the case themselves (by person id, or by one of their numbers)."""
    return visit.person_id == person_id or (visit.person_id is None and visit.phone in phones)
