"""The FastAGI wire format: the request header Asterisk sends, commands and replies."""

import pytest

from callengine.agi import protocol
from callengine.agi.protocol import AgiProtocolError

ATTEMPT = "5b0f8a52-6f1e-4c1b-9a57-2f0d3c9e7a10"

# What Asterisk 22 sends for AGI(agi://127.0.0.1:4573/recognize,<attempt>,fever,1).
ASTERISK_22_HEADER = f"""\
agi_network: yes
agi_network_script: recognize
agi_request: agi://127.0.0.1:4573/recognize
agi_channel: PJSIP/viettel-00000007
agi_language: vi
agi_type: PJSIP
agi_uniqueid: {ATTEMPT}
agi_version: 22.5.2
agi_callerid: 0912345678
agi_calleridname: Nguyễn Văn: A
agi_callingpres: 0
agi_callingani2: 0
agi_callington: 0
agi_callingtns: 0
agi_dnid: unknown
agi_rdnis: unknown
agi_context: callengine-listen
agi_extension: s
agi_priority: 10
agi_enhanced: 0.0
agi_accountcode: 
agi_threadid: 140234567890176
agi_arg_1: {ATTEMPT}
agi_arg_2: fever
agi_arg_3: 1""".splitlines()


def asterisk_parse_args(line: str) -> list[str]:
    """The argument splitter of Asterisk's res_agi.c (parse_args), transcribed."""
    args: list[str] = []
    current: list[str] | None = None
    quoted = escaped = False
    whitespace = True
    for char in line:
        if char == '"' and not escaped:
            quoted = not quoted
            if quoted and whitespace:
                current = []
                args.append("")
                whitespace = False
            escaped = False
        elif char in " \t" and not quoted and not escaped:
            whitespace = True
            if current is not None:
                args[-1] = "".join(current)
                current = None
        elif char == "\\" and not escaped:
            escaped = True
        else:
            if whitespace:
                current = []
                args.append("")
                whitespace = False
            current.append(char)
            escaped = False
    if current is not None:
        args[-1] = "".join(current)
    return args


def test_an_asterisk_22_header_gives_the_script_its_arguments_and_the_uniqueid():
    request = protocol.parse_header(ASTERISK_22_HEADER)
    assert request.script == "recognize"
    assert request.args == (ATTEMPT, "fever", "1")
    assert request.uniqueid == ATTEMPT
    assert request.env["agi_calleridname"] == "Nguyễn Văn: A"  # a colon inside a value
    assert request.env["agi_accountcode"] == ""


def test_without_agi_network_script_the_script_comes_from_the_request_url():
    lines = [line for line in ASTERISK_22_HEADER if not line.startswith("agi_network_script")]
    lines = [line.replace("agi://127.0.0.1:4573/recognize",
                          "agi://127.0.0.1:4573/recognize?debug=1") for line in lines]
    request = protocol.parse_header(lines)
    assert request.script == "recognize"
    assert request.args == (ATTEMPT, "fever", "1")


def test_arguments_stop_at_the_first_gap():
    request = protocol.parse_header(["agi_network_script: recognize", "agi_arg_1: a",
                                     "agi_arg_3: c"])
    assert request.args == ("a",)


def test_a_header_without_any_script_is_refused():
    with pytest.raises(AgiProtocolError, match="agi_network_script"):
        protocol.parse_header(["agi_channel: PJSIP/x-1", "agi_arg_1: a"])


@pytest.mark.parametrize("garbage", [
    "GET / HTTP/1.1",
    "hello there",
    "Host: 127.0.0.1:4573",
    "agi_network yes",
])
def test_a_line_that_is_not_agi_is_refused_and_named(garbage):
    with pytest.raises(AgiProtocolError) as error:
        protocol.parse_header(["agi_network: yes", garbage, "agi_network_script: recognize"])
    assert garbage in str(error.value)


def test_a_long_garbage_line_is_named_but_not_copied_whole():
    garbage = "x" * 5000
    with pytest.raises(AgiProtocolError) as error:
        protocol.parse_header([garbage])
    assert "xxxx" in str(error.value) and len(str(error.value)) < 200


@pytest.mark.parametrize("value", [
    "1", "?", "", "~2",
    'say "có"',
    "back\\slash",
    "trailing backslash\\",
    '\\"',
    "tab\there",
])
def test_quoted_values_reach_asterisk_unchanged(value):
    line = protocol.set_variable("CE_HEARD", value)
    assert asterisk_parse_args(line) == ["SET", "VARIABLE", "CE_HEARD", value]


@pytest.mark.parametrize("value", [
    "1\nSET VARIABLE CE_KEY 9",
    "1\r\nHANGUP",
    '1"\nEXEC Dial PJSIP/x',
    "1\rEXEC System rm",
])
def test_line_breaks_cannot_inject_a_second_command(value):
    line = protocol.set_variable("CE_HEARD", value)
    assert "\n" not in line and "\r" not in line
    args = asterisk_parse_args(line)
    assert args[:3] == ["SET", "VARIABLE", "CE_HEARD"] and len(args) == 4


def test_quote_escapes_quotes_and_backslashes():
    assert protocol.quote('a"b\\c') == '"a\\"b\\\\c"'
    assert protocol.quote("") == '""'


def test_set_variable_writes_one_command():
    assert protocol.set_variable("CE_HEARD", "1") == 'SET VARIABLE CE_HEARD "1"'


@pytest.mark.parametrize("name", [
    "", "1ABC", "CE HEARD", "CE_HEARD\nEXEC", 'CE"', "CE-HEARD", "CE_HEARD(x)", "CÉ",
])
def test_set_variable_refuses_a_name_that_is_not_a_variable(name):
    with pytest.raises(ValueError):
        protocol.set_variable(name, "1")


@pytest.mark.parametrize("line, parsed", [
    ("200 result=1", (200, 1)),
    ("200 result=0\n", (200, 0)),
    ("200 result=1 (timeout)", (200, 1)),
    ("200 result=-1", (200, -1)),
    ("510 Invalid or unknown command", (510, None)),
    ("511 result=-1 Command Not Permitted on a dead channel or intercept routine", (511, -1)),
    ("520-Invalid command syntax.  Proper usage follows:", (520, None)),
    ("HANGUP", (511, None)),
    ("HANGUP\r\n", (511, None)),
])
def test_replies(line, parsed):
    assert protocol.parse_reply(line) == parsed


@pytest.mark.parametrize("line", ["", "OK", "result=1", "20 result=1", "agi_arg_1: x"])
def test_a_reply_that_is_not_agi_is_refused(line):
    with pytest.raises(AgiProtocolError):
        protocol.parse_reply(line)
