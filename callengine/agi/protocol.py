"""The FastAGI wire format (pure): the request header Asterisk sends, commands, replies.

Asterisk opens a TCP connection per AGI() call and sends "agi_<name>: <value>" lines and a
blank line; the script then writes one command per line and reads one reply line each
("200 result=1"). "HANGUP" on its own line means the channel hung up meanwhile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

MAX_HEADER_LINES = 200
MAX_LINE = 4096
HANGUP_LINE = "HANGUP"
_REPLY = re.compile(r"^(\d{3})(?:[ -]result=(-?\d+))?")


class AgiProtocolError(ValueError):
    """The peer sent something that is not FastAGI."""


@dataclass(frozen=True)
class AgiRequest:
    """One AGI() call: the script (path of the agi:// URL) and its arguments."""

    script: str
    args: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def uniqueid(self) -> str:
        return self.env.get("agi_uniqueid", "")


def parse_header(lines: list[str]) -> AgiRequest:
    """The request from its header lines (without the blank line that ends it)."""
    env: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep or not name.startswith("agi_"):
            raise AgiProtocolError(f"not an AGI header line: {line[:60]!r}")
        env[name.strip()] = value.strip()
    try:
        script = env.get("agi_network_script") or urlsplit(env.get("agi_request", "")).path
    except ValueError:
        raise AgiProtocolError("AGI header with an agi_request that is not a URL") from None
    if not script.strip("/"):
        raise AgiProtocolError("AGI header without agi_network_script or agi_request")
    args = []
    for index in range(1, len(env) + 1):
        arg = env.get(f"agi_arg_{index}")
        if arg is None:
            break
        args.append(arg)
    return AgiRequest(script.strip("/").split("?")[0], tuple(args), env)


def quote(value: str) -> str:
    """An AGI command argument: double-quoted, no line breaks, inner quotes escaped."""
    clean = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + " ".join(clean.splitlines()) + '"'


def set_variable(name: str, value: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"not a channel variable name: {name!r}")
    return f"SET VARIABLE {name} {quote(value)}"


def parse_reply(line: str) -> tuple[int, int | None]:
    """(code, result) of a reply line; HANGUP is code 511 like a dead channel."""
    if line.strip() == HANGUP_LINE:
        return 511, None
    match = _REPLY.match(line.strip())
    if not match:
        raise AgiProtocolError(f"not an AGI reply: {line[:60]!r}")
    result = match.group(2)
    return int(match.group(1)), int(result) if result is not None else None
