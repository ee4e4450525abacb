"""Migration 0013: venues, their retired tokens and check-ins, as the models declare them."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from callengine.store.db import make_engine
from callengine.store.venues import CheckIn, RetiredVenueToken, Venue
from tests.migrations import migrate

TABLES = ("venues", "venue_retired_tokens", "checkins")
CHECKIN_INDEXES = {
    "ix_checkins_venue_at": ["venue_id", "checked_in_at"],
    "ix_checkins_phone_at": ["phone", "checked_in_at"],
    "ix_checkins_person": ["person_id"],
    "ix_checkins_at": ["checked_in_at"],
}


def test_the_migration_creates_the_models_tables_and_removes_them(database_url):
    engine = make_engine(database_url)
    try:
        migrate(engine, command.upgrade, "head")
        schema = inspect(engine)
        assert set(TABLES) <= set(schema.get_table_names())
        for model in (Venue, RetiredVenueToken, CheckIn):
            columns = {c["name"] for c in schema.get_columns(model.__tablename__)}
            assert columns == set(model.__table__.columns.keys()), model.__tablename__
        indexes = {i["name"]: i["column_names"] for i in schema.get_indexes("checkins")}
        for name, columns in CHECKIN_INDEXES.items():
            assert indexes.get(name) == columns, name
        assert set(CHECKIN_INDEXES) <= {i.name for i in CheckIn.__table__.indexes}
        unique = schema.get_unique_constraints("venues")
        unique_indexes = [i for i in schema.get_indexes("venues") if i["unique"]]
        assert ["token"] in [u["column_names"] for u in unique + unique_indexes]

        migrate(engine, command.downgrade, "0013-1")
        assert not set(TABLES) & set(inspect(engine).get_table_names())
        migrate(engine, command.upgrade, "head")
        assert set(TABLES) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
