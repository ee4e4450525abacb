"""The admin's /metrics and /healthz on their own loopback listener (never the public app)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from callengine.errors import ConfigError
from admin.metrics import serve
from tests.admin.test_imports_api import bearer, post_files, web_file
from tests.conftest import _admin_engine
from tests.unit.test_metrics import get, samples


@pytest.fixture
def listener(app):
    server = serve(app, "127.0.0.1", 0)
    host, port = server.address
    yield f"http://{host}:{port}"
    server.close()


@pytest.fixture
def token(make_user, accounts) -> str:
    return accounts.issue_token(make_user("staff", "lan").id).token


def scrape(listener: str) -> dict:
    status, body = get(f"{listener}/metrics")
    assert status == 200
    return samples(body)


def test_a_committed_import_counts_its_rows_and_the_requests(client, token, listener,
                                                             tmp_path):
    before = scrape(listener)
    assert before[("callengine_import_rows_total", frozenset({("result", "imported")}))] == 0
    preview = post_files(client, token, web_file(tmp_path), category="F1").json
    staged = scrape(listener)  # a preview alone imports nothing
    assert staged[("callengine_import_rows_total", frozenset({("result", "imported")}))] == 0
    committed = client.post(f"/api/v1/imports/{preview['id']}/commit", headers=bearer(token))
    assert committed.status_code == 200
    after = scrape(listener)
    assert after[("callengine_import_rows_total", frozenset({("result", "imported")}))] == 3
    assert after[("callengine_import_rows_total", frozenset({("result", "rejected")}))] == 1
    api = {("blueprint", "api")}
    assert after[("callengine_admin_requests_total", frozenset(api | {("status", "201")}))] == 1
    assert after[("callengine_admin_requests_total", frozenset(api | {("status", "200")}))] == 1
    assert after[("callengine_admin_request_seconds_count", frozenset(api))] == 2


def test_failed_sign_ins_are_counted(auth, make_user, listener):
    account = make_user("staff")
    assert auth.sign_in(account.username, "sai mật khẩu").status_code == 200
    assert auth.sign_in("nobody", "sai mật khẩu").status_code == 200
    assert auth.sign_in(account.username).status_code == 302
    assert scrape(listener)[("callengine_admin_login_failures_total", frozenset())] == 2


def test_refused_requests_are_counted_with_their_status(client, listener):
    assert client.get("/api/v1/imports").status_code == 401
    values = scrape(listener)
    assert values[("callengine_admin_requests_total",
                   frozenset({("blueprint", "api"), ("status", "401")}))] == 1


def test_the_public_app_does_not_serve_metrics_or_health(client):
    for path in ("/metrics", "/healthz"):
        response = client.get(path)
        assert response.status_code in (302, 401, 404)
        assert b"callengine_admin_requests" not in response.data


def _make_database_gone(db, database_url: str) -> None:
    """The SQLite file replaced by a folder, or the PostgreSQL database dropped."""
    db.engine.dispose()
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
        path.mkdir()
        return
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{database_url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def test_healthz_is_200_then_503_naming_the_database_once_it_is_gone(db, database_url,
                                                                     listener):
    status, body = get(f"{listener}/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok", "database": "ok"})
    _make_database_gone(db, database_url)
    status, body = get(f"{listener}/healthz")
    assert status == 503
    report = json.loads(body)
    assert report["status"] == "unhealthy"
    assert report["problems"][0].startswith("database: unreachable (")
    if database_url.startswith("sqlite"):
        shutil.rmtree(database_url.removeprefix("sqlite:///"))  # the fixture disposes it


def test_the_listener_port_taken_is_a_config_error_naming_the_setting(app, listener):
    port = int(listener.rsplit(":", 1)[1])
    with pytest.raises(ConfigError, match=f"admin_metrics_port: cannot listen on "
                       f"127.0.0.1:{port}"):
        serve(app, "127.0.0.1", port)
