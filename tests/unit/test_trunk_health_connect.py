"""Trunk health at AMI connect when Asterisk refuses DeviceStateList (res_manager_devicestate
not loaded, or an AMI user without write call/reporting): the fault is injected by the
fake AMI peer, since the real lab allows it. The engine says so once, connects and dials
as before, and still follows ContactStatus events."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

from callengine.ami.client import AmiClient
from callengine.cdr import CdrReader
from callengine.dialer.records import AttemptRecords
from callengine.dialer.retry import RetryPolicy
from callengine.dialer.routing import TrunkRouter
from callengine.dialer.service import Dialer
from callengine.dialer.window import Window
from callengine.questionnaire import load_questionnaire
from callengine.settings import DEFAULT_QUESTIONNAIRE, Settings, Trunk
from callengine.store.db import Database
from tests.fakeami import FakeAmi, frame, response
from tests.unit.test_dialer_faults import FakeClock

SETTINGS = Settings(trunks=(Trunk("viettel", "viettel", ("viettel",), 10, 1000),
                            Trunk("default", "other", (), 10, 1000)))


def refuse_device_states(action):
    name = (action.get("Action") or "").lower()
    if name == "devicestatelist":
        return [response(action, "Error", Message="Invalid/unknown command")]
    if name == "coreshowchannels":
        return [response(action, EventList="start"),
                frame(("Event", "CoreShowChannelsComplete"), ("ActionID", action.action_id),
                      ("EventList", "Complete"), ("ListItems", "0"))]
    return None


def test_without_device_states_the_engine_says_so_once_and_follows_events(tmp_path, caplog):
    db = Database(f"sqlite:///{tmp_path / 'callengine.db'}")
    window = Window(SETTINGS.call_window, SETTINGS.timezone, SETTINGS.window_close_guard)
    records = AttemptRecords(db, load_questionnaire(DEFAULT_QUESTIONNAIRE),
                             RetryPolicy.from_settings(SETTINGS), window, "server-a")
    dialer = Dialer(settings=SETTINGS, records=records, supervisor=SimpleNamespace(),
                    window=window, router=TrunkRouter(SETTINGS.trunks, "default", 3, 60),
                    cdr=CdrReader(tmp_path / "cdr.csv"), clock=FakeClock(),
                    survey_variables={})
    peer = FakeAmi(on_action=refuse_device_states)

    async def run() -> None:
        await peer.start()
        for _ in range(2):  # a reconnect: told once per process, not per connection
            client = AmiClient("127.0.0.1", peer.port, "callengine", "secret",
                               on_event=dialer.on_event)
            await client.connect()
            await dialer.on_connected(client)
            assert dialer._ready.is_set()
            await peer.push(frame(
                ("Event", "ContactStatus"), ("Privilege", "system,all"),
                ("URI", "sip:10.0.0.1"), ("ContactStatus", "Unreachable"), ("AOR", "viettel"),
                ("EndpointName", "viettel"), ("RoundtripUsec", "0")))
            for _ in range(100):
                if dialer.health.unavailable():
                    break
                await asyncio.sleep(0.01)
            await client.close()
        await peer.stop()

    with caplog.at_level(logging.WARNING, logger="callengine.dialer"):
        asyncio.run(run())
    told = [r.getMessage() for r in caplog.records if "device states not read" in r.getMessage()]
    assert len(told) == 1 and "res_manager_devicestate" in told[0]
    assert len(peer.actions("DeviceStateList")) == 2  # asked at each connect
    assert dialer.health.unavailable() == {"viettel"}
    trunk, _ = dialer._pick_trunk(SimpleNamespace(carrier="viettel"))
    assert trunk is not None and trunk.name == "default"
    out = [r.getMessage() for r in caplog.records if "out of rotation" in r.getMessage()]
    assert len(out) == 1
    db.dispose()
