"""Trunk choice by the number's carrier, with fallback when a trunk is down (pure)."""

from __future__ import annotations

from callengine.phones import PhoneNumber
from callengine.settings import Trunk


class TrunkRouter:
    """Orders trunks for a number and keeps a circuit breaker per trunk."""

    def __init__(self, trunks: tuple[Trunk, ...], default: str, threshold: int, cooloff: float):
        self.trunks = trunks
        self.default = default
        self.threshold = threshold
        self.cooloff = cooloff
        self._failures: dict[str, int] = {t.name: 0 for t in trunks}
        self._down_until: dict[str, float] = {}

    def candidates(self, carrier: str, now: float,
                   unavailable: frozenset[str] = frozenset()) -> list[Trunk]:
        """Trunks to use for this carrier, best first, skipping trunks that are down (the
        breaker) or unavailable (Asterisk's qualify says their contacts do not answer)."""
        preferred = [t for t in self.trunks if carrier in t.carriers]
        default = [t for t in self.trunks if t.name == self.default and t not in preferred]
        others = [t for t in self.trunks if t not in preferred and t not in default]
        return [t for t in preferred + default + others
                if t.name not in unavailable and not self.is_down(t.name, now)]

    def is_down(self, name: str, now: float) -> bool:
        return self._down_until.get(name, -1.0) > now

    def report(self, name: str, trunk_fault: bool, now: float) -> bool:
        """Record an attempt's result; True when this report marks the trunk down."""
        if not trunk_fault:
            self._failures[name] = 0
            return False
        self._failures[name] = self._failures.get(name, 0) + 1
        if self._failures[name] >= self.threshold:
            self._failures[name] = 0
            self._down_until[name] = now + self.cooloff
            return True
        return False


def dial_string(trunk: Trunk, number: PhoneNumber) -> str:
    """The PJSIP channel to originate for a number through a trunk."""
    digits = {
        "national": number.national(),
        "e164": number.e164,
        "international": number.international_digits(),
    }[trunk.dial_format]
    return f"PJSIP/{digits}@{trunk.endpoint}"
