"""Fuzz of the FastAGI wire format: whatever a peer sends, the parser answers a request, a
reply or AgiProtocolError, never another exception; commands never carry a line break."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from callengine.agi import protocol
from callengine.agi.protocol import AgiProtocolError
from callengine.agi.server import _read_header

FUZZ = settings(max_examples=400, deadline=None)
NAMES = st.sampled_from(["agi_network_script", "agi_request", "agi_uniqueid", "agi_arg_1",
                         "agi_arg_2", "agi_arg_3", "agi_channel", "agi_x", "agi_", "bad"])
LINES = st.one_of(
    st.text(max_size=80),
    st.tuples(NAMES, st.sampled_from([":", ": ", "", "::"]), st.text(max_size=40)).map("".join),
)


@FUZZ
@given(st.lists(LINES, max_size=12))
def test_fuzz_header_lines(lines):
    try:
        request = protocol.parse_header(lines)
    except AgiProtocolError:
        return
    assert isinstance(request.script, str)
    assert all(isinstance(arg, str) for arg in request.args)


@FUZZ
@given(st.one_of(st.text(max_size=40),
                 st.tuples(st.integers(0, 999).map(str), st.sampled_from([" ", "-", ""]),
                           st.sampled_from(["result=", "result=-", "", "x="]),
                           st.text(alphabet="0123456789-x ", max_size=25)).map("".join)))
def test_fuzz_reply_line(line):
    try:
        code, result = protocol.parse_reply(line)
    except AgiProtocolError:
        return
    assert 0 <= code <= 999
    assert result is None or isinstance(result, int)


@FUZZ
@given(st.text())
def test_fuzz_a_quoted_value_is_one_line(value):
    command = protocol.set_variable("CE_HEARD", value)
    assert "\n" not in command and "\r" not in command
    assert command.startswith('SET VARIABLE CE_HEARD "') and command.endswith('"')


async def _header_of(data: bytes):
    reader = asyncio.StreamReader(limit=protocol.MAX_LINE)
    reader.feed_data(data)
    reader.feed_eof()
    return await _read_header(reader)


@FUZZ
@given(st.one_of(
    st.binary(max_size=600),
    st.lists(LINES, max_size=8).map(lambda ls: ("\n".join(ls) + "\n\n").encode("utf-8",
                                                                            "surrogatepass")),
    st.integers(1, 3).map(lambda n: b"agi_network_script: recognize\n" + b"x" * 5000 * n),
))
def test_fuzz_header_bytes_from_the_socket(data):
    """The server's header reader on raw bytes: a request or a protocol error, bounded."""
    try:
        request = asyncio.run(_header_of(data))
    except AgiProtocolError:
        return
    assert len(request.env) <= protocol.MAX_HEADER_LINES + 1
