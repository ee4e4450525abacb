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


def detail(status: str, uri: str, aor: str) -> Message:
    return Message((("Event", "ContactStatusDetail"), ("AOR", aor), ("URI", uri),
                    ("Status", status), ("RoundtripUsec", "815"), ("EndpointName", "")))


def aor_detail(name: str) -> Message:
    return Message((("Event", "AorDetail"), ("ObjectType", "aor"), ("ObjectName", name)))


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


def test_the_state_at_connect_comes_from_pjsip_show_endpoint_with_its_aor_names():
    health = TrunkHealth(TRUNKS)
    [out] = health.load_endpoint("vnpt-ep", [
        aor_detail("vnpt-aor"), detail("Unreachable", "sip:vnpt", "vnpt-aor")])
    assert (out.trunk, out.available) == ("vnpt", False)
    # Later events name the aor (EndpointName may be empty): mapped by the AorDetail seen.
    [back] = health.on_contact_status(event("Reachable", uri="sip:vnpt", aor="vnpt-aor",
                                            endpoint=""))
    assert (back.trunk, back.available) == ("vnpt", True)
    # A new answer at reconnect replaces what was known: no contact is down any more.
    health.on_contact_status(event("Unreachable", uri="sip:vnpt", aor="vnpt-aor", endpoint=""))
    [again] = health.load_endpoint("vnpt-ep", [detail("Reachable", "sip:vnpt2", "vnpt-aor")])
    assert again.available


def test_events_of_other_endpoints_and_unknown_endpoints_are_ignored():
    health = TrunkHealth(TRUNKS)
    assert health.on_contact_status(event("Unreachable", aor="phone100",
                                          endpoint="phone100")) == []
    assert health.load_endpoint("phone100", [detail("Unreachable", "sip:x", "x")]) == []
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
