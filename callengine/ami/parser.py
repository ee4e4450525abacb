"""Pure AMI wire-format parsing and serialisation (no I/O)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

# Asterisk ends frames with CRLF CRLF; bare LF framing is tolerated too.
_FRAME_END = re.compile(rb"\r?\n\r?\n")
_SEPARATOR_MAX = 4  # bytes of the longest frame end, CRLF CRLF
_CHANVAR_PREFIX = "chanvariable("
_REASON_LINE_MAX = 80


@dataclass(frozen=True)
class Message:
    """One AMI frame: an event, a response or something unexpected."""

    headers: tuple[tuple[str, str], ...]

    @property
    def kind(self) -> str:
        """Return 'event', 'response' or 'unknown' from the first header."""
        if not self.headers:
            return "unknown"
        first = self.headers[0][0].lower()
        if first == "event":
            return "event"
        if first == "response":
            return "response"
        return "unknown"

    @property
    def name(self) -> str:
        """Return the event name or the response value ('Success', 'Error'...)."""
        return self.headers[0][1] if self.headers else ""

    @property
    def action_id(self) -> str | None:
        """Return the ActionID header, or None."""
        return self.get("ActionID")

    def get(self, key: str, default: str | None = None) -> str | None:
        """Return the first value of `key` (case-insensitive), or `default`."""
        wanted = key.lower()
        for name, value in self.headers:
            if name.lower() == wanted:
                return value
        return default

    def get_all(self, key: str) -> list[str]:
        """Return every value of `key` (case-insensitive), in order."""
        wanted = key.lower()
        return [value for name, value in self.headers if name.lower() == wanted]

    @property
    def variables(self) -> dict[str, str]:
        """Return channel variables from 'ChanVariable' headers, both forms."""
        result: dict[str, str] = {}
        for name, value in self.headers:
            lowered = name.lower()
            if lowered == "chanvariable":
                var, _, var_value = value.partition("=")
                result[var] = var_value
            elif lowered.startswith(_CHANVAR_PREFIX) and lowered.endswith(")"):
                result[name[len(_CHANVAR_PREFIX):-1]] = value
        return result

    def as_dict(self) -> dict[str, str]:
        """Return headers as a dict; the first occurrence of a key wins."""
        result: dict[str, str] = {}
        for name, value in self.headers:
            result.setdefault(name, value)
        return result


@dataclass(frozen=True)
class FrameError:
    """A frame that could not be parsed; it was skipped."""

    reason: str
    raw: bytes


@dataclass
class ParseResult:
    """Messages and skipped frames found; `rest` is the unconsumed tail (parse_frames only)."""

    messages: list[Message] = field(default_factory=list)
    errors: list[FrameError] = field(default_factory=list)
    rest: bytes = b""


class FrameReader:
    """Incremental framing of a byte stream: feed bytes as they arrive.

    Each byte is searched for a frame end about once (only the new bytes plus the
    separator's length are searched), so a large frame in small reads costs linear work.
    A frame over the limit is dropped, and reading resumes after the next frame end.
    """

    def __init__(self, max_frame_bytes: int = 1 << 20) -> None:
        self.max_frame_bytes = max_frame_bytes
        self.scanned = 0  # bytes searched for a frame end so far (bounded work, for tests)
        self._buffer = bytearray()
        self._scan_from = 0  # no frame end starts before this offset of the buffer
        self._discarding = False  # inside an oversized frame: skip to its end

    @property
    def pending(self) -> bytes:
        """The bytes of the unfinished frame (empty while skipping an oversized one)."""
        return b"" if self._discarding else bytes(self._buffer)

    def feed(self, data: bytes) -> ParseResult:
        """Add `data`; return the frames it completed and those skipped as garbage."""
        result = ParseResult()
        self._buffer += data
        pos = 0
        while match := self._search():
            if self._discarding:
                self._discarding = False  # resynchronised at the oversized frame's end
            else:
                self._take(bytes(self._buffer[pos:match.start()]), result)
            pos = self._scan_from = match.end()
        del self._buffer[:pos]
        self._scan_from = max(0, len(self._buffer) - _SEPARATOR_MAX + 1)
        if not self._discarding and len(self._buffer) > self.max_frame_bytes:
            result.errors.append(self._oversized(bytes(self._buffer[:_REASON_LINE_MAX])))
            self._discarding = True
        if self._discarding:
            # Keep only what may be the start of the frame end that ends the skipped frame.
            del self._buffer[:-(_SEPARATOR_MAX - 1)]
            self._scan_from = 0
        return result

    def _search(self) -> re.Match[bytes] | None:
        match = _FRAME_END.search(self._buffer, self._scan_from)
        self.scanned += (match.end() if match else len(self._buffer)) - self._scan_from
        return match

    def _take(self, raw: bytes, result: ParseResult) -> None:
        if len(raw) > self.max_frame_bytes:
            result.errors.append(self._oversized(raw[:_REASON_LINE_MAX]))
            return
        parsed = _parse_frame(raw)
        if isinstance(parsed, Message):
            result.messages.append(parsed)
        else:
            result.errors.append(parsed)

    def _oversized(self, head: bytes) -> FrameError:
        return FrameError(f"frame larger than {self.max_frame_bytes} bytes", head)


def parse_frames(buffer: bytes, max_frame_bytes: int = 1 << 20) -> ParseResult:
    """Split `buffer` into complete AMI frames and return them with the tail."""
    reader = FrameReader(max_frame_bytes)
    result = reader.feed(buffer)
    result.rest = reader.pending
    return result


def _parse_frame(raw: bytes) -> Message | FrameError:
    headers: list[tuple[str, str]] = []
    for line in raw.decode("utf-8", errors="replace").split("\n"):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            return FrameError(f"line without 'key: value' form: {_clip(line)!r}", raw)
        headers.append((key.strip(), value[1:] if value.startswith(" ") else value))
    if not headers:
        return FrameError("frame has no headers", raw)
    return Message(tuple(headers))


def _clip(text: str) -> str:
    return text if len(text) <= _REASON_LINE_MAX else text[:_REASON_LINE_MAX] + "..."


def build_action(name: str, headers: Iterable[tuple[str, str]]) -> bytes:
    """Serialise an action; raise ValueError on CR/LF (header injection)."""
    lines = []
    for key, value in (("Action", name), *headers):
        _check_header(key, value)
        lines.append(f"{key}: {value}\r\n")
    return ("".join(lines) + "\r\n").encode("utf-8")


def _check_header(key: str, value: str) -> None:
    if not key or ":" in key or "\r" in key or "\n" in key:
        raise ValueError(f"invalid AMI header name {key!r}")
    if "\r" in value or "\n" in value:
        raise ValueError(f"AMI header {key!r} value contains CR or LF")
