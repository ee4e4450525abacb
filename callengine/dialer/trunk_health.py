"""Trunk health from Asterisk's own SIP OPTIONS (PJSIP qualify), pure: AMI messages in,
availability changes out.

Asterisk qualifies each contact of a trunk's aor every qualify_frequency seconds and
reports each change as a ContactStatus event. Asterisk also sums an endpoint's contacts
up as the device state of PJSIP/<endpoint>: UNAVAILABLE when no contact answers, another
state (NOT_INUSE, INUSE...) otherwise. The engine reads the device states at AMI connect
(DeviceStateList, which needs no system write privilege) and follows DeviceStateChange
events. Where a device state is known it decides; otherwise (res_manager_devicestate not
loaded) a trunk is unavailable when it has contacts and every one of them is Unreachable.
A contact that is not qualified (NonQualified, Unknown, just Created) does not take its
trunk out, so a trunk without qualify behaves as before and only the circuit breaker
judges it.
"""

from __future__ import annotations

from dataclasses import dataclass

from callengine.ami.parser import Message
from callengine.settings import Trunk

REACHABLE = "Reachable"
UNREACHABLE = "Unreachable"
REMOVED = "Removed"
DEVICE_UNAVAILABLE = "UNAVAILABLE"
DEVICE_EVENT = "DeviceStateChange"
UNKNOWN = "Unknown"
KEEP = ("Updated",)  # a contact re-registered or edited: its last status stands


@dataclass(frozen=True)
class Change:
    """One trunk that went in or out of rotation, and what Asterisk said about it."""

    trunk: str
    available: bool
    uri: str
    roundtrip_ms: float | None = None


class TrunkHealth:
    """Each trunk endpoint's contacts and their last qualify status."""

    def __init__(self, trunks: tuple[Trunk, ...]) -> None:
        self._trunks_of: dict[str, list[str]] = {}
        for trunk in trunks:
            self._trunks_of.setdefault(trunk.endpoint, []).append(trunk.name)
        self._device: dict[str, str] = {}  # endpoint -> state of PJSIP/<endpoint>, when known
        self._contacts: dict[str, dict[str, str]] = {e: {} for e in self._trunks_of}
        self._down: set[str] = set()

    @property
    def endpoints(self) -> list[str]:
        return sorted(self._trunks_of)

    def contacts(self, endpoint: str) -> dict[str, str]:
        """An endpoint's contacts (URI -> last qualify status), as last heard."""
        return dict(self._contacts.get(endpoint, {}))

    def unavailable(self) -> frozenset[str]:
        """Names of the trunks whose every contact is Unreachable."""
        return frozenset(self._down)

    def device_state(self, endpoint: str) -> str | None:
        """The last device state of PJSIP/<endpoint> heard, or None."""
        return self._device.get(endpoint)

    def load_device_states(self, messages: list[Message]) -> list[Change]:
        """Replace the trunks' device states with a DeviceStateList answer."""
        self._device.clear()
        for message in messages:
            self._set_device(message)
        return [c for endpoint in self._trunks_of for c in self._recompute(endpoint, "", None)]

    def on_device_state(self, message: Message) -> list[Change]:
        """Apply one DeviceStateChange event; the trunks whose availability it changed."""
        endpoint = self._set_device(message)
        return [] if endpoint is None else self._recompute(endpoint, "", None)

    def _set_device(self, message: Message) -> str | None:
        device, state = message.get("Device") or "", message.get("State") or ""
        tech, _, endpoint = device.partition("/")
        if message.name != DEVICE_EVENT or tech.upper() != "PJSIP" or not state:
            return None
        if endpoint not in self._contacts:
            return None
        self._device[endpoint] = state.upper()
        return endpoint

    def on_contact_status(self, message: Message) -> list[Change]:
        """Apply one ContactStatus event; the trunks whose availability it changed."""
        endpoint = self._endpoint_of(message)
        uri = message.get("URI") or ""
        if endpoint is None or not uri:
            return []
        status = message.get("ContactStatus") or UNKNOWN
        contacts = self._contacts[endpoint]
        if status == REMOVED:
            contacts.pop(uri, None)
        elif status in KEEP:
            contacts.setdefault(uri, UNKNOWN)
        else:
            contacts[uri] = status
        return self._recompute(endpoint, uri, _roundtrip_ms(message.get("RoundtripUsec")))

    def _endpoint_of(self, message: Message) -> str | None:
        named = message.get("EndpointName") or ""
        if named in self._contacts:
            return named
        aor = message.get("AOR") or ""  # a trunk's aor is named after its endpoint
        return aor if aor in self._contacts else None

    def _recompute(self, endpoint: str, uri: str, roundtrip: float | None) -> list[Change]:
        if endpoint in self._device:
            down = self._device[endpoint] == DEVICE_UNAVAILABLE
        else:
            statuses = self._contacts[endpoint].values()
            down = bool(statuses) and all(s == UNREACHABLE for s in statuses)
        changes = []
        for trunk in self._trunks_of[endpoint]:
            if down == (trunk in self._down):
                continue
            (self._down.add if down else self._down.discard)(trunk)
            changes.append(Change(trunk, not down, uri, None if down else roundtrip))
        return changes


def _roundtrip_ms(value: str | None) -> float | None:
    try:
        usec = int(value or "")
    except ValueError:
        return None
    return usec / 1000 if usec > 0 else None


def describe(change: Change) -> str:
    """The log line of a change (English; no phone numbers are involved)."""
    if not change.available:
        return (f"trunk {change.trunk} out of rotation: its contacts do not answer SIP OPTIONS "
                f"(qualify{f', last {change.uri}' if change.uri else ''}); numbers go to the "
                "other trunks")
    if change.roundtrip_ms is None:
        return (f"trunk {change.trunk} back in rotation: a contact answers SIP OPTIONS again or "
                "none is known to be unreachable any more (qualify)")
    return (f"trunk {change.trunk} back in rotation: its contact answers SIP OPTIONS again, "
            f"round trip {change.roundtrip_ms:.1f} ms")
