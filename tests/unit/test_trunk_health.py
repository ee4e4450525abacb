"""Trunk health from PJSIP qualify: AMI messages as Asterisk 22 sends them -> trunks in or
out of rotation, and the router skipping what is out."""

from __future__ import annotations

from callengine.ami.parser import Message
from callengine.dialer.routing import TrunkRouter
from callengine.dialer.trunk_health import TrunkHealth, describe
from callengine.settings import Trunk

TRUNKS = (
    Trunk("viettel", "viettel", ("viettel",)),
    Trunk("vnpt", "vnpt-ep", ("vinaphone",)),
    Trunk("default", "other"),
)


def event(status: str, uri: str = "sip:10.0.0.1:5060", aor: str = "viettel",
          endpoint: str = "viettel", rtt: str = "0") -> Message:
    return Message((("Event", "ContactStatus"), ("Privilege", "system,all"),
                    ("SystemName", "pbx"), ("URI", uri), ("ContactStatus", status),
                    ("AOR", aor), ("EndpointName", endpoint), ("RoundtripUsec", rtt)))


def device(endpoint: str, state: str, action_id: str | None = None) -> Message:
    """A DeviceStateChange as Asterisk 22 sends it: an event, or an item of DeviceStateList."""
    extra = (("ActionID", action_id),) if action_id else ()
    return Message((("Event", "DeviceStateChange"), ("Privilege", "call,all"),
                    ("Device", endpoint), ("State", state), *extra))


def test_an_unreachable_contact_takes_its_trunk_out_and_reachable_brings_it_back():
    health = TrunkHealth(TRUNKS)
    assert health.on_contact_status(event("Reachable", rtt="900")) == []  # was not out
    [out] = health.on_contact_status(event("Unreachable"))
    assert (out.trunk, out.available) == ("viettel", False)
    assert health.unavailable() == {"viettel"}
    assert health.on_contact_status(event("Unreachable")) == []  # said once
    [back] = health.on_contact_status(event("Reachable", rtt="1250"))
    assert (back.trunk, back.available, back.roundtrip_ms) == ("viettel", True, 1.25)
    assert health.unavailable() == frozenset()
    assert "back in rotation" in describe(back) and "1.2 ms" in describe(back)
    assert "out of rotation" in describe(out)


def test_a_trunk_stays_in_while_any_of_its_contacts_answers():
    health = TrunkHealth(TRUNKS)
    health.on_contact_status(event("Reachable", uri="sip:a"))
    health.on_contact_status(event("Reachable", uri="sip:b"))
    assert health.on_contact_status(event("Unreachable", uri="sip:a")) == []
    assert health.unavailable() == frozenset()
    [out] = health.on_contact_status(event("Unreachable", uri="sip:b"))
    assert not out.available
    assert health.on_contact_status(event("Removed", uri="sip:b")) == []  # a is still down
    [back] = health.on_contact_status(event("Reachable", uri="sip:a"))
    assert back.available


def test_a_contact_not_qualified_never_takes_a_trunk_out():
    # A contact re-pointed by `pjsip reload` is first NonQualified, then qualified.
    health = TrunkHealth(TRUNKS)
    health.on_contact_status(event("Unreachable", uri="sip:old"))
    assert health.unavailable() == {"viettel"}
    health.on_contact_status(event("NonQualified", uri="sip:new"))
    assert health.unavailable() == frozenset()  # one contact not known to be down
    [out] = health.on_contact_status(event("Removed", uri="sip:new"))
    assert out.available is False  # the only contact left is unreachable
    [back] = health.on_contact_status(event("Removed", uri="sip:old"))
    assert back.available  # no contact known to be down: the breaker alone judges
    health.on_contact_status(event("Created", uri="sip:x"))
    health.on_contact_status(event("Updated", uri="sip:x"))
    assert health.unavailable() == frozenset()


def test_the_state_at_connect_comes_from_the_device_states():
    health = TrunkHealth(TRUNKS)
    [out] = health.load_device_states([
        device("PJSIP/viettel", "NOT_INUSE", "1"), device("PJSIP/vnpt-ep", "UNAVAILABLE", "1"),
        device("Custom:lamp", "UNAVAILABLE", "1"), device("PJSIP/phone100", "UNAVAILABLE", "1")])
    assert (out.trunk, out.available) == ("vnpt", False)
    assert health.unavailable() == {"vnpt"}
    assert health.device_state("vnpt-ep") == "UNAVAILABLE"
    assert health.device_state("other") is None  # not listed: its contacts judge it
    assert "out of rotation" in describe(out)
    # A new answer at reconnect replaces what was known.
    [back] = health.load_device_states([device("PJSIP/vnpt-ep", "INUSE", "2")])
    assert (back.trunk, back.available) == ("vnpt", True)
    assert "back in rotation" in describe(back)


def test_device_state_events_follow_the_endpoint_and_decide_over_contacts():
    health = TrunkHealth(TRUNKS)
    health.load_device_states([device("PJSIP/viettel", "NOT_INUSE")])
    # Asterisk says UNAVAILABLE only when no contact answers; busy states keep a trunk in.
    assert health.on_device_state(device("PJSIP/viettel", "INUSE")) == []
    assert health.on_device_state(device("PJSIP/viettel", "BUSY")) == []
    # Two contacts, one unreachable: the endpoint (still NOT_INUSE) keeps the trunk in.
    health.on_contact_status(event("Reachable", uri="sip:a"))
    assert health.on_contact_status(event("Unreachable", uri="sip:b")) == []
    [out] = health.on_device_state(device("PJSIP/viettel", "UNAVAILABLE"))
    assert (out.trunk, out.available) == ("viettel", False)
    assert health.on_device_state(device("PJSIP/viettel", "UNAVAILABLE")) == []  # said once
    assert health.on_contact_status(event("Reachable", uri="sip:b")) == []  # the device decides
    [back] = health.on_device_state(device("PJSIP/viettel", "NOT_INUSE"))
    assert back.available
    assert health.on_device_state(device("PJSIP/other-pbx", "UNAVAILABLE")) == []


def test_events_of_other_endpoints_and_unknown_endpoints_are_ignored():
    health = TrunkHealth(TRUNKS)
    assert health.on_contact_status(event("Unreachable", aor="phone100",
                                          endpoint="phone100")) == []
    assert health.on_device_state(device("PJSIP/phone100", "UNAVAILABLE")) == []
    assert health.unavailable() == frozenset()
    assert health.endpoints == ["other", "viettel", "vnpt-ep"]


def test_two_trunks_on_one_endpoint_go_out_together():
    trunks = (Trunk("viettel", "viettel", ("viettel",)), Trunk("viettel-2", "viettel"))
    health = TrunkHealth(trunks)
    changes = health.on_contact_status(event("Unreachable"))
    assert {(c.trunk, c.available) for c in changes} == {("viettel", False),
                                                         ("viettel-2", False)}


def test_the_router_skips_an_unavailable_trunk_like_a_broken_one():
    router = TrunkRouter(TRUNKS, "default", threshold=2, cooloff=60)
    names = [t.name for t in router.candidates("viettel", 0, frozenset({"viettel"}))]
    assert names == ["default", "vnpt"]
    names = [t.name for t in router.candidates("viettel", 0, frozenset({"viettel", "default"}))]
    assert names == ["vnpt"]
    assert [t.name for t in router.candidates("viettel", 0)][0] == "viettel"
