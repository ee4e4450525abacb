"""Settings layering and validation; scenario parsing and its clear errors."""


import pytest

from callengine.errors import ConfigError
from callengine.lab import carrier_dialplan
from callengine.lab.scenario import load_scenario, parse_scenario
from callengine.settings import load_settings


def test_defaults_are_the_documented_ones():
    settings = load_settings({})
    assert str(settings.call_window) == "08:00:00-20:00:00"
    assert settings.ring_timeout == 30
    assert settings.max_attempts_per_day == 4
    assert (settings.retry_busy, settings.retry_no_answer, settings.retry_congestion,
            settings.retry_partial, settings.retry_rejected) == (900, 3600, 300, 1800, 7200)


def test_environment_overrides_config_file_which_overrides_defaults(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("ring_timeout: 45\nretry_busy: 10m\nmax_attempts_per_day: 3\n")
    settings = load_settings({"CALLENGINE_CONFIG": str(config),
                              "CALLENGINE_RING_TIMEOUT": "20",
                              "CALLENGINE_CALL_WINDOW": "07:30-17:00"})
    assert settings.ring_timeout == 20
    assert settings.retry_busy == 600
    assert settings.max_attempts_per_day == 3
    assert str(settings.call_window) == "07:30:00-17:00:00"


@pytest.mark.parametrize("env, named", [
    ({"CALLENGINE_RING_TIMEOUT": "abc"}, "CALLENGINE_RING_TIMEOUT"),
    ({"CALLENGINE_CALL_WINDOW": "20:00-08:00"}, "CALLENGINE_CALL_WINDOW"),
    ({"CALLENGINE_CALL_WINDOW": "eight to five"}, "CALLENGINE_CALL_WINDOW"),
    ({"CALLENGINE_MAX_ATTEMPTS_PER_DAY": "two"}, "CALLENGINE_MAX_ATTEMPTS_PER_DAY"),
    ({"CALLENGINE_TRUNKS": "[{\"name\": \"x\"}]"}, "CALLENGINE_TRUNKS"),
    ({"CALLENGINE_TRUNKS": "not json"}, "CALLENGINE_TRUNKS"),
    ({"CALLENGINE_DEFAULT_TRUNK": "nowhere"}, "default_trunk"),
])
def test_a_bad_setting_is_named_in_one_line(env, named):
    with pytest.raises(ConfigError) as error:
        load_settings(env)
    message = str(error.value)
    assert named in message and "\n" not in message


def test_unknown_keys_in_the_config_file_are_refused(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("ring_timout: 45\n")
    with pytest.raises(ConfigError, match="ring_timout"):
        load_settings({"CALLENGINE_CONFIG": str(config)})


def test_trunks_from_json_environment():
    settings = load_settings({"CALLENGINE_TRUNKS": '[{"name": "viettel", "endpoint": "vt", '
                              '"carriers": ["Viettel"], "max_channels": 30, "cps": 5}]',
                              "CALLENGINE_DEFAULT_TRUNK": "viettel"})
    assert settings.trunks[0].carriers == ("viettel",)
    assert settings.trunks[0].max_channels == 30


ISSUE_SCENARIO = """
default: no_answer
residents:
  "+84912345678": {answer_after: 2, keys: ["1", "2", "2", "-", "2", "2"]}
  "+84987654321": busy
  "+84911111111": no_answer
  "+84922222222": reject
  "+84933333333": invalid
  "+84900000000": congestion
  "+84955555555": {answer_after: 1, keys: ["1"], hangup_after: 6}
  "+84966666666": {answer_after: 1, silent: true}
  "+84944444444": {answer_after: 1, say: ["answer.wav"]}
"""


def test_the_issue_scenario_format_parses(tmp_path):
    (tmp_path / "answer.wav").write_bytes(b"RIFF")
    path = tmp_path / "s.yaml"
    path.write_text(ISSUE_SCENARIO)
    scenario = load_scenario(path)
    assert scenario.residents["+84912345678"].keys == ("1", "2", "2", "-", "2", "2")
    assert scenario.residents["+84987654321"].kind == "busy"
    assert scenario.residents["+84955555555"].hangup_after == 6
    assert scenario.residents["+84966666666"].silent
    assert scenario.residents["+84944444444"].say == ((tmp_path / "answer.wav").resolve(),)


def test_rendered_carrier_dialplan_is_deterministic_and_uses_sip_codes(tmp_path):
    (tmp_path / "answer.wav").write_bytes(b"RIFF")
    scenario = parse_scenario(__import__("yaml").safe_load(ISSUE_SCENARIO), tmp_path)
    recordings = carrier_dialplan.all_recordings(scenario)
    first = carrier_dialplan.render(scenario, 2, recordings, "/lab/rec")
    assert first == carrier_dialplan.render(scenario, 2, recordings, "/lab/rec")
    assert "Playback(/lab/rec/say000-answer)" in first
    for code in ("486", "603", "404", "503"):
        assert f"PJSIPHangup({code})" in first
    # "-" sits through the question and its two re-prompts
    assert "Gosub(lab-listen,s,1(3))" in first


@pytest.mark.parametrize("raw, named", [
    ({"residents": {"+84912345678": "bussy"}}, "residents.+84912345678"),
    ({"residents": {"+84912345678": {"answer_afterr": 1}}}, "answer_afterr"),
    ({"residents": {"+84912345678": {"keys": ["12"]}}}, "keys"),
    ({"residents": {"+84912345678": {"answer_after": -1}}}, "answer_after"),
    ({"residents": {"12345": "busy"}}, "residents.12345"),
    ({"residents": {"+84912345678": {"say": ["missing.wav"]}}}, "missing.wav"),
    ({"default": "sometimes"}, "default"),
    ({"resident": {}}, "resident"),
    ({"trunks": {"vnpt": "broken"}}, "trunks.vnpt"),
])
def test_a_malformed_scenario_names_the_field(raw, named, tmp_path):
    with pytest.raises(ConfigError) as error:
        parse_scenario(raw, tmp_path)
    assert named in str(error.value)


def test_monitoring_periods_are_settings_passed_to_the_import():
    settings = load_settings({"CALLENGINE_MONITORING_DAYS_F2": "10"})
    assert settings.monitoring_days() == {"returnee": 14, "F1": 14, "F2": 10}
