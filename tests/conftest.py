"""Shared fixtures: databases (SQLite and the real PostgreSQL server)."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from callengine.store.db import Database
from tests import processes


def pytest_collection_modifyitems(items):
    """Browser tests last: Playwright's sync API keeps an event loop on the main thread while
    its browser is open, and every later asyncio.run() in the same process would refuse."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid.replace("\\", "/"))


@pytest.fixture(scope="session", autouse=True)
def no_process_outlives_the_suite():
    """Fail the run if an engine, worker or lab process started by a test is still alive."""
    marker = processes.new_marker()
    yield
    left = processes.leftovers(marker)
    if left:
        pytest.fail("processes started by the tests were still running at the end (now "
                    "killed):\n  " + "\n  ".join(left), pytrace=False)


POSTGRES_URL = os.environ.get("CALLENGINE_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")


def _admin_engine():
    return create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1),
                         isolation_level="AUTOCOMMIT")


@pytest.fixture
def postgres_url():
    """A fresh PostgreSQL database on the real server, dropped afterwards."""
    name = f"callengine_test_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'callengine.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()
