"""Attempt state machine: AMI events in, domain facts out (pure, no I/O).

Events are correlated by Uniqueid (= the attempt uuid given as ChannelId) and, for an
OriginateResponse without a channel, by ActionID. They may arrive in any order.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from callengine import contract
from callengine.dialer.outcome import CallSignals

NO_CHANNEL = ("", "<unknown>")


@dataclass
class LiveAttempt:
    attempt_id: str
    action_id: str | None = None
    signals: CallSignals = CallSignals()
    originate_failed: bool = False
    hung_up: bool = False
    last_event_at: float = 0.0
    answers: dict[str, str] = field(default_factory=dict)

    def learn(self, **signals) -> None:
        self.signals = replace(self.signals, **signals)


@dataclass(frozen=True)
class Originated:
    """Asterisk accepted the Originate (the dialer's own fact, written in order with the
    call's others)."""

    attempt_id: str
    action_id: str


@dataclass(frozen=True)
class Answered:
    attempt_id: str


@dataclass(frozen=True)
class AnswerGiven:
    attempt_id: str
    question_id: str
    key: str


@dataclass(frozen=True)
class CallbackRequested:
    """The resident pressed the callback key: a health worker must call back."""

    attempt_id: str
    question_id: str


@dataclass(frozen=True)
class Finished:
    """The attempt is over; signals say how."""

    attempt_id: str
    signals: CallSignals
    answers: dict[str, str]


Fact = Originated | Answered | AnswerGiven | CallbackRequested | Finished


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


class AttemptTracker:
    """Holds the attempts in flight on this server and turns events into facts."""

    def __init__(self) -> None:
        self.live: dict[str, LiveAttempt] = {}
        self._by_action: dict[str, str] = {}

    def track(self, attempt_id: str, action_id: str | None, now: float) -> LiveAttempt:
        attempt = self.live.get(attempt_id) or LiveAttempt(attempt_id, last_event_at=now)
        attempt.action_id = action_id or attempt.action_id
        self.live[attempt_id] = attempt
        if attempt.action_id:
            self._by_action[attempt.action_id] = attempt_id
        return attempt

    def forget(self, attempt_id: str) -> LiveAttempt | None:
        attempt = self.live.pop(attempt_id, None)
        if attempt and attempt.action_id:
            self._by_action.pop(attempt.action_id, None)
        return attempt

    def handle(self, message, now: float) -> list[Fact]:
        """Facts implied by one AMI event (empty for events of other calls)."""
        if message.kind != "event":
            return []
        attempt = self._attempt_for(message)
        if attempt is None:
            return []
        attempt.last_event_at = now
        name = message.name
        if name == "UserEvent":
            return self._user_event(attempt, message)
        if name == "DialEnd":
            attempt.learn(dial_status=message.get("DialStatus"))
        elif name == "Hangup":
            return self._hangup(attempt, message)
        elif name == "OriginateResponse":
            return self._originate_response(attempt, message)
        return []

    def _attempt_for(self, message) -> LiveAttempt | None:
        for key in ("Uniqueid", "DestUniqueid", "Attempt"):
            attempt = self.live.get(message.get(key) or "")
            if attempt:
                return attempt
        if message.name == "OriginateResponse" and message.action_id in self._by_action:
            return self.live.get(self._by_action[message.action_id])
        return None

    def _user_event(self, attempt: LiveAttempt, message) -> list[Fact]:
        kind = message.get("UserEvent")
        if kind == contract.EVENT_ANSWERED:
            attempt.learn(answered=True)
            return [Answered(attempt.attempt_id)]
        if kind == contract.EVENT_ANSWER:
            question, key = message.get("Question") or "", message.get("Key") or ""
            attempt.answers[question] = key
            return [AnswerGiven(attempt.attempt_id, question, key)]
        if kind == contract.EVENT_CALLBACK:
            question = message.get("Question") or ""
            attempt.answers[contract.CALLBACK_ANSWER] = question
            return [CallbackRequested(attempt.attempt_id, question)]
        if kind == contract.EVENT_END:
            stage, answers = contract.decode_answers(
                f"stage={message.get('Stage') or ''};{message.get('Answers') or ''}"
            )
            attempt.learn(answered=True, stage=stage)
            attempt.answers.update(answers)
        return []

    def _hangup(self, attempt: LiveAttempt, message) -> list[Fact]:
        attempt.hung_up = True
        attempt.learn(cause=_int(message.get("Cause")), sip_code=_int(message.get("TechCause")))
        return [self._finish(attempt)]

    def _originate_response(self, attempt: LiveAttempt, message) -> list[Fact]:
        attempt.learn(originate_reason=_int(message.get("Reason")))
        if message.get("Response") == "Success":
            return []
        attempt.originate_failed = True
        if (message.get("Uniqueid") or "") in NO_CHANNEL or attempt.hung_up:
            # No channel was ever made, so no Hangup will follow.
            return [self._finish(attempt)]
        return []

    def _finish(self, attempt: LiveAttempt) -> Finished:
        self.forget(attempt.attempt_id)
        return Finished(attempt.attempt_id, attempt.signals, dict(attempt.answers))

    def expire(self, attempt_id: str) -> Finished | None:
        """Finish an attempt whose OriginateResponse failed and whose Hangup never came."""
        attempt = self.live.get(attempt_id)
        if attempt is None:
            return None
        return self._finish(attempt)
