"""The lab: two real Asterisk 22 instances on loopback, 'pbx' (the CDC) and 'carrier'.

The pbx loads the project's own dialplans/ and sounds/; the carrier plays the residents of a
scenario. Both run from the cached sid root (rootfs.py); nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from callengine.errors import LabError
from callengine.lab import asterisk_conf, carrier_dialplan, rootfs
from callengine.lab.scenario import Scenario, load_scenario, parse_scenario

REPO = Path(__file__).resolve().parents[2]
LAB_DIR = "/srv/callengine-lab"  # inside the root; a lab on other ports gets its own folder
INSTANCES = ("pbx", "carrier")
LAB_TRUNKS: tuple[tuple[str, str, list[str]], ...] = (  # (trunk, pbx endpoint, its carriers)
    ("viettel", "viettel", ["viettel"]),
    ("vnpt", "vnpt", ["vinaphone"]),
    ("default", "other", []),
)


QUALIFY = asterisk_conf.Qualify(frequency=2, timeout=1.0)  # short: tests wait on it


@dataclass(frozen=True)
class LabPorts:
    pbx_sip: int = 15060
    carrier_sip: int = 15070
    pbx_ami: int = 15038
    carrier_ami: int = 15039
    engine_agi: int = 15073  # the engine's FastAGI server (spoken answers)

    @classmethod
    def from_env(cls) -> LabPorts:
        base = int(os.environ.get("CALLENGINE_LAB_PORT_BASE", "15000"))
        return cls(base + 60, base + 70, base + 38, base + 39, base + 73)


class Lab:
    def __init__(self, cache_dir: Path | None = None, ports: LabPorts | None = None,
                 repo: Path = REPO, log=print) -> None:
        self.cache_dir = cache_dir or rootfs.default_cache_dir()
        self.root = rootfs.root_path(self.cache_dir)
        self.ports = ports or LabPorts.from_env()
        self.repo = repo
        self.log = log
        self.lab_dir = LAB_DIR if self.ports == LabPorts() else f"{LAB_DIR}-{self.ports.pbx_sip}"
        self.contact_ports: dict[str, int] = {}  # trunk endpoint -> where its aor points

    # --- paths -------------------------------------------------------------------------

    def host(self, inside: str) -> Path:
        """Host path of a path inside the root."""
        return self.root / inside.lstrip("/")

    @property
    def state_dir(self) -> Path:
        return self.host(f"{self.lab_dir}/state")

    @property
    def engine_config(self) -> Path:
        return self.state_dir / "engine.yaml"

    @property
    def cdr_path(self) -> Path:
        return self.host(f"{self.lab_dir}/pbx/log/cdr-custom/callengine.csv")

    def _conf(self, instance: str) -> str:
        return f"{self.lab_dir}/{instance}/etc/asterisk.conf"

    # --- commands ------------------------------------------------------------------------

    def up(self, scenario_path: Path | None = None, *, reprompts: int = 2) -> Path:
        """Start (or re-configure) both instances; return the engine config file."""
        scenario = load_scenario(scenario_path) if scenario_path else default_scenario()
        rootfs.ensure_root(self.cache_dir, self.log)
        rootfs.isolate_network_names(self.root)
        secret = self._secret()
        self._write_pbx(secret)
        self._write_carrier(scenario, reprompts)
        started = []
        try:
            for instance in INSTANCES:
                if self.running(instance):
                    self._cli(instance, "core reload")
                else:
                    self._start(instance)
                    started.append(instance)
            for instance in INSTANCES:
                self._wait_booted(instance)
        except BaseException:
            for instance in started:  # leave nothing half-started behind
                self._stop(instance)
            raise
        self._write_engine_config(secret)
        return self.engine_config

    def down(self) -> None:
        for instance in INSTANCES:
            self._stop(instance)

    def status(self) -> dict[str, str]:
        if not rootfs.is_ready(self.root):
            return {name: "not built" for name in INSTANCES}
        return {name: "running" if self.running(name) else "stopped" for name in INSTANCES}

    def point_trunk(self, endpoint: str, port: int | None) -> None:
        """Re-point a pbx trunk's aor contact to 127.0.0.1:port (None: back to the carrier)
        and reload PJSIP; Asterisk's qualify then finds out whether it answers."""
        if port is None:
            self.contact_ports.pop(endpoint, None)
        else:
            self.contact_ports[endpoint] = port
        self._write("pbx", {"pjsip.conf": self._pbx_pjsip()})
        self._cli("pbx", "module reload res_pjsip.so")

    def _pbx_pjsip(self) -> str:
        return asterisk_conf.pbx_pjsip(self.ports.pbx_sip, self.ports.carrier_sip,
                                       [t[1] for t in LAB_TRUNKS], QUALIFY, self.contact_ports)

    def cli(self, instance: str, command: str) -> str:
        """Run an Asterisk CLI command on an instance (lab control, not the dialer's path)."""
        return self._cli(instance, command)

    # --- configuration -------------------------------------------------------------------

    def _secret(self) -> str:
        path = self.state_dir / "ami-secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(16))
            path.chmod(0o600)
        return path.read_text().strip()

    def _base_files(self, instance: str) -> dict[str, str]:
        paths = asterisk_conf.InstancePaths(f"{self.lab_dir}/{instance}")
        for sub in ("etc", "lib", "spool", "run", "log", "log/cdr-custom"):
            self.host(paths.sub(sub)).mkdir(parents=True, exist_ok=True)
        return {
            "asterisk.conf": asterisk_conf.asterisk_conf(
                paths, instance, rootfs.module_dir(self.root)),
            "modules.conf": asterisk_conf.modules_conf(),
            "logger.conf": asterisk_conf.logger_conf(),
            "rtp.conf": "[general]\nrtpstart=20000\nrtpend=20999\n"
            if instance == "pbx" else "[general]\nrtpstart=21000\nrtpend=21999\n",
        }

    def _write(self, instance: str, files: dict[str, str]) -> None:
        etc = self.host(f"{self.lab_dir}/{instance}/etc")
        for name, text in files.items():
            (etc / name).write_text(text)

    def _write_pbx(self, secret: str) -> None:
        files = self._base_files("pbx")
        dialplans = self.repo / "dialplans"
        for name in ("extensions_callengine.conf", "cdr.conf", "cdr_custom.conf"):
            files[name] = (dialplans / name).read_text()
        files["manager.conf"] = render_template(
            (dialplans / "manager_callengine.conf.template").read_text(),
            AMI_PORT=self.ports.pbx_ami, AMI_USERNAME="callengine", AMI_SECRET=secret)
        files["extensions.conf"] = (
            f"[globals]\nCE_SOUNDS={self.lab_dir}/sounds/vi\n\n"
            "#include extensions_callengine.conf\n")
        files["pjsip.conf"] = self._pbx_pjsip()
        self._write("pbx", files)
        for folder in ("answers", "greetings"):
            self.host(f"{self.lab_dir}/{folder}").mkdir(parents=True, exist_ok=True)
        sounds = self.host(f"{self.lab_dir}/sounds/vi")
        shutil.rmtree(sounds, ignore_errors=True)
        shutil.copytree(self.repo / "sounds" / "vi", sounds)

    def _write_carrier(self, scenario: Scenario, reprompts: int) -> None:
        files = self._base_files("carrier")
        recordings = carrier_dialplan.all_recordings(scenario)
        self._copy_recordings(recordings)
        files["extensions.conf"] = carrier_dialplan.render(
            scenario, reprompts, recordings, f"{self.lab_dir}/recordings")
        files["pjsip.conf"] = asterisk_conf.carrier_pjsip(self.ports.carrier_sip,
                                                          self.ports.pbx_sip)
        files["manager.conf"] = asterisk_conf.observer_manager(self.ports.carrier_ami)
        files["cdr.conf"] = "[general]\nenable = no\n"
        self._write("carrier", files)

    def _copy_recordings(self, recordings: dict) -> None:
        target = self.host(f"{self.lab_dir}/recordings")
        target.mkdir(parents=True, exist_ok=True)
        for source, name in recordings.items():
            _to_telephone_wav(source, target / f"{name}.wav")

    def _write_engine_config(self, secret: str) -> None:
        config = {
            "ami_host": "127.0.0.1",
            "ami_port": self.ports.pbx_ami,
            "ami_username": "callengine",
            "ami_secret": secret,
            "cdr_path": str(self.cdr_path),
            "asterisk_root": str(self.root),
            "recordings_dir": f"{self.lab_dir}/answers",
            "greetings_dir": f"{self.lab_dir}/greetings",
            "agi_port": self.ports.engine_agi,
            "server_id": "lab",
            "default_trunk": "default",
            "trunks": [
                {"name": name, "endpoint": endpoint, "carriers": carriers,
                 "max_channels": 30, "cps": 10}
                for name, endpoint, carriers in LAB_TRUNKS
            ],
        }
        self.engine_config.write_text(yaml.safe_dump(config, sort_keys=False))
        self.engine_config.chmod(0o600)

    # --- processes -----------------------------------------------------------------------

    def _pid(self, instance: str) -> int | None:
        """The pid of this instance's Asterisk if it is alive (a zombie is not)."""
        pidfile = self.host(f"{self.lab_dir}/{instance}/run/asterisk.pid")
        try:
            pid = int(pidfile.read_text().strip())
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        alive = stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")
        ours = self._conf(instance).encode() in cmdline
        return pid if alive and ours else None

    def running(self, instance: str) -> bool:
        return self._pid(instance) is not None

    def _chroot(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run(["chroot", str(self.root), *args], capture_output=True,
                              text=True, timeout=timeout)

    def _cli(self, instance: str, command: str) -> str:
        result = self._chroot("asterisk", "-C", self._conf(instance), "-rx", command)
        if result.returncode != 0:
            raise LabError(f"{instance}: '{command}' failed: {result.stderr.strip()}")
        return result.stdout

    def _start(self, instance: str) -> None:
        log = self.host(f"{self.lab_dir}/{instance}/log/messages.log")
        log.unlink(missing_ok=True)
        result = self._chroot("asterisk", "-C", self._conf(instance))
        if result.returncode != 0:
            raise LabError(f"{instance}: Asterisk did not start: {result.stderr.strip()}")
        deadline = time.monotonic() + 10  # the daemon writes its pid file after forking
        while self._pid(instance) is None:
            if time.monotonic() > deadline:
                raise LabError(f"{instance}: Asterisk exited at start; see {self._log(instance)}")
            time.sleep(0.05)

    def _wait_booted(self, instance: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = self._chroot("asterisk", "-C", self._conf(instance), "-rx",
                                  "core waitfullybooted", timeout=timeout)
            if result.returncode == 0:
                self._check_loaded(instance)
                return
            time.sleep(0.2)
        raise LabError(f"{instance}: Asterisk did not finish booting in {timeout:.0f} s")

    def _check_loaded(self, instance: str) -> None:
        output = self._cli(instance, "module show like chan_pjsip")
        if "chan_pjsip.so" not in output:
            raise LabError(f"{instance}: chan_pjsip did not load; see {self._log(instance)}")

    def _log(self, instance: str) -> Path:
        return self.host(f"{self.lab_dir}/{instance}/log/messages.log")

    def _stop(self, instance: str) -> None:
        pid = self._pid(instance)
        if pid is None:
            return
        try:
            self._chroot("asterisk", "-C", self._conf(instance), "-rx", "core stop now",
                         timeout=10)
        except subprocess.TimeoutExpired:
            pass
        # A just-started Asterisk may not take console commands yet: signals then.
        for signum, grace in ((None, 5), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            if signum is not None and self._pid(instance) is not None:
                os.kill(pid, signum)
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and self._pid(instance) is not None:
                time.sleep(0.1)
            if self._pid(instance) is None:
                return
        raise LabError(f"{instance}: Asterisk (pid {pid}) does not stop")


def render_template(text: str, **values: object) -> str:
    for key, value in values.items():
        text = text.replace(f"@{key}@", str(value))
    if "@" in "".join(line.split(";")[0] for line in text.splitlines()):
        raise LabError("a template placeholder was left unfilled")
    return text


def default_scenario() -> Scenario:
    return parse_scenario({"default": {"answer_after": 1, "keys": ["2"] * 6}}, REPO)


def _to_telephone_wav(source: Path, target: Path) -> None:
    """Convert a recording to 8 kHz mono 16-bit WAV, the format Asterisk plays."""
    result = subprocess.run(
        ["sox", str(source), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer",
         str(target)], capture_output=True, text=True)
    if result.returncode != 0:
        raise LabError(f"recording {source} cannot be converted: {result.stderr.strip()}")
