"""Settings of spoken answers, and the dialplan side of the speech contract."""

import re
from pathlib import Path

import pytest

from callengine import contract
from callengine.errors import ConfigError
from callengine.settings import Settings, load_settings

DIALPLAN = (Path(__file__).parents[2] / "dialplans" / "extensions_callengine.conf").read_text()


def context(name: str) -> str:
    """The lines of one dialplan context."""
    match = re.search(rf"^\[{re.escape(name)}\]\n(.*?)(?=^\[|\Z)", DIALPLAN, re.M | re.S)
    assert match, name
    return match.group(1)


# --- settings ---------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("yes", True), ("no", False), ("1", True), ("0", False), ("true", True),
    ("false", False), ("TRUE", True), (" No ", False), ("on", True), ("off", False),
])
def test_speech_is_switched_by_the_usual_words(raw, expected):
    assert load_settings({"CALLENGINE_SPEECH": raw}).speech is expected


def test_speech_from_a_yaml_boolean(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("speech: no\n")  # YAML reads this as false
    assert load_settings({"CALLENGINE_CONFIG": str(config)}).speech is False
    config.write_text("speech: 'yes'\n")
    assert load_settings({"CALLENGINE_CONFIG": str(config)}).speech is True


def test_speech_is_on_by_default():
    settings = load_settings({})
    assert settings.speech is True
    assert settings.speech_recognizer == "viet-asr"


@pytest.mark.parametrize("raw", ["maybe", "2", "có", "yes please"])
def test_a_bad_speech_switch_is_one_line_naming_the_variable(raw):
    with pytest.raises(ConfigError) as error:
        load_settings({"CALLENGINE_SPEECH": raw})
    message = str(error.value)
    assert "CALLENGINE_SPEECH" in message and raw in message and "\n" not in message


@pytest.mark.parametrize("raw, expected", [("0", 0.0), ("0.7", 0.7), ("1", 1.0)])
def test_speech_confidence_is_a_fraction(raw, expected):
    assert load_settings({"CALLENGINE_SPEECH_CONFIDENCE": raw}).speech_confidence == expected


@pytest.mark.parametrize("raw", ["1.5", "-0.1", "70", "high", "50%"])
def test_speech_confidence_out_of_range_is_refused(raw):
    with pytest.raises(ConfigError) as error:
        load_settings({"CALLENGINE_SPEECH_CONFIDENCE": raw})
    assert "CALLENGINE_SPEECH_CONFIDENCE" in str(error.value)
    assert "\n" not in str(error.value)


def test_speech_confidence_out_of_range_in_the_config_file_is_refused(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("speech_confidence: 2\n")
    with pytest.raises(ConfigError, match="speech_confidence"):
        load_settings({"CALLENGINE_CONFIG": str(config)})


@pytest.mark.parametrize("name", ["recordings_dir", "greetings_dir", "asterisk_root"])
def test_a_relative_folder_for_asterisk_is_refused(name):
    with pytest.raises(ConfigError) as error:
        load_settings({f"CALLENGINE_{name.upper()}": "spool/callengine"})
    assert name in str(error.value) and "spool/callengine" in str(error.value)


def test_speech_settings_from_the_environment():
    settings = load_settings({"CALLENGINE_SPEECH_WORKERS": "3",
                              "CALLENGINE_SPEECH_REPLY_TIMEOUT": "1500ms",
                              "CALLENGINE_SPEECH_RECOGNIZER": "vosk",
                              "CALLENGINE_VOSK_MODEL": "/opt/vosk-model-small-vn-0.4",
                              "CALLENGINE_AGI_PORT": "4600"})
    assert settings.speech_workers == 3
    assert settings.speech_reply_timeout == 1.5
    assert settings.speech_recognizer == "vosk"
    assert settings.vosk_model == Path("/opt/vosk-model-small-vn-0.4")
    assert settings.agi_port == 4600


def test_on_engine_host_maps_a_path_into_the_lab_chroot():
    settings = load_settings({"CALLENGINE_ASTERISK_ROOT": "/var/cache/callengine/root",
                              "CALLENGINE_RECORDINGS_DIR": "/opt/lab/answers"})
    assert settings.on_engine_host(settings.recordings_dir) == \
        Path("/var/cache/callengine/root/opt/lab/answers")


def test_on_engine_host_is_the_same_path_without_a_chroot():
    settings = Settings()
    assert settings.on_engine_host(settings.recordings_dir) == \
        Path("/var/spool/asterisk/callengine")
    assert settings.on_engine_host(settings.greetings_dir) == settings.greetings_dir


def test_effective_agi_address():
    assert Settings().effective_agi_address == "127.0.0.1:4573"
    assert Settings(agi_host="0.0.0.0", agi_port=4600).effective_agi_address == "0.0.0.0:4600"
    # Asterisk on another host reaches the engine by another name than it listens on.
    behind = load_settings({"CALLENGINE_AGI_HOST": "0.0.0.0",
                            "CALLENGINE_AGI_ADDRESS": "engine.cdc.local:4573"})
    assert behind.effective_agi_address == "engine.cdc.local:4573"


# --- the dialplan's side of the speech contract -----------------------------------------

def test_the_dialplan_asks_the_recognize_script_with_attempt_question_and_try():
    listen = context("callengine-listen")
    calls = re.findall(r"AGI\(agi://\$\{(\w+)\}/(\w+),([^)]*)\)", listen)
    assert calls == [(contract.VAR_AGI, contract.AGI_RECOGNIZE,
                      "${CE_ATTEMPT},${CE_QID},${CE_TRY}")]
    assert contract.VAR_ATTEMPT == "CE_ATTEMPT"


def test_the_dialplan_presets_the_pending_key_before_the_agi_and_reads_it_after():
    lines = context("callengine-listen").splitlines()
    agi = next(i for i, line in enumerate(lines) if "AGI(agi://" in line)
    heard = "${" + contract.VAR_HEARD + "}"
    before = [i for i, line in enumerate(lines)
              if f"Set({contract.VAR_HEARD}={contract.KEY_PENDING}${{CE_TRY}})" in line]
    assert before and max(before) < agi, "CE_HEARD must hold ~<try> when the AGI fails"
    assert any(heard in line for line in lines[agi + 1:]), "CE_HEARD is not read after"


def test_the_dialplan_records_to_the_file_the_engine_recognises():
    listen = context("callengine-listen")
    [path] = re.findall(r"Set\(CE_REC=(\$\{CE_REC_DIR\}/[^)]+)\)", listen)
    assert path.startswith("${" + contract.VAR_RECORDINGS + "}/")
    name = path.split("/", 1)[1]
    assert name == contract.recording_name("${CE_ATTEMPT}", "${CE_QID}", "${CE_TRY}")
    assert "r(${CE_REC})" in listen  # MixMonitor records the resident's side to it


def test_the_hangup_handler_keeps_a_recording_in_progress_as_pending():
    end = context(contract.SURVEY_END_CONTEXT)
    pending = contract.pending_key("${CE_TRY}")
    assert f'${{CE_REC}}" != ""]?Set(CE_ANSWERS=${{CE_ANSWERS}}${{CE_QID}}={pending}' in end
    # What it writes is what the engine reads as a pending spoken answer of that try.
    assert contract.pending_try(contract.pending_key(2)) == 2
    assert contract.pending_try("2") is None and contract.pending_try("~") is None
