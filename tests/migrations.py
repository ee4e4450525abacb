"""Run alembic migrations on a test's own engine (the migration tests' one helper)."""

from __future__ import annotations

from alembic.config import Config

from callengine.store.db import MIGRATIONS


def migrate(engine, action, revision: str) -> None:
    """Run `action` (alembic.command.upgrade or downgrade) to `revision` on `engine`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        action(config, revision)
