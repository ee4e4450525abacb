"""Classify an attempt's outcome from what Asterisk reported (pure).

Hangup Cause + TechCause (the SIP code, Asterisk >= 22.7) are the best evidence; DialStatus
and OriginateResponse's Reason are lossy fallbacks (telephony.md 1.2-1.4).
"""

from __future__ import annotations

from dataclasses import dataclass

from callengine import contract

COMPLETED, PARTIAL, NO_ANSWER, BUSY = "completed", "partial", "no_answer", "busy"
REJECTED, INVALID, CONGESTION, FAILED = "rejected", "invalid_number", "congestion", "failed"

_BY_SIP = {
    486: BUSY, 600: BUSY,
    603: REJECTED, 403: REJECTED, 401: REJECTED, 407: REJECTED,
    404: INVALID, 484: INVALID, 410: INVALID, 604: INVALID, 485: INVALID,
    480: NO_ANSWER, 408: NO_ANSWER, 487: NO_ANSWER,
    500: CONGESTION, 502: CONGESTION, 503: CONGESTION, 504: CONGESTION,
}
_BY_CAUSE = {
    17: BUSY,
    21: REJECTED,
    1: INVALID, 22: INVALID, 28: INVALID,
    18: NO_ANSWER, 19: NO_ANSWER,
    27: CONGESTION, 34: CONGESTION, 38: CONGESTION, 41: CONGESTION, 42: CONGESTION,
    44: CONGESTION, 102: CONGESTION,
}
_BY_DIAL_STATUS = {
    "BUSY": BUSY, "NOANSWER": NO_ANSWER, "CONGESTION": CONGESTION, "CHANUNAVAIL": FAILED,
}
_BY_REASON: dict[int | None, str] = {5: BUSY, 3: NO_ANSWER, 8: CONGESTION}
FINAL = frozenset({COMPLETED, INVALID})  # never retried: the task is done for the day
REACHED = (COMPLETED, PARTIAL)  # someone answered the phone

# Causes that say the trunk, not the resident, failed: they feed the trunk's circuit breaker.
TRUNK_FAULT_CAUSES = frozenset({3, 20, 27, 34, 38, 41, 42, 102})


@dataclass(frozen=True)
class CallSignals:
    """Everything Asterisk said about one attempt, as plain values."""

    answered: bool = False
    stage: str | None = None
    cause: int | None = None
    sip_code: int | None = None
    dial_status: str | None = None
    originate_reason: int | None = None


def classify(signals: CallSignals) -> str:
    """One of the eight outcomes."""
    if signals.answered:
        return COMPLETED if signals.stage == contract.STAGE_DONE else PARTIAL
    if signals.sip_code in _BY_SIP:
        return _BY_SIP[signals.sip_code]
    if signals.cause in _BY_CAUSE:
        return _BY_CAUSE[signals.cause]
    if signals.dial_status in _BY_DIAL_STATUS:
        return _BY_DIAL_STATUS[signals.dial_status]
    return _BY_REASON.get(signals.originate_reason, FAILED)


def is_trunk_fault(signals: CallSignals, outcome: str) -> bool:
    """True when the failure points at the trunk (so another trunk should be tried)."""
    if outcome not in (CONGESTION, FAILED):
        return False
    return (
        signals.cause in TRUNK_FAULT_CAUSES
        or signals.dial_status == "CHANUNAVAIL"
        or (signals.sip_code or 0) >= 500
        or signals.cause is None
    )


_CDR_DISPOSITIONS = {
    "BUSY": BUSY, "NO ANSWER": NO_ANSWER, "CONGESTION": CONGESTION, "FAILED": FAILED,
}


def classify_cdr(disposition: str, stage: str | None) -> str:
    """Outcome from a CDR record, for calls that ended while the engine was away."""
    if disposition == "ANSWERED":
        return COMPLETED if stage == contract.STAGE_DONE else PARTIAL
    return _CDR_DISPOSITIONS.get(disposition, FAILED)
