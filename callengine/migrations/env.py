"""Alembic environment: runs on the connection handed over by callengine.store.db."""

from alembic import context
from sqlalchemy import create_engine

import callengine.store.accounts  # noqa: F401  (registers its tables)
import callengine.store.campaign  # noqa: F401  (registers its table)
import callengine.store.exposure  # noqa: F401  (registers its table)
import callengine.store.risk  # noqa: F401  (registers its tables)
import callengine.store.samples  # noqa: F401  (registers its tables)
import callengine.store.supervision  # noqa: F401  (registers its tables)
import callengine.store.vaccinations  # noqa: F401  (registers its table)
import callengine.store.venues  # noqa: F401  (registers its tables)
from callengine.store.models import Base

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url", ""))
    with engine.begin() as conn:
        _run(conn)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
