"""The admin's /metrics and /healthz on their own loopback listener (never the public app)."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
from sqlalchemy import text

from callengine.cli import main
from callengine.errors import ConfigError
from admin.metrics import serve
from tests.admin.conftest import SECRET_KEY
from tests.admin.test_imports_api import bearer, post_files, web_file
from tests.conftest import _admin_engine
from tests.unit.test_metrics import free_port, get, samples

REPO = Path(__file__).resolve().parents[2]


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


def _status(url: str) -> tuple[int, bytes]:
    """Status and body without following a redirect."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        connection.request("GET", parts.path)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def _admin_env(tmp_path, **values) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLENGINE_")}
    env.update(CALLENGINE_DATABASE_URL=f"sqlite:///{tmp_path / 'admin.db'}",
               CALLENGINE_DATA_DIR=str(tmp_path / "data"), CALLENGINE_ADMIN_SECRET_KEY=SECRET_KEY,
               **{f"CALLENGINE_{k.upper()}": str(v) for k, v in values.items()})
    return env


def test_the_admin_command_serves_metrics_on_their_own_listener_only(tmp_path):
    public, private = free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "callengine.cli", "admin"], cwd=REPO,
        env=_admin_env(tmp_path, admin_port=public, admin_metrics_port=private),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = _status(f"http://127.0.0.1:{private}/healthz")
                _status(f"http://127.0.0.1:{public}/sign-in")  # waitress listens after it
                break
            except OSError:
                assert process.poll() is None, process.stderr.read().decode()
                assert time.monotonic() < deadline, "the admin did not start listening"
                time.sleep(0.3)
        assert health[0] == 200 and json.loads(health[1])["status"] == "ok"
        for path in ("/metrics", "/healthz"):
            status, body = _status(f"http://127.0.0.1:{public}{path}")
            assert status in (302, 401, 404) and b"callengine_" not in body
        values = samples(_status(f"http://127.0.0.1:{private}/metrics")[1].decode())
        refused = sum(v for (name, labels), v in values.items()
                      if name == "callengine_admin_requests_total")
        assert refused == 3  # the sign-in page and the two requests above, counted by the app
    finally:
        process.terminate()
        process.wait(10)


def test_the_admin_command_stops_with_a_clear_error_when_its_metrics_port_is_taken(
        tmp_path, monkeypatch, capsys):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        for name, value in _admin_env(tmp_path, admin_metrics_port=port).items():
            if name.startswith("CALLENGINE_"):
                monkeypatch.setenv(name, value)
        monkeypatch.delenv("CALLENGINE_CONFIG", raising=False)
        assert main(["admin", "--port", str(free_port())]) == 2
    assert f"admin_metrics_port: cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
