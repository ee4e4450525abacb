"""A day to show on the dashboard and the calls log: people in two districts, their calls at
the fixed clock's 10:00 in Hanoi, one urgent flag."""

from __future__ import annotations

from datetime import timedelta

from tests.admin.flag_helpers import seed_flag
from tests.unit.casework_helpers import DAY, NOW, add_attempt, add_person, add_task

# What a supervisor must read for seed_day(): the figures and the rows by district.
DAY_FIGURES = {"planned": 4, "dialled": 3, "reached": 2, "completed": 1, "flagged": 1,
               "urgent": 1, "unreachable": 1}


def seed_day(db) -> None:
    """Four people: completed with an urgent flag, never answered (3 tries), not called yet,
    answered part of the survey (another district)."""
    seed_flag(db, urgent=True, phone="+84912000001")
    with db.session() as s:
        silent = add_person(s, "+84912000002", "Trần Văn Bình")
        task = add_task(s, silent, status="exhausted", last_outcome="no_answer", attempts=3)
        for hours in (3, 2, 1):
            add_attempt(s, task, outcome="no_answer", at=NOW - timedelta(hours=hours))
        waiting = add_person(s, "+84912000003", "Lê Thị Cúc")
        add_task(s, waiting, status="pending", last_outcome=None, attempts=0)
        partial = add_person(s, "+84912000004", "Phạm Văn Dũng", district="Thọ Xuân",
                             commune="Xuân Lai")
        task = add_task(s, partial, status="done", last_outcome="partial")
        add_attempt(s, task, outcome="partial", at=NOW - timedelta(minutes=30))


def add_call(db, *, outcome: str | None = "completed", state: str = "ended", day=DAY,
             district: str = "Nga Sơn", at=None, phone: str = "+84912000099"):
    """One more person called (a task with one attempt); returns the attempt's id."""
    with db.session() as s:
        person = add_person(s, phone, "Người Gọi Thêm", district=district)
        task = add_task(s, person, day=day, status="done" if state == "ended" else "dialing",
                        last_outcome=outcome if state == "ended" else None)
        return add_attempt(s, task, outcome=outcome or "completed", state=state,
                           at=at or NOW).id
