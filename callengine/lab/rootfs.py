"""The cached Debian sid root that runs Asterisk 22 (Debian 12 has no asterisk package)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
from pathlib import Path

from callengine.errors import LabError

PACKAGES = "asterisk,asterisk-core-sounds-en-wav"
MARKER = ".callengine-root-ok"


def default_cache_dir() -> Path:
    configured = os.environ.get("CALLENGINE_LAB_CACHE")
    if configured:
        return Path(configured)
    if os.geteuid() == 0:
        return Path("/var/cache/callengine")
    return Path.home() / ".cache" / "callengine"


def root_path(cache_dir: Path) -> Path:
    return cache_dir / "asterisk-sid-root"


def is_ready(root: Path) -> bool:
    return (root / MARKER).is_file()


def ensure_root(cache_dir: Path, log=print) -> Path:
    """The root, built once with debootstrap (about a minute) and reused afterwards."""
    root = root_path(cache_dir)
    if is_ready(root):
        return root
    _require_root_user()
    if shutil.which("debootstrap") is None:
        raise LabError("debootstrap is not installed: apt-get install -y debootstrap")
    building = cache_dir / "asterisk-sid-root.partial"
    shutil.rmtree(building, ignore_errors=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    log(f"building the Asterisk 22 root in {root} (Debian sid, about a minute)...")
    result = subprocess.run(
        ["debootstrap", "--variant=minbase", f"--include={PACKAGES}", "sid", str(building)],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-3:]
        raise LabError("debootstrap of Debian sid with Asterisk failed: " + " | ".join(tail))
    version = _asterisk_version(building)
    (building / MARKER).write_text(version + "\n")
    building.rename(root)
    log(f"Asterisk root ready: {version}")
    return root


def isolate_network_names(root: Path) -> None:
    """Resolve names inside the root on loopback only.

    Asterisk looks up the host name and A.ROOT-SERVERS.NET while setting up calls; with the
    host's resolver those queries leave the machine and can stall call set-up for seconds.
    """
    hostname = socket.gethostname()
    _replace(root / "etc" / "hosts",
             f"127.0.0.1 localhost {hostname}\n::1 localhost ip6-localhost\n")
    _replace(root / "etc" / "resolv.conf", "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")


def _replace(path: Path, text: str) -> None:
    """Write a file (or replace a symlink) in one step: labs starting at the same time share
    the root, and an Asterisk reading the file must never find it missing or half-written."""
    draft = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    draft.write_text(text)
    os.replace(draft, path)


def _asterisk_version(root: Path) -> str:
    result = subprocess.run(["chroot", str(root), "asterisk", "-V"], capture_output=True,
                            text=True)
    if result.returncode != 0 or "Asterisk" not in result.stdout:
        raise LabError(f"Asterisk does not run in {root}: {result.stderr.strip()}")
    return result.stdout.strip()


def module_dir(root: Path) -> str:
    """Asterisk's module folder inside the root (depends on the architecture)."""
    for candidate in sorted((root / "usr" / "lib").glob("*/asterisk/modules")):
        return "/" + str(candidate.relative_to(root))
    raise LabError(f"no Asterisk modules found under {root}/usr/lib")


def _require_root_user() -> None:
    if os.geteuid() != 0:
        raise LabError("the lab needs root (it builds and enters a chroot): run it with sudo")
