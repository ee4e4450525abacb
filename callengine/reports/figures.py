"""A day's progress figures, the SQL that counts them per area, and their sums."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from callengine.dialer.outcome import COMPLETED, REACHED
from callengine.store.models import (
    TASK_CANCELLED,
    TASK_DIALING,
    TASK_DONE,
    TASK_EXHAUSTED,
    TASK_PENDING,
    CallTask,
    Person,
)
from callengine.store.supervision import FLAG_OPEN, Flag

CLOSED_FOR_THE_DAY = (TASK_DONE, TASK_EXHAUSTED)


@dataclass(frozen=True)
class Figures:
    """What a supervisor reads about one day, for the province or one area."""

    planned: int = 0  # the day's tasks, cancelled ones excepted
    dialled: int = 0  # tasks with at least one attempt
    reached: int = 0  # the last attempt was answered (completed or partial)
    completed: int = 0  # the survey was completed
    flagged: int = 0  # people with an open flag raised today
    urgent: int = 0  # open urgent flags (any day)
    unreachable: int = 0  # dialled, closed for the day, never reached
    callbacks: int = 0  # the resident asked to be called back
    pending: int = 0  # waiting for their next attempt
    dialing: int = 0  # an attempt in flight now
    cancelled: int = 0  # withdrawn today (monitoring ended or closed)

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass(frozen=True)
class AreaFigures:
    """The figures of one district (commune None) or one commune."""

    district: str | None
    commune: str | None
    figures: Figures


def _count(condition) -> ColumnElement[Any]:
    return func.sum(case((condition, 1), else_=0))


def _task_columns() -> list:
    reached = CallTask.last_outcome.in_(REACHED)
    return [
        _count(CallTask.status != TASK_CANCELLED).label("planned"),
        _count(CallTask.attempts > 0).label("dialled"),
        _count(reached).label("reached"),
        _count(CallTask.last_outcome == COMPLETED).label("completed"),
        _count(and_(CallTask.status.in_(CLOSED_FOR_THE_DAY), CallTask.attempts > 0,
                    or_(CallTask.last_outcome.is_(None), ~reached))).label("unreachable"),
        _count(CallTask.callback_requested.is_(True)).label("callbacks"),
        _count(CallTask.status == TASK_PENDING).label("pending"),
        _count(CallTask.status == TASK_DIALING).label("dialing"),
        _count(CallTask.status == TASK_CANCELLED).label("cancelled"),
    ]


def task_figures(s: Session, day: date) -> dict[tuple, Figures]:
    """The day's task figures per (district, commune), in one GROUP BY."""
    rows = s.execute(
        select(Person.district, Person.commune, *_task_columns())
        .join(Person, Person.id == CallTask.person_id)
        .where(CallTask.day == day)
        .group_by(Person.district, Person.commune)
    ).all()
    return {(r[0], r[1]): Figures(**{k: int(v or 0) for k, v in r._mapping.items()
                                     if k not in ("district", "commune")}) for r in rows}


def task_totals(s: Session, day: date) -> Figures:
    """The day's task figures for the province, without the areas (no join, one row)."""
    row = s.execute(select(*_task_columns()).where(CallTask.day == day)).one()
    return Figures(**{k: int(v or 0) for k, v in row._mapping.items()})


def _flag_columns(start: datetime, end: datetime) -> tuple[list, ColumnElement[bool]]:
    """(people flagged in [start, end), open urgent flags) and the rows they count."""
    today = and_(Flag.created_at >= start, Flag.created_at < end)
    columns = [func.count(func.distinct(case((today, Flag.person_id)))),
               _count(Flag.urgent.is_(True))]
    return columns, and_(Flag.status == FLAG_OPEN, or_(Flag.urgent.is_(True), today))


def flag_figures(s: Session, start: datetime, end: datetime) -> dict[tuple, Figures]:
    """Open flags per (district, commune): people flagged in [start, end), urgent flags."""
    columns, where = _flag_columns(start, end)
    rows = s.execute(
        select(Person.district, Person.commune, *columns)
        .join(Person, Person.id == Flag.person_id)
        .where(where)
        .group_by(Person.district, Person.commune)
    ).all()
    return {(r[0], r[1]): Figures(flagged=int(r[2] or 0), urgent=int(r[3] or 0)) for r in rows}


def flag_totals(s: Session, start: datetime, end: datetime) -> Figures:
    """The province's flag figures (no join, one row)."""
    columns, where = _flag_columns(start, end)
    flagged, urgent = s.execute(select(*columns).where(where)).one()
    return Figures(flagged=int(flagged or 0), urgent=int(urgent or 0))


def merge(*parts: dict[tuple, Figures]) -> dict[tuple, Figures]:
    """Per-area figures from several queries, added up area by area."""
    merged: dict[tuple, Figures] = {}
    for part in parts:
        for area, figures in part.items():
            merged[area] = merged.get(area, Figures()) + figures
    return merged


def _sort_key(area: tuple) -> tuple:
    return tuple((value is None, value or "") for value in area)


def communes(by_area: dict[tuple, Figures]) -> tuple[AreaFigures, ...]:
    """One row per commune, by district then commune (unknown ones last)."""
    return tuple(AreaFigures(d, c, f) for (d, c), f in sorted(by_area.items(),
                                                              key=lambda i: _sort_key(i[0])))


def districts(by_area: dict[tuple, Figures]) -> tuple[AreaFigures, ...]:
    """One row per district: its communes added up."""
    summed = merge(*({(d, None): f} for (d, _c), f in by_area.items()))
    return tuple(replace(row, commune=None) for row in communes(summed))


def total(by_area: dict[tuple, Figures]) -> Figures:
    """The province's figures."""
    return sum(by_area.values(), Figures())
