"""Shared fixtures: databases (SQLite and the real PostgreSQL server)."""

from __future__ import annotations

import os
import shutil
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from callengine.private_files import create_private_file
from callengine.store.db import Database
from tests import processes

LAB_PORT_STEP = 200  # ports of one lab span base+38 .. base+73


def pytest_configure(config):
    """Under pytest-xdist each worker gets its own lab: worker gwK dials on the port base
    (CALLENGINE_LAB_PORT_BASE, 15000 unless set) plus 200*K, in its own lab folder."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw"):
        base = int(os.environ.get("CALLENGINE_LAB_PORT_BASE", "15000"))
        os.environ["CALLENGINE_LAB_PORT_BASE"] = str(base + LAB_PORT_STEP * int(worker[2:]))


def _part(item) -> str:
    """The folder under tests/ ("unit", "lab", ...)."""
    parts = item.nodeid.replace("\\", "/").split("/")
    return parts[1] if len(parts) > 2 else ""


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group marks
def pytest_collection_modifyitems(items):
    """Lab tests first, browser tests last. Browser tests: Playwright's sync API keeps an
    event loop on the main thread while its browser is open, and every later asyncio.run() in
    the same process would refuse. Lab tests: one xdist group (`--dist loadgroup`), run by one
    worker from the start, one call at a time as before, while the other workers share the
    rest; their timing assertions never compete with a second lab of the same run."""
    order = {"lab": 0, "browser": 2}
    items.sort(key=lambda item: order.get(_part(item), 1))
    for item in items:
        if _part(item) == "lab":
            item.add_marker(pytest.mark.xdist_group("lab"))


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


def _migrated_copy_wanted(request) -> bool:
    """The test (or a fixture of it) opens its database through `db`, which migrates it to
    the newest revision first: a copy of a database migrated once per session is the same
    schema, without running every migration again for each test. Tests that take the URL
    alone (migration tests among them) still get an empty database."""
    return "db" in request.fixturenames


@pytest.fixture(scope="session")
def _postgres_template():
    """A database migrated to the newest revision once per session (per xdist worker), the
    TEMPLATE that migrated test databases are cloned from; dropped at the end."""
    name = f"callengine_test_template_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        Database(f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}").dispose()
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file migrated to the newest revision once per session, copied for tests."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    database = Database(f"sqlite:///{path}")
    with database.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the file
    database.dispose()
    return path


@pytest.fixture
def postgres_url(request):
    """A fresh PostgreSQL database on the real server, dropped afterwards (for tests using
    `db`: a clone of the migrated template, see _migrated_copy_wanted)."""
    name = f"callengine_test_{uuid.uuid4().hex[:12]}"
    dropper = request.getfixturevalue("_postgres_dropper")
    template = ""
    if _migrated_copy_wanted(request):
        template = f' TEMPLATE "{request.getfixturevalue("_postgres_template")}"'
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{template}'))
    admin.dispose()
    base = POSTGRES_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    dropper.drop(name)


class _Dropper:
    """Drops test databases in a thread while the next tests run (a DROP waits for the
    server's checkpoint); every drop has finished, or failed the run, when the session ends."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drop-database")
        self.pending: list[Future] = []

    def drop(self, name: str) -> None:
        self.pending.append(self.pool.submit(self._drop, name))

    @staticmethod
    def _drop(name: str) -> None:
        admin = _admin_engine()
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()

    def finish(self) -> None:
        self.pool.shutdown(wait=True)
        for future in self.pending:
            future.result()  # a drop that failed fails the session


@pytest.fixture(scope="session")
def _postgres_dropper():
    dropper = _Dropper()
    yield dropper
    dropper.finish()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "callengine.db"
        if _migrated_copy_wanted(request):
            create_private_file(path)  # 0600, as a new database file would be
            shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()
