"""The lab: real Asterisk 22 instances on loopback, 'pbx' (the CDC) and 'carrier'.

The pbx loads the project's own dialplans/ and sounds/; the carrier plays the residents of a
scenario. `servers` > 1 adds pbx2, pbx3 ... (each its own SIP, AMI and FastAGI ports, answers,
greetings and CDR file, one engine each) towards the one carrier. All run from the cached sid
root (rootfs.py); nothing listens beyond 127.0.0.1.
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
from callengine.lab import asterisk_conf, carrier_cdr, carrier_dialplan, rootfs
from callengine.lab.scenario import Scenario, load_scenario, parse_scenario

REPO = Path(__file__).resolve().parents[2]
LAB_DIR = "/srv/callengine-lab"  # inside the root; a lab on other ports gets its own folder
CARRIER = "carrier"
MAX_SERVERS = 4
SERVER_PORT_STRIDE = 100  # server K's pbx ports: server 1's + (K - 1) x this
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
        return cls.from_base(int(os.environ.get("CALLENGINE_LAB_PORT_BASE", "15000")))

    @classmethod
    def from_base(cls, base: int) -> LabPorts:
        return cls(base + 60, base + 70, base + 38, base + 39, base + 73)

    def server(self, number: int) -> ServerPorts:
        """The ports of pbx server `number` (1 = pbx_sip, pbx_ami, engine_agi)."""
        shift = SERVER_PORT_STRIDE * (number - 1)
        return ServerPorts(self.pbx_sip + shift, self.pbx_ami + shift, self.engine_agi + shift)


@dataclass(frozen=True)
class ServerPorts:
    sip: int
    ami: int
    agi: int


def pbx_name(number: int) -> str:
    """Instance name of pbx server `number`: pbx, pbx2, pbx3 ..."""
    return "pbx" if number == 1 else f"pbx{number}"


def server_id(number: int) -> str:
    return "lab" if number == 1 else f"lab-{number}"


def check_servers(count: object) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_SERVERS:
        raise LabError(f"servers: {count!r} must be a whole number from 1 to {MAX_SERVERS}")
    return count


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
        return self.engine_config_of(1)

    def engine_config_of(self, number: int) -> Path:
        """The settings file of engine `number` (server 1: engine.yaml, K: engine-K.yaml)."""
        return self.state_dir / ("engine.yaml" if number == 1 else f"engine-{number}.yaml")

    @property
    def cdr_path(self) -> Path:
        return self.cdr_path_of(1)

    def cdr_path_of(self, number: int) -> Path:
        return self.host(f"{self.lab_dir}/{pbx_name(number)}/log/cdr-custom/callengine.csv")

    @property
    def carrier_cdr_path(self) -> Path:
        """Every call the carrier saw, from any pbx (carrier_cdr.py reads it)."""
        return self.host(f"{self.lab_dir}/{CARRIER}/log/cdr-custom/{carrier_cdr.FILE}")

    def _folder(self, kind: str, number: int) -> str:
        """answers/greetings of server `number`, inside the root."""
        return f"{self.lab_dir}/{kind}" if number == 1 else f"{self.lab_dir}/{kind}-{number}"

    def _conf(self, instance: str) -> str:
        return f"{self.lab_dir}/{instance}/etc/asterisk.conf"

    @property
    def servers(self) -> int:
        """How many pbx servers the last `up` configured (1 if never)."""
        try:
            return int((self.state_dir / "servers").read_text().strip())
        except (OSError, ValueError):
            return 1

    def instances(self, servers: int | None = None) -> list[str]:
        count = self.servers if servers is None else servers
        return [pbx_name(k) for k in range(1, count + 1)] + [CARRIER]

    def check_server(self, number: int) -> int:
        """`number` if it names a server of this lab, else a clear LabError."""
        count = self.servers
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= count:
            raise LabError(f"server {number!r}: this lab has {count} server(s), "
                           f"numbered 1 to {count} (lab up --servers N)")
        return number

    # --- commands ------------------------------------------------------------------------

    def up(self, scenario_path: Path | None = None, *, reprompts: int = 2,
           servers: int = 1) -> Path:
        """Start (or re-configure) the carrier and `servers` pbx instances; return server 1's
        engine config file (engine_config_of(K) for the others)."""
        servers = check_servers(servers)
        scenario = load_scenario(scenario_path) if scenario_path else default_scenario()
        rootfs.ensure_root(self.cache_dir, self.log)
        rootfs.isolate_network_names(self.root)
        secret = self._secret()
        for number in range(servers + 1, MAX_SERVERS + 1):  # fewer servers than last time
            self._stop(pbx_name(number))
        for number in range(1, servers + 1):
            self._write_pbx(secret, number)
        self._write_carrier(scenario, reprompts, servers)
        started = []
        try:
            for instance in self.instances(servers):
                if self.running(instance):
                    self._cli(instance, "core reload")
                else:
                    self._start(instance)
                    started.append(instance)
            for instance in self.instances(servers):
                self._wait_booted(instance)
        except BaseException:
            for instance in started:  # leave nothing half-started behind
                self._stop(instance)
            raise
        (self.state_dir / "servers").write_text(f"{servers}\n")
        for number in range(1, servers + 1):
            self._write_engine_config(secret, number)
        return self.engine_config

    def down(self) -> None:
        for instance in self.instances(MAX_SERVERS):  # whatever an earlier `up` started
            self._stop(instance)

    def kill(self, number: int) -> int:
        """SIGKILL pbx server `number`'s Asterisk (a crash, not a clean stop); its pid."""
        instance = pbx_name(self.check_server(number))
        pid = self._pid(instance)
        if pid is None:
            raise LabError(f"{instance}: Asterisk is not running")
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while self._pid(instance) is not None:
            if time.monotonic() > deadline:
                raise LabError(f"{instance}: Asterisk (pid {pid}) survived SIGKILL")
            time.sleep(0.05)
        return pid

    def pid(self, instance: str) -> int | None:
        """The pid of a running instance (benchmarks read its CPU time)."""
        return self._pid(instance)

    def status(self) -> dict[str, str]:
        running = [k for k in range(1, MAX_SERVERS + 1) if self.running(pbx_name(k))]
        names = self.instances(max([self.servers, *running]))
        if not rootfs.is_ready(self.root):
            return {name: "not built" for name in names}
        return {name: "running" if self.running(name) else "stopped" for name in names}

    def point_trunk(self, endpoint: str, port: int | None) -> None:
        """Re-point server 1's trunk aor contact to 127.0.0.1:port (None: back to the carrier)
        and reload PJSIP; Asterisk's qualify then finds out whether it answers."""
        if port is None:
            self.contact_ports.pop(endpoint, None)
        else:
            self.contact_ports[endpoint] = port
        self._write(pbx_name(1), {"pjsip.conf": self._pbx_pjsip(1)})
        self._cli(pbx_name(1), "module reload res_pjsip.so")

    def _pbx_pjsip(self, number: int) -> str:
        contacts = self.contact_ports if number == 1 else {}
        return asterisk_conf.pbx_pjsip(self.ports.server(number).sip, self.ports.carrier_sip,
                                       [t[1] for t in LAB_TRUNKS], QUALIFY, contacts)

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

    def _base_files(self, instance: str, rtp_start: int) -> dict[str, str]:
        paths = asterisk_conf.InstancePaths(f"{self.lab_dir}/{instance}")
        for sub in ("etc", "lib", "spool", "run", "log", "log/cdr-custom"):
            self.host(paths.sub(sub)).mkdir(parents=True, exist_ok=True)
        return {
            "asterisk.conf": asterisk_conf.asterisk_conf(
                paths, instance, rootfs.module_dir(self.root)),
            "modules.conf": asterisk_conf.modules_conf(),
            "logger.conf": asterisk_conf.logger_conf(),
            "rtp.conf": f"[general]\nrtpstart={rtp_start}\nrtpend={rtp_start + 999}\n",
        }

    def _write(self, instance: str, files: dict[str, str]) -> None:
        etc = self.host(f"{self.lab_dir}/{instance}/etc")
        for name, text in files.items():
            (etc / name).write_text(text)

    def _write_pbx(self, secret: str, number: int) -> None:
        ports = self.ports.server(number)
        # RTP: pbx 20000-20999, carrier 21000-21999, pbx2 22000-22999 ...
        files = self._base_files(pbx_name(number), 20000 if number == 1 else 20000 + 1000 * number)
        dialplans = self.repo / "dialplans"
        for name in ("extensions_callengine.conf", "cdr.conf", "cdr_custom.conf"):
            files[name] = (dialplans / name).read_text()
        files["manager.conf"] = render_template(
            (dialplans / "manager_callengine.conf.template").read_text(),
            AMI_PORT=ports.ami, AMI_USERNAME="callengine", AMI_SECRET=secret)
        files["extensions.conf"] = (
            f"[globals]\nCE_SOUNDS={self.lab_dir}/sounds/vi\n\n"
            "#include extensions_callengine.conf\n")
        files["pjsip.conf"] = self._pbx_pjsip(number)
        self._write(pbx_name(number), files)
        for folder in ("answers", "greetings"):
            self.host(self._folder(folder, number)).mkdir(parents=True, exist_ok=True)
        if number == 1:
            sounds = self.host(f"{self.lab_dir}/sounds/vi")  # shared by every pbx
            shutil.rmtree(sounds, ignore_errors=True)
            shutil.copytree(self.repo / "sounds" / "vi", sounds)

    def _write_carrier(self, scenario: Scenario, reprompts: int, servers: int) -> None:
        files = self._base_files(CARRIER, 21000)
        recordings = carrier_dialplan.all_recordings(scenario)
        self._copy_recordings(recordings)
        files["extensions.conf"] = carrier_dialplan.render(
            scenario, reprompts, recordings, f"{self.lab_dir}/recordings")
        files["pjsip.conf"] = asterisk_conf.carrier_pjsip(
            self.ports.carrier_sip,
            {pbx_name(k): self.ports.server(k).sip for k in range(1, servers + 1)})
        files["manager.conf"] = asterisk_conf.observer_manager(self.ports.carrier_ami)
        files["cdr.conf"] = "[general]\nenable = yes\nunanswered = yes\ncongestion = yes\n"
        files["cdr_custom.conf"] = carrier_cdr.cdr_custom_conf()
        self._write(CARRIER, files)

    def _copy_recordings(self, recordings: dict) -> None:
        target = self.host(f"{self.lab_dir}/recordings")
        target.mkdir(parents=True, exist_ok=True)
        for source, name in recordings.items():
            _to_telephone_wav(source, target / f"{name}.wav")

    def _write_engine_config(self, secret: str, number: int) -> None:
        ports = self.ports.server(number)
        config = {
            "ami_host": "127.0.0.1",
            "ami_port": ports.ami,
            "ami_username": "callengine",
            "ami_secret": secret,
            "cdr_path": str(self.cdr_path_of(number)),
            "asterisk_root": str(self.root),
            "recordings_dir": self._folder("answers", number),
            "greetings_dir": self._folder("greetings", number),
            "agi_port": ports.agi,
            "server_id": server_id(number),
            "default_trunk": "default",
            "trunks": [
                {"name": name, "endpoint": endpoint, "carriers": carriers,
                 "max_channels": 30, "cps": 10}
                for name, endpoint, carriers in LAB_TRUNKS
            ],
        }
        path = self.engine_config_of(number)
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        path.chmod(0o600)

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
