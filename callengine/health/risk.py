"""The business risk self-assessment: score a venue's answers, keep the assessments, and find
the venues whose latest assessment is high or very high ("flagged": a venue, not a person).

Scoring: every criterion answered with one of its options; points summed; index = points /
max_points x 100 %; the band is the first whose range holds the index, except that a band with
the component rule (medium) gives way to its `otherwise` band (high) when a criterion scored
`component_alert` points or more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callengine.audit import Actor, record_in
from callengine.clock import from_db, to_db
from callengine.health.errors import InvalidForm, NotFound
from callengine.health.risk_criteria import Band, CriteriaSet, default_criteria
from callengine.health.venues import (
    TOKEN_INACTIVE,
    TOKEN_PATTERN,
    TOKEN_ROTATED,
    TOKEN_UNKNOWN,
    TOKEN_VALID,
    TokenLookup,
    VenueView,
    in_name_order,
    new_token,
    view_of,
)
from callengine.paging import Page, page_of
from callengine.store.db import Database
from callengine.store.risk import RiskAssessment, VenueRiskToken
from callengine.store.venues import Venue

FLAGGED_BANDS = ("high", "very_high")
RISK_SENT = "risk.submit"  # the audit rows the per-client limit counts
RISK_REFUSED = "risk.refused"
MAX_SUBMITTER = 200


@dataclass(frozen=True)
class Score:
    points: int
    index_percent: float
    band: Band
    alerts: tuple[str, ...]  # criteria that scored component_alert points or more


@dataclass(frozen=True)
class AssessmentView:
    id: int
    venue_id: int
    criteria_id: str
    criteria_version: int
    answers: dict[str, str]
    points: int
    index_percent: float
    band: Band
    submitted_at: datetime
    submitted_by: str
    alerts: tuple[str, ...] = ()  # criteria that scored component_alert points or more

    @property
    def flagged(self) -> bool:
        return self.band.code in FLAGGED_BANDS


@dataclass(frozen=True)
class RiskVenue:
    """A venue with its latest assessment (a row of the high-risk list)."""

    venue: VenueView
    latest: AssessmentView


# --- scoring ---------------------------------------------------------------------------------


def _chosen(criteria: CriteriaSet, answers: Mapping[str, Any]) -> dict[str, int]:
    """Points of each criterion's chosen option, or InvalidForm naming every bad one."""
    errors: dict[str, str] = {}
    points: dict[str, int] = {}
    for criterion in criteria.criteria:
        chosen = answers.get(criterion.id)
        option = criterion.option(chosen) if isinstance(chosen, str) else None
        if chosen is None or chosen == "":
            errors[criterion.id] = f"Chưa trả lời: {criterion.text}."
        elif option is None:
            errors[criterion.id] = f"Lựa chọn '{chosen}' không có ở mục: {criterion.text}."
        else:
            points[criterion.id] = option.points
    known = {c.id for c in criteria.criteria}
    for name in answers:
        if name not in known:
            errors[name] = f"Không có tiêu chí '{name}'."
    if errors:
        raise InvalidForm(errors)
    return points


def _alerts(criteria: CriteriaSet, answers: Mapping[str, Any]) -> tuple[str, ...]:
    chosen = ((c, c.option(answers.get(c.id) or "")) for c in criteria.criteria)
    return tuple(c.id for c, option in chosen
                 if option is not None and option.points >= criteria.component_alert)


def band_of(criteria: CriteriaSet, index: float, alerts: tuple[str, ...]) -> Band:
    band = next(b for b in criteria.bands if b.holds(index))
    if band.requires_no_component_alert and alerts:
        return criteria.band(band.otherwise or band.code)
    return band


def score(criteria: CriteriaSet, answers: Mapping[str, Any]) -> Score:
    """The points, index, band and alerting criteria of a complete set of answers."""
    points = _chosen(criteria, answers)
    total = sum(points.values())
    index = round(total * 100 / criteria.max_points, 2)
    alerts = _alerts(criteria, answers)
    return Score(total, index, band_of(criteria, index, alerts), alerts)


# --- tokens ----------------------------------------------------------------------------------


def _current_token(s: Session, venue_id: int) -> VenueRiskToken | None:
    return s.scalars(select(VenueRiskToken).where(
        VenueRiskToken.venue_id == venue_id, VenueRiskToken.retired_at.is_(None))).first()


def risk_token(db: Database, venue_id: int, *, now: datetime) -> str:
    """The venue's assessment link token, made on first use."""
    with db.session() as s:
        if s.get(Venue, venue_id) is None:
            raise NotFound(f"Không có địa điểm số {venue_id}.")
        current = _current_token(s, venue_id)
        if current is None:
            current = VenueRiskToken(token=new_token(), venue_id=venue_id,
                                     created_at=to_db(now))
            s.add(current)
        return current.token


def rotate_risk_token(db: Database, venue_id: int, *, now: datetime) -> str:
    """A new assessment link; the old one is refused with a clear message."""
    with db.session() as s:
        current = _current_token(s, venue_id)
        if current is not None:
            current.retired_at = to_db(now)
        token = new_token()
        s.add(VenueRiskToken(token=token, venue_id=venue_id, created_at=to_db(now)))
        return token


def find_by_risk_token(db: Database, text: str) -> TokenLookup:
    """The venue an assessment link names, or why none (rotated, stopped, unknown)."""
    token = text.strip().lower()
    if not TOKEN_PATTERN.fullmatch(token):
        return TokenLookup(TOKEN_UNKNOWN)
    with db.session() as s:
        row = s.get(VenueRiskToken, token)
        if row is None:
            return TokenLookup(TOKEN_UNKNOWN)
        if row.retired_at is not None:
            return TokenLookup(TOKEN_ROTATED)
        venue = s.get(Venue, row.venue_id)
        if venue is None or not venue.active:
            return TokenLookup(TOKEN_INACTIVE)
        return TokenLookup(TOKEN_VALID, view_of(venue))


def risk_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/v/{token}/risk"


# --- writing and reading ---------------------------------------------------------------------


def _view(row: RiskAssessment, criteria: CriteriaSet) -> AssessmentView:
    band = next((b for b in criteria.bands if b.code == row.band), None) \
        or Band(row.band, row.band, "", 0, 0)
    answers = dict(row.answers)
    return AssessmentView(row.id, row.venue_id, row.criteria_id, row.criteria_version,
                          answers, row.points, row.index_percent, band,
                          from_db(row.submitted_at), row.submitted_by,
                          _alerts(criteria, answers))


def submitter(answers: Mapping[str, Any], raw: Any,
              criteria: CriteriaSet | None = None) -> str:
    """Who fills the public form in (the business's contact), checked with the answers:
    InvalidForm names every missing or bad item at once."""
    errors: dict[str, str] = {}
    try:
        score(criteria or default_criteria(), answers)
    except InvalidForm as error:
        errors.update(error.errors)
    text = " ".join(str(raw or "").split())
    if not text:
        errors["submitted_by"] = "Hãy nhập họ tên hoặc số điện thoại người đánh giá."
    elif len(text) > MAX_SUBMITTER:
        errors["submitted_by"] = f"Người đánh giá dài quá {MAX_SUBMITTER} ký tự."
    if errors:
        raise InvalidForm(errors)
    return text


def record_assessment(db: Database, venue_id: int, answers: Mapping[str, Any], *,
                      submitted_by: str, now: datetime, actor: Actor | None = None,
                      criteria: CriteriaSet | None = None) -> AssessmentView:
    """Score and store one assessment (with its audit row, in one transaction)."""
    criteria = criteria or default_criteria()
    result = score(criteria, answers)
    with db.session() as s:
        if s.get(Venue, venue_id) is None:
            raise NotFound(f"Không có địa điểm số {venue_id}.")
        row = RiskAssessment(
            venue_id=venue_id, criteria_id=criteria.id, criteria_version=criteria.version,
            answers={c.id: answers[c.id] for c in criteria.criteria}, points=result.points,
            index_percent=result.index_percent, band=result.band.code,
            submitted_at=to_db(now), submitted_by=submitted_by, created_at=to_db(now))
        s.add(row)
        s.flush()
        if actor is not None:
            record_in(s, RISK_SENT, actor=actor, at=now, object_type="venue",
                      object_id=venue_id, detail={"assessment": row.id, "band": row.band})
        return _view(row, criteria)


def venue_history(db: Database, venue_id: int, *, limit: int = 50,
                  criteria: CriteriaSet | None = None) -> list[AssessmentView]:
    """A venue's assessments, newest first."""
    criteria = criteria or default_criteria()
    with db.session() as s:
        rows = s.scalars(select(RiskAssessment).where(RiskAssessment.venue_id == venue_id)
                         .order_by(RiskAssessment.id.desc()).limit(limit))
        return [_view(row, criteria) for row in rows]


def _latest_ids():
    return select(func.max(RiskAssessment.id).label("id")).group_by(
        RiskAssessment.venue_id).subquery()


def latest_bands(db: Database, venue_ids: list[int]) -> dict[int, str]:
    """Each venue's latest band (venues never assessed are left out)."""
    if not venue_ids:
        return {}
    latest = _latest_ids()
    with db.session() as s:
        rows = s.execute(select(RiskAssessment.venue_id, RiskAssessment.band)
                         .join(latest, latest.c.id == RiskAssessment.id)
                         .where(RiskAssessment.venue_id.in_(venue_ids)))
        return {venue_id: band for venue_id, band in rows}


def _flagged_statement(district: str | None):
    latest = _latest_ids()
    statement = (select(Venue, RiskAssessment)
                 .join(RiskAssessment, RiskAssessment.venue_id == Venue.id)
                 .join(latest, latest.c.id == RiskAssessment.id)
                 .where(RiskAssessment.band.in_(FLAGGED_BANDS)))
    return statement.where(Venue.district == district) if district else statement


def flagged_venues(db: Database, *, district: str | None = None, after: str | None = None,
                   limit: int = 50, criteria: CriteriaSet | None = None) -> Page[RiskVenue]:
    """Venues whose latest assessment is high or very high, by name, keyset-paged."""
    criteria = criteria or default_criteria()
    statement = in_name_order(_flagged_statement(district), after, limit)
    with db.session() as s:
        rows = list(s.execute(statement))
        keys = {venue.id: venue.name_key for venue, _ in rows}
        items = [RiskVenue(view_of(venue), _view(row, criteria)) for venue, row in rows]
    return page_of(items, limit, lambda item: (keys[item.venue.id], item.venue.id))


def flagged_count(db: Database, *, district: str | None = None) -> int:
    """How many venues are flagged (latest assessment high or very high)."""
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(
            _flagged_statement(district).subquery())) or 0


def assessments_since(db: Database, venue_id: int, since: datetime) -> int:
    """The venue's assessments since a time (its per-venue limit)."""
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(RiskAssessment).where(
            RiskAssessment.venue_id == venue_id,
            RiskAssessment.submitted_at >= to_db(since))) or 0
