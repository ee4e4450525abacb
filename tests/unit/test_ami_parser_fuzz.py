"""Fuzzing the AMI reader (hypothesis, bounded): any bytes in any reads, never a crash."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callengine.ami.parser import FrameReader, Message, parse_frames

BOUNDED = settings(max_examples=300, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow])

# Bytes rich in what matters to framing: CR, LF, colons, spaces, and invalid UTF-8.
wire_bytes = st.lists(st.sampled_from([b"\r", b"\n", b":", b" ", b"a", b"Event", b"\xff",
                                       b"\r\n\r\n", b"\x00"]) | st.binary(max_size=8),
                      max_size=60).map(b"".join)
header_names = st.text(st.characters(codec="ascii", categories=("L", "N")), min_size=1,
                       max_size=12)
header_values = st.text(st.characters(blacklist_characters="\r\n",
                                      blacklist_categories=("Cs",)), max_size=30)


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


def feed_all(chunks: list[bytes], limit: int) -> tuple[list[Message], int, FrameReader]:
    reader = FrameReader(limit)
    messages, errors = [], 0
    for chunk in chunks:
        result = reader.feed(chunk)
        messages += result.messages
        errors += len(result.errors)
    return messages, errors, reader


@BOUNDED
@given(data=wire_bytes, cuts=st.lists(st.integers(min_value=0), max_size=10),
       limit=st.integers(min_value=1, max_value=64))
def test_any_bytes_in_any_reads_never_crash_and_the_buffer_stays_bounded(data, cuts, limit):
    reader = FrameReader(limit)
    for chunk in split_at(data, cuts):
        result = reader.feed(chunk)
        for message in result.messages:
            assert message.headers and all(key for key, _ in message.headers)
        assert len(reader.pending) <= limit


@BOUNDED
@given(data=wire_bytes, cuts=st.lists(st.integers(min_value=0), max_size=10))
def test_how_the_stream_is_split_into_reads_does_not_change_what_is_parsed(data, cuts):
    whole = parse_frames(data)
    messages, errors, reader = feed_all(split_at(data, cuts), 1 << 20)

    assert messages == whole.messages
    assert errors == len(whole.errors)
    assert reader.pending == whole.rest


@BOUNDED
@given(frames=st.lists(st.lists(st.tuples(header_names, header_values), min_size=1,
                                max_size=5), max_size=6),
       cuts=st.lists(st.integers(min_value=0), max_size=10))
def test_well_formed_frames_come_back_with_their_headers(frames, cuts):
    raw = b"".join(
        "".join(f"{key}: {value}\r\n" for key, value in headers).encode() + b"\r\n"
        for headers in frames)

    messages, errors, _ = feed_all(split_at(raw, cuts), 1 << 20)

    expected = [tuple((key, value) for key, value in headers) for headers in frames]
    assert [m.headers for m in messages] == expected and errors == 0
