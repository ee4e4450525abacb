"""The lab's several servers, without Asterisk: their ports, the carrier's view, bad input."""

from __future__ import annotations

import pytest

from callengine import cli
from callengine.lab import asterisk_conf, carrier_cdr
from callengine.lab.lab import LabPorts


@pytest.fixture
def lab_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLENGINE_LAB_CACHE", str(tmp_path))
    monkeypatch.setenv("CALLENGINE_LAB_PORT_BASE", "18200")
    return tmp_path


def test_server_one_keeps_the_ports_of_the_single_server_lab():
    ports = LabPorts.from_base(15000)
    assert ports == LabPorts()  # the lab every existing test and the demo use
    first = ports.server(1)
    assert (first.sip, first.ami, first.agi) == (15060, 15038, 15073)
    second = LabPorts.from_base(18200).server(2)
    assert (second.sip, second.ami, second.agi) == (18360, 18338, 18373)


def test_the_carrier_tells_each_pbx_by_its_sip_port_and_drops_silent_calls():
    text = asterisk_conf.carrier_pjsip(18270, {"pbx": 18260, "pbx2": 18360})
    assert "[pbx2-identify]\ntype = identify\nendpoint = pbx2\nmatch = 127.0.0.1:18360" in text
    assert "[pbx-identify]\ntype = identify\nendpoint = pbx\nmatch = 127.0.0.1:18260" in text
    assert text.count(f"rtp_timeout = {asterisk_conf.CARRIER_RTP_TIMEOUT}\n") == 2


def test_a_carrier_cdr_line_names_the_pbx_the_call_came_from():
    call = carrier_cdr.parse_row(["PJSIP/pbx2-0000001f", "0912000001", "1796140650.755409",
                                  "", "1796140654.762140", "NO ANSWER"])
    assert (call.pbx, call.number, call.answer) == ("pbx2", "0912000001", None)
    assert call.end - call.start == pytest.approx(4.006731)


def test_lab_env_for_a_server_the_lab_does_not_have_says_how_many_it_has(lab_cache, capsys):
    assert cli.main(["lab", "env", "--server", "3"]) == 2
    assert "server 3: this lab has 1 server(s), numbered 1 to 1" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["lab", "up", "--servers", "0"],
                                  ["lab", "up", "--servers", "5"]])
def test_lab_up_refuses_a_server_count_it_cannot_run(lab_cache, capsys, argv):
    assert cli.main(argv) == 2
    assert "servers: " in capsys.readouterr().err
    assert not (lab_cache / "asterisk-sid-root").exists()  # refused before building anything


def test_a_server_number_that_is_not_a_number_is_named(lab_cache, capsys):
    with pytest.raises(SystemExit):
        cli.main(["lab", "kill", "--server", "two"])
    assert "'two' is not a server number" in capsys.readouterr().err
