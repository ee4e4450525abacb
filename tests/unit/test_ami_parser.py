"""Unit tests for the pure AMI parser."""

from __future__ import annotations

import pytest

from callengine.ami.parser import FrameReader, Message, build_action, parse_frames

HANGUP = b"Event: Hangup\r\nChannel: PJSIP/viettel-00000001\r\nCause: 17\r\n\r\n"


def test_given_two_frames_and_a_partial_one_when_parsed_then_tail_is_kept() -> None:
    buffer = HANGUP + b"Response: Success\r\nActionID: a1\r\n\r\n" + b"Event: Newch"

    result = parse_frames(buffer)

    assert [m.name for m in result.messages] == ["Hangup", "Success"]
    assert result.rest == b"Event: Newch"
    assert result.errors == []


def test_given_tail_when_rest_is_completed_then_frame_is_parsed() -> None:
    first = parse_frames(HANGUP[:20])
    assert first.messages == [] and first.rest == HANGUP[:20]

    second = parse_frames(first.rest + HANGUP[20:])

    assert second.messages[0].get("Cause") == "17"
    assert second.rest == b""


def test_given_frame_split_inside_terminator_when_parsed_then_waits_for_the_end() -> None:
    result = parse_frames(HANGUP[:-1])

    assert result.messages == []
    assert result.rest == HANGUP[:-1]


def test_given_repeated_chanvariable_when_parsed_then_all_variables_are_collected() -> None:
    raw = (
        b"Event: Newchannel\r\nUniqueid: att-1\r\n"
        b"ChanVariable: ATTEMPT_ID=att-1\r\nChanVariable: CAMPAIGN=7\r\n"
        b"ChanVariable(SURVEY): daily\r\n\r\n"
        b"Event: Hangup\r\nUniqueid: att-1\r\n\r\n"
    )

    result = parse_frames(raw)

    newchannel = result.messages[0]
    assert newchannel.variables == {"ATTEMPT_ID": "att-1", "CAMPAIGN": "7", "SURVEY": "daily"}
    assert newchannel.get_all("chanvariable") == ["ATTEMPT_ID=att-1", "CAMPAIGN=7"]
    assert result.messages[1].name == "Hangup"  # the pyst2 wedge: parsing goes on


def test_given_value_with_colons_when_parsed_then_value_is_kept_whole() -> None:
    result = parse_frames(b"Event: UserEvent\r\nData: a:b: c\r\nEmpty:\r\nNoSpace:x\r\n\r\n")

    message = result.messages[0]
    assert message.get("Data") == "a:b: c"
    assert message.get("Empty") == ""
    assert message.get("NoSpace") == "x"


def test_given_lf_only_framing_when_parsed_then_frames_are_split() -> None:
    result = parse_frames(b"Event: A\nX: 1\n\nEvent: B\r\nX: 2\r\n\r\nEvent: C\n")

    assert [(m.name, m.get("X")) for m in result.messages] == [("A", "1"), ("B", "2")]
    assert result.rest == b"Event: C\n"


def test_given_garbage_line_when_parsed_then_frame_error_and_next_frame_parsed() -> None:
    garbage = b"Event: Oops\r\nthis line has no separator\r\n\r\n"

    result = parse_frames(garbage + HANGUP)

    assert len(result.errors) == 1
    assert "this line has no separator" in result.errors[0].reason
    assert result.errors[0].raw == garbage[:-4]
    assert [m.name for m in result.messages] == ["Hangup"]


def test_given_very_long_bad_line_when_parsed_then_reason_is_truncated() -> None:
    result = parse_frames(b"x" * 500 + b"\r\n\r\n")

    reason = result.errors[0].reason
    assert "x" * 80 in reason
    assert "x" * 81 not in reason


def test_given_empty_frame_when_parsed_then_frame_error() -> None:
    result = parse_frames(b"\r\n\r\n" + HANGUP)

    assert [e.reason for e in result.errors] == ["frame has no headers"]
    assert result.messages[0].name == "Hangup"


def test_given_unterminated_data_beyond_limit_when_parsed_then_dropped_with_error() -> None:
    result = parse_frames(HANGUP + b"Event: Huge\r\nData: " + b"y" * 200, max_frame_bytes=100)

    assert [m.name for m in result.messages] == ["Hangup"]
    assert result.errors[0].reason == "frame larger than 100 bytes"
    assert result.rest == b""


def test_given_invalid_utf8_when_parsed_then_replacement_character_is_used() -> None:
    result = parse_frames(b"Event: UserEvent\r\nName: Nguy\xff\r\n\r\n")

    assert result.messages[0].get("Name") == "Nguy\ufffd"


def test_message_accessors() -> None:
    message = Message((("Response", "Error"), ("ActionID", "42"), ("Message", "m1"),
                       ("message", "m2")))

    assert message.kind == "response"
    assert message.name == "Error"
    assert message.action_id == "42"
    assert message.get("MESSAGE") == "m1"
    assert message.get("missing", "d") == "d"
    assert message.get_all("Message") == ["m1", "m2"]
    assert message.as_dict() == {"Response": "Error", "ActionID": "42", "Message": "m1",
                                 "message": "m2"}
    assert Message((("Event", "Hangup"),)).kind == "event"
    assert Message((("Foo", "bar"),)).kind == "unknown"
    assert Message(()).action_id is None


def test_given_headers_when_build_action_then_crlf_frame_in_order() -> None:
    raw = build_action("Originate", [("Variable", "A=1"), ("Variable", "B=2")])

    assert raw == b"Action: Originate\r\nVariable: A=1\r\nVariable: B=2\r\n\r\n"


@pytest.mark.parametrize("key, value", [
    ("Channel", "PJSIP/1\r\nAction: Command"),
    ("Channel", "PJSIP/1\nCommand: core stop now"),
    ("Evil\r\nAction", "x"),
    ("Bad:Key", "x"),
])
def test_given_crlf_in_header_when_build_action_then_value_error(key: str, value: str) -> None:
    with pytest.raises(ValueError, match="header"):
        build_action("Originate", [(key, value)])


def test_given_crlf_in_action_name_when_build_action_then_value_error() -> None:
    with pytest.raises(ValueError, match="Action"):
        build_action("Ping\r\nAction: Command", [])


# --- the incremental reader ------------------------------------------------------------------

def test_given_an_oversized_frame_when_it_ends_then_reading_resumes_at_the_next_frame() -> None:
    reader = FrameReader(max_frame_bytes=100)
    huge = b"Event: Huge\r\nData: " + b"y" * 300

    dropped = reader.feed(HANGUP + huge[:150])
    resumed = reader.feed(huge[150:] + b"\r\nNotAHeader: tail of the huge frame\r\n\r\n" + HANGUP)

    assert [m.name for m in dropped.messages] == ["Hangup"]
    assert [e.reason for e in dropped.errors] == ["frame larger than 100 bytes"]
    # The rest of the huge frame is skipped, not parsed as a message of its own.
    assert resumed.errors == []
    assert [m.name for m in resumed.messages] == ["Hangup"]
    assert reader.pending == b""


def test_given_the_oversized_frame_end_split_across_reads_then_the_boundary_is_found() -> None:
    reader = FrameReader(max_frame_bytes=80)
    assert reader.feed(b"Event: Huge\r\nData: " + b"y" * 150 + b"\r\n\r").errors

    result = reader.feed(b"\n" + HANGUP)

    assert [m.name for m in result.messages] == ["Hangup"] and result.errors == []


def test_given_a_complete_frame_over_the_limit_then_it_is_dropped_and_the_next_kept() -> None:
    result = parse_frames(b"Event: Big\r\nData: " + b"z" * 200 + b"\r\n\r\n" + HANGUP,
                          max_frame_bytes=100)

    assert [e.reason for e in result.errors] == ["frame larger than 100 bytes"]
    assert [m.name for m in result.messages] == ["Hangup"]


def test_a_1_mb_frame_in_small_reads_searches_each_byte_about_once() -> None:
    frame = b"Event: UserEvent\r\nData: " + b"x" * (1 << 20) + b"\r\n\r\n"
    reader = FrameReader(max_frame_bytes=2 << 20)
    reads = [frame[i:i + 512] for i in range(0, len(frame), 512)]

    messages = [m for chunk in reads for m in reader.feed(chunk).messages]

    assert len(messages) == 1 and len(messages[0].get("Data")) == 1 << 20
    # Rescanning the buffer on every read would search about len(frame) * len(reads) / 2.
    assert reader.scanned <= len(frame) + 3 * len(reads)


def test_many_small_frames_in_one_read_are_searched_once() -> None:
    stream = HANGUP * 10_000
    reader = FrameReader()

    result = reader.feed(stream)

    assert len(result.messages) == 10_000
    assert reader.scanned == len(stream)
