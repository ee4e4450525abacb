"""Which process holds a listening port, read from Linux's /proc (for clear start-up errors)."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

PROC = Path("/proc")
_LISTEN = "0A"  # TCP state LISTEN in /proc/net/tcp


def _listening_inodes(host: str, port: int) -> set[str]:
    """Socket inodes listening on host:port (or on every address) over TCP."""
    inodes = set()
    wanted = {ipaddress.ip_address(host)} if host else set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            address_hex, port_hex = local.split(":")
            if state != _LISTEN or int(port_hex, 16) != port:
                continue
            address = _address(address_hex)
            if not wanted or address in wanted or address.is_unspecified:
                inodes.add(inode)
    return inodes


def _address(hex_value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    raw = bytes.fromhex(hex_value)
    # /proc prints each 32-bit word in host (little-endian) order.
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(words)


def listening_pid(host: str, port: int) -> int | None:
    """The pid of a process listening on host:port, if /proc lets us see it."""
    inodes = {f"socket:[{inode}]" for inode in _listening_inodes(host, port)}
    if not inodes:
        return None
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    return int(entry.name)
        except OSError:
            continue
    return None


def describe_process(pid: int, width: int = 120) -> str:
    """'pid N: its command line', shortened, for messages."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return f"pid {pid}"
    command = " ".join(raw.replace(b"\0", b" ").decode(errors="replace").split())
    return f"pid {pid}: {command[:width]}"


def port_holder(host: str, port: int) -> str | None:
    """Who holds host:port, as a phrase for an error message (None if unknown)."""
    pid = listening_pid(host, port)
    return describe_process(pid) if pid is not None else None
