"""Bad input gives one clear line naming what is wrong, and starts nothing."""

import os
import subprocess
import sys


def callengine(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "callengine.cli", *args],
                          capture_output=True, text=True, env={**os.environ, **(env or {})},
                          cwd=cwd, timeout=60)


def test_a_malformed_scenario_is_refused_before_anything_is_built_or_started(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    scenario = tmp_path / "bad.yaml"
    scenario.write_text('residents:\n  "+84912345678": {answer_aftr: 2}\n')
    result = callengine("lab", "up", "--scenario", str(scenario),
                        env={"CALLENGINE_LAB_CACHE": str(cache)})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "answer_aftr" in lines[0] and "+84912345678" in lines[0]
    assert list(cache.iterdir()) == []  # nothing built, nothing started


def test_a_malformed_setting_stops_the_engine_with_one_line(tmp_path):
    result = callengine("run", "--until-idle", env={
        "CALLENGINE_RING_TIMEOUT": "thirty", "CALLENGINE_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "callengine: CALLENGINE_RING_TIMEOUT: 'thirty' is not a duration "
        "(seconds, or e.g. 90s, 15m, 2h)"]


def test_a_missing_ami_secret_is_named(tmp_path):
    result = callengine("run", "--until-idle", env={
        "CALLENGINE_DATA_DIR": str(tmp_path), "CALLENGINE_AMI_SECRET": "",
        "CALLENGINE_CONFIG": ""})
    assert result.returncode == 2
    assert "ami_secret" in result.stderr


def test_an_invalid_phone_number_is_refused_with_a_vietnamese_reason(tmp_path):
    result = callengine("call", "1900 1234", env={
        "CALLENGINE_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", "CALLENGINE_CONFIG": ""})
    assert result.returncode == 1
    assert "dịch vụ" in result.stderr
    assert "1900 1234" not in result.stderr  # numbers are masked in output


def test_an_instance_that_cannot_start_leaves_nothing_running(tmp_path, monkeypatch):
    from callengine.errors import LabError
    from callengine.lab import lab as lab_module
    from callengine.lab.lab import Lab, LabPorts

    # A second lab on its own ports and folder (100 above this run's lab, so parallel workers
    # and other runs on their own port bases never share them); the carrier's start fails.
    base = LabPorts.from_env().pbx_sip - 60 + 100
    lab = Lab(ports=LabPorts(base + 60, base + 70, base + 38, base + 39, base + 73))
    real_start = Lab._start

    def failing_start(self, instance):
        if instance == "carrier":
            raise LabError("carrier: Asterisk did not start: simulated")
        real_start(self, instance)

    monkeypatch.setattr(lab_module.Lab, "_start", failing_start)
    assert not lab.running("pbx")
    try:
        lab.up()
    except LabError as exc:
        assert "carrier" in str(exc)
    else:
        raise AssertionError("lab.up() should have failed")
    assert not lab.running("pbx") and not lab.running("carrier")
