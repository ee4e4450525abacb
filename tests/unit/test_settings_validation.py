"""Settings that cannot hurt: every bad value is refused in one line that names the setting,
whichever way it comes (config file, environment, overrides); the loader never crashes."""

from __future__ import annotations

import logging
import string

import pytest
import yaml
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from callengine.errors import ConfigError
from callengine.settings import Settings, load_settings


def refusal(env=None, **overrides) -> str:
    with pytest.raises(ConfigError) as error:
        load_settings(env or {}, **overrides)
    message = str(error.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("env, named", [
    ({"CALLENGINE_AMI_PING_INTERVAL": "0"}, "ami_ping_interval"),
    ({"CALLENGINE_AMI_PING_INTERVAL": "10ms"}, "ami_ping_interval"),
    ({"CALLENGINE_CAMPAIGN_POLL_INTERVAL": "0"}, "campaign_poll_interval"),
    ({"CALLENGINE_RING_TIMEOUT": "nan"}, "CALLENGINE_RING_TIMEOUT"),
    ({"CALLENGINE_RING_TIMEOUT": "inf"}, "CALLENGINE_RING_TIMEOUT"),
    ({"CALLENGINE_SPEECH_CONFIDENCE": "nan"}, "CALLENGINE_SPEECH_CONFIDENCE"),
    ({"CALLENGINE_IMPORT_MAX_COMPRESSION_RATIO": "inf"}, "IMPORT_MAX_COMPRESSION_RATIO"),
    ({"CALLENGINE_AMI_PORT": "0"}, "ami_port"),
    ({"CALLENGINE_AGI_PORT": "65536"}, "agi_port"),
    ({"CALLENGINE_ADMIN_PORT": "99999"}, "admin_port"),
    ({"CALLENGINE_TIMEZONE": "Asia/Thanh_Hoa"}, "timezone"),
    ({"CALLENGINE_TIMEZONE": "../../etc/passwd"}, "timezone"),
    ({"CALLENGINE_TIMEZONE": "Asia/" + "x" * 300}, "timezone"),  # too long for a path
    ({"CALLENGINE_LOG_LEVEL": "LOUD"}, "log_level"),
    ({"CALLENGINE_DATABASE_URL": "mysql://root@localhost/x"}, "database_url"),
    ({"CALLENGINE_DATABASE_URL": "not a url"}, "database_url"),
    ({"CALLENGINE_AMI_USERNAME": "callengine\r\nAction: Originate"}, "ami_username"),
    ({"CALLENGINE_SURVEY_CONTEXT": "survey\nx"}, "survey_context"),
    ({"CALLENGINE_SERVER_ID": "a\x00b"}, "server_id"),
    ({"CALLENGINE_AGI_ALLOWED_PEERS": "127.0.0.1, asterisk.local"}, "AGI_ALLOWED_PEERS"),
    ({"CALLENGINE_AGI_MAX_CONNECTIONS": "-1"}, "AGI_MAX_CONNECTIONS"),
    ({"CALLENGINE_TRUNKS": '[{"name": "default", "endpoint": "carrier\\r\\nAction: Hangup"}]'},
     "trunks[0].endpoint"),
    ({"CALLENGINE_TRUNKS": '[{"name": "default", "endpoint": "c", "caller_id": "1\\n2"}]'},
     "trunks[0].caller_id"),
    ({"CALLENGINE_TRUNKS": '[{"name": "default", "endpoint": "c", "dial_format": "e164\\n"}]'},
     "dial_format"),
    ({"CALLENGINE_TRUNKS": '[{"name": "default", "endpoint": "c", "cps": "nan"}]'}, "cps"),
])
def test_a_setting_that_could_hurt_is_refused_in_one_line_naming_it(env, named):
    assert named in refusal(env)


def test_overrides_are_held_to_the_same_rules():
    assert "speech_confidence" in refusal(speech_confidence=float("nan"))
    assert "attempt_grace" in refusal(attempt_grace=float("inf"))
    assert "ami_port" in refusal(ami_port=70000)


def test_a_secret_with_a_control_character_is_refused_without_echoing_it():
    message = refusal({"CALLENGINE_AMI_SECRET": "s3cr3t\r\nAction: Logoff"})
    assert "ami_secret" in message and "s3cr3t" not in message


def test_good_values_pass():
    settings = load_settings({"CALLENGINE_AMI_PING_INTERVAL": "0.5",
                              "CALLENGINE_TIMEZONE": "Asia/Bangkok",
                              "CALLENGINE_LOG_LEVEL": "debug",
                              "CALLENGINE_DATABASE_URL": "postgresql://u@127.0.0.1/db",
                              "CALLENGINE_AGI_ALLOWED_PEERS": "10.0.0.5, 192.168.1.0/24, ::1"})
    assert settings.ami_ping_interval == 0.5
    assert settings.agi_allowed_peers == ("10.0.0.5", "192.168.1.0/24", "::1")


def test_a_variable_that_matches_no_setting_is_warned_about(caplog):
    with caplog.at_level(logging.WARNING, "callengine.settings"):
        load_settings({"CALLENGINE_RING_TIMOUT": "20", "CALLENGINE_CONFIG": "",
                       "CALLENGINE_TEST_POSTGRES_URL": "x", "CALLENGINE_LAB_PORT_BASE": "1"})
    assert [r.getMessage() for r in caplog.records] == [
        "CALLENGINE_RING_TIMOUT: matches no setting; ignored"]


def test_a_key_given_twice_in_the_config_file_is_refused(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("ring_timeout: 45\nretry_busy: 10m\nring_timeout: 5\n")
    message = refusal({"CALLENGINE_CONFIG": str(config)})
    assert "'ring_timeout' is given twice (lines 1 and 3)" in message


def test_a_key_given_twice_inside_a_trunk_is_refused(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("trunks:\n  - name: default\n    endpoint: a\n    endpoint: b\n")
    assert "'endpoint' is given twice" in refusal({"CALLENGINE_CONFIG": str(config)})


def test_broken_yaml_is_one_line_with_its_line_number(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("ring_timeout: 45\ntrunks: [\n")
    assert "not valid YAML (line" in refusal({"CALLENGINE_CONFIG": str(config)})


# --- fuzz: whatever the values, the loader answers Settings or one ConfigError line ------

FUZZ = hypothesis_settings(max_examples=300, deadline=None,
                           suppress_health_check=[HealthCheck.function_scoped_fixture])
KEYS = [f.upper() for f in Settings.__dataclass_fields__]
VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["nan", "inf", "-1", "0", "1e309", "65536", "0.0001", "08:00-07:00",
                     "[]", "[{}]", "{}", "\r\n", "\x00", "sqlite:///x", "15m"]),
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)


def _loads_or_refuses(env: dict[str, str]) -> None:
    try:
        load_settings(env)
    except ConfigError as error:
        assert "\n" not in str(error)


@FUZZ
@given(st.dictionaries(st.sampled_from(KEYS).map(lambda k: f"CALLENGINE_{k}"), VALUES,
                       max_size=4))
def test_fuzz_environment(env):
    _loads_or_refuses(env)


YAML_TEXT = st.text(alphabet=string.printable + "ạố", max_size=200)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), VALUES)
NESTED = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.one_of(st.sampled_from(["name", "endpoint", "carriers", "cps",
                                               "caller_id", "dial_format", "max_channels"]),
                              SCALARS), inner, max_size=4)), max_leaves=8)
FIELD_NAMES = st.one_of(st.sampled_from([k.lower() for k in KEYS]), SCALARS)
YAML_DOCS = st.dictionaries(FIELD_NAMES, NESTED, max_size=4).map(
    lambda doc: yaml.safe_dump(doc, allow_unicode=True))


@FUZZ
@given(st.one_of(YAML_TEXT, YAML_DOCS))
def test_fuzz_config_file(tmp_path_factory, text):
    config = tmp_path_factory.mktemp("fuzz") / "c.yaml"
    config.write_text(text, encoding="utf-8")
    _loads_or_refuses({"CALLENGINE_CONFIG": str(config)})
