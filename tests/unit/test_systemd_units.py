"""The systemd units in systemd/: hardened, secrets from root-only files, commands that exist,
and accepted by systemd-analyze verify."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from callengine.cli import build_parser, cmd_run
from callengine.settings import unknown_environment

UNITS = Path(__file__).resolve().parents[2] / "systemd"
SERVICES = sorted(UNITS.glob("*.service"))
HARDENING = {
    "User": "callengine", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
    "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
    "CapabilityBoundingSet": "", "AmbientCapabilities": "", "RestrictNamespaces": "yes",
    "RestrictSUIDSGID": "yes", "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
    "ProtectControlGroups": "yes", "LockPersonality": "yes", "Restart": "on-failure",
    "SystemCallArchitectures": "native", "UMask": "0027",
}


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """Sections -> key -> every value (systemd keys may repeat, so not configparser's dict)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{path.name}: {line!r} before any section"
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: {line!r} is not key=value"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_the_three_units_are_there():
    assert [p.name for p in SERVICES] == ["callengine-admin.service",
                                          "callengine-engine.service",
                                          "callengine-engine@.service"]


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_each_unit_is_hardened_and_reads_secrets_from_etc(path):
    service = parse_unit(path)["Service"]
    for key, value in HARDENING.items():
        assert service.get(key) == [value], f"{path.name}: {key}"
    families = set(service["RestrictAddressFamilies"][0].split())
    assert families == {"AF_INET", "AF_INET6", "AF_UNIX"}
    assert all(f.startswith("/etc/callengine/") for f in service["EnvironmentFile"])
    assert service["StateDirectory"][0].startswith("callengine")
    assert any(v.startswith("CALLENGINE_DATA_DIR=/var/lib/callengine")
               for v in service["Environment"])
    assert parse_unit(path)["Install"]["WantedBy"] == ["multi-user.target"]


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_each_units_command_is_a_callengine_command(path):
    program, *args = shlex.split(parse_unit(path)["Service"]["ExecStart"][0])
    assert Path(program).name == "callengine"
    parsed = build_parser().parse_args(args)
    expected = "cmd_admin" if "admin" in path.name else cmd_run.__name__
    assert parsed.func.__name__ == expected


def test_the_example_environment_files_name_only_real_settings():
    for example in UNITS.glob("*.env.example"):
        names = {line.split("=", 1)[0] for line in example.read_text().splitlines()
                 if line and not line.startswith("#")}
        assert names and unknown_environment({name: "" for name in names}) == []


def test_systemd_analyze_verify_accepts_the_units(tmp_path):
    assert shutil.which("systemd-analyze"), "systemd-analyze: scripts/test installs systemd"
    program = shutil.which("callengine")
    assert program, "the callengine command is not installed"
    copies = []
    for path in SERVICES:
        name = path.name.replace("@.", "@pbx2.")  # a template is verified as an instance
        copy = tmp_path / name
        copy.write_text(path.read_text().replace("/opt/callengine/venv/bin/callengine",
                                                 program))
        copies.append(str(copy))
    done = subprocess.run(["systemd-analyze", "verify", *copies], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == "", done.stderr
