"""The server id survives a host rename; the dialer's own settings are checked."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

from callengine.errors import ConfigError
from callengine.identity import SERVER_ID_FILE, server_id
from callengine.settings import load_settings


def test_the_configured_server_id_wins(tmp_path):
    settings = load_settings({"CALLENGINE_SERVER_ID": "hoa-1", "CALLENGINE_DATA_DIR":
                              str(tmp_path)})
    assert server_id(settings) == "hoa-1"
    assert not (tmp_path / SERVER_ID_FILE).exists()


def test_without_a_setting_the_id_is_made_once_and_survives_a_host_rename(tmp_path,
                                                                          monkeypatch):
    settings = load_settings({"CALLENGINE_DATA_DIR": str(tmp_path / "data")})
    monkeypatch.setattr(socket, "gethostname", lambda: "pbx-thanhhoa")
    first = server_id(settings)
    monkeypatch.setattr(socket, "gethostname", lambda: "pbx-renamed")

    assert first.startswith("pbx-thanhhoa-") and server_id(settings) == first
    assert (tmp_path / "data" / SERVER_ID_FILE).read_text().strip() == first
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [SERVER_ID_FILE]


def test_processes_starting_at_once_agree_on_one_id(tmp_path):
    settings = load_settings({"CALLENGINE_DATA_DIR": str(tmp_path)})
    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(lambda _: server_id(settings), range(32)))
    assert len(ids) == 1


@pytest.mark.parametrize("env, named", [
    ({"CALLENGINE_SERVER_ID": "pbx 1\r\n"}, "server_id"),
    ({"CALLENGINE_SERVER_ID": "x" * 65}, "server_id"),
    ({"CALLENGINE_STALE_ATTEMPT_AGE": "2m"}, "stale_attempt_age"),
    ({"CALLENGINE_STALE_ATTEMPT_AGE": "soon"}, "CALLENGINE_STALE_ATTEMPT_AGE"),
])
def test_a_bad_dialer_setting_is_named_in_one_line(env, named):
    with pytest.raises(ConfigError) as error:
        load_settings(env)
    assert named in str(error.value) and "\n" not in str(error.value)
