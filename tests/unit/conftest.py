"""Fixtures of the unit tests that run `callengine` commands against a database."""

from __future__ import annotations

import pytest


@pytest.fixture
def sqlite_url(tmp_path, monkeypatch):
    """A fresh SQLite database that the commands use (CALLENGINE_DATABASE_URL)."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.delenv("CALLENGINE_CONFIG", raising=False)
    monkeypatch.setenv("CALLENGINE_DATABASE_URL", url)
    return url


@pytest.fixture
def any_url(database_url, monkeypatch):
    """SQLite and the real PostgreSQL server."""
    monkeypatch.delenv("CALLENGINE_CONFIG", raising=False)
    monkeypatch.setenv("CALLENGINE_DATABASE_URL", database_url)
    return database_url
