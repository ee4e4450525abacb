"""Two OS processes claim the same due tasks at once: each task is claimed once, none lost."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import func, insert, select

from callengine.clock import to_db
from callengine.store.db import Database
from callengine.store.models import CallAttempt, CallTask, Person
from tests.unit.claim_racer import claim_all_due, race

DAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)
TASKS = 300


def seed(db: Database) -> set[int]:
    stamp = to_db(NOW)
    with db.engine.begin() as conn:
        conn.execute(insert(Person), [
            {"id": i, "phone": f"+8491{i:07d}", "carrier": "viettel", "full_name": f"N {i}",
             "status": "monitoring", "created_at": stamp, "updated_at": stamp}
            for i in range(1, TASKS + 1)])
        conn.execute(insert(CallTask), [
            {"id": i, "person_id": i, "day": DAY, "status": "pending", "origin": "plan",
             "attempts": 0, "next_attempt_at": stamp, "created_at": stamp, "updated_at": stamp}
            for i in range(1, TASKS + 1)])
    return set(range(1, TASKS + 1))


def test_two_processes_claiming_the_same_due_tasks_claim_each_exactly_once(database_url):
    db = Database(database_url)
    expected = seed(db)
    won = race(claim_all_due, database_url, ("server-a", "server-b"), DAY, NOW, timeout=120)
    assert set(won["server-a"]) | set(won["server-b"]) == expected  # none lost
    assert not set(won["server-a"]) & set(won["server-b"])  # none twice
    assert len(won["server-a"]) + len(won["server-b"]) == TASKS
    assert won["server-a"] and won["server-b"]  # both really raced
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(CallAttempt)) == TASKS
        assert set(s.execute(select(CallTask.status, CallTask.attempts)).all()) == {
            ("dialing", 1)}
        by_server = dict(s.execute(select(CallAttempt.server_id, func.count())
                                   .group_by(CallAttempt.server_id)).all())
    assert by_server == {server: len(ids) for server, ids in won.items()}
    db.dispose()
