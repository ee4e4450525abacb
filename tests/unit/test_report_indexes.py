"""Migration 0010: the dashboard's and the calls log's indexes, as the models declare them."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from callengine.store.db import make_engine
from callengine.store.models import CallAttempt, CallTask
from tests.migrations import migrate

EXPECTED = {
    "call_attempts": {"ix_call_attempts_created_at_id": ["created_at", "id", "outcome"],
                      "ix_call_attempts_person_created": ["person_id", "created_at", "id"]},
    "call_tasks": {"ix_call_tasks_day_figures": ["day", "person_id", "status", "attempts",
                                                 "last_outcome", "callback_requested"]},
}


def _indexes(engine, table: str) -> dict[str, list[str]]:
    return {i["name"]: i["column_names"] for i in inspect(engine).get_indexes(table)}


def test_the_migration_creates_the_models_report_indexes_and_removes_them(database_url):
    engine = make_engine(database_url)
    try:
        migrate(engine, command.upgrade, "head")
        for table, indexes in EXPECTED.items():
            present = _indexes(engine, table)
            for name, columns in indexes.items():
                assert present.get(name) == columns, (table, name, present.get(name))
        declared = {i.name for model in (CallAttempt, CallTask)
                    for i in model.__table__.indexes}
        assert {n for indexes in EXPECTED.values() for n in indexes} <= declared
        migrate(engine, command.downgrade, "0009")
        for table, indexes in EXPECTED.items():
            assert not set(indexes) & set(_indexes(engine, table))
        migrate(engine, command.upgrade, "head")
        assert set(EXPECTED["call_tasks"]) <= set(_indexes(engine, "call_tasks"))
    finally:
        engine.dispose()
