"""Migration 0019: the risk tables as the models declare them, and its downgrade."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from callengine.store.db import make_engine
from callengine.store.risk import RiskAssessment, VenueRiskToken
from tests.migrations import migrate

TABLES = ("venue_risk_tokens", "risk_assessments")


def test_the_migration_creates_the_models_tables_and_removes_them(database_url):
    engine = make_engine(database_url)
    try:
        migrate(engine, command.upgrade, "head")
        schema = inspect(engine)
        for model in (VenueRiskToken, RiskAssessment):
            columns = {c["name"] for c in schema.get_columns(model.__tablename__)}
            assert columns == set(model.__table__.columns.keys()), model.__tablename__
            indexes = {i["name"]: i["column_names"]
                       for i in schema.get_indexes(model.__tablename__)}
            for index in model.__table__.indexes:
                assert indexes.get(index.name) == [c.name for c in index.columns]
        migrate(engine, command.downgrade, "0018")
        assert not set(TABLES) & set(inspect(engine).get_table_names())
        migrate(engine, command.upgrade, "head")
        assert set(TABLES) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
