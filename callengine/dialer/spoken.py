"""Spoken answers during and after calls: the FastAGI 'recognize' script, pending answers,
and the recordings nobody needs.

During a call the dialplan asks for the key a recording stands for. The answer is stored
before the reply, so it survives anything that happens next. If recognition takes longer
than speech_reply_timeout (workers busy) or fails, the dialplan keeps "~<try>" and the
answer is recognised after the call by the pending loop here.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace
from pathlib import Path

from callengine import contract
from callengine.agi.protocol import AgiRequest
from callengine.agi.server import AgiSession
from callengine.clock import Clock
from callengine.dialer.answers import AnswerBook, SpokenAnswerRecord
from callengine.errors import CallengineError
from callengine.questionnaire import Question, Questionnaire
from callengine.speech.mapping import CALLBACK
from callengine.speech.pool import Recognition, RecognitionPool

log = logging.getLogger("callengine.speech")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_TRY = re.compile(r"^[0-9]{1,2}$")
PENDING_POLL = 2.0  # seconds between looks for answers to recognise after their call
PENDING_RETRY = 60.0  # seconds before a recognition that failed is tried again
MAX_FAILURES = 3  # then the answer goes to a supervisor as unknown
PURGE_INTERVAL = 3600.0  # seconds between deletions of recordings past their keeping time


def key_for(question: Question, answer: str, callback_key: str = "0") -> str:
    """The dialplan key a spoken answer stands for ('?' when it was not understood; the
    call-back key for a spoken call-back request)."""
    if answer == CALLBACK:
        return callback_key
    keys = sorted(k for k, value in question.keys.items() if value == answer)
    return keys[0] if keys and answer != "unknown" else contract.KEY_UNKNOWN


class SpokenAnswers:
    def __init__(self, *, answers: AnswerBook, questionnaire: Questionnaire,
                 pool: RecognitionPool, recordings: Path, reply_timeout: float,
                 clock: Clock, keep_days: int = 30) -> None:
        self.answers = answers
        self.questionnaire = questionnaire
        self.pool = pool
        self.recordings = recordings  # the dialplan's recordings folder, as seen from here
        self.reply_timeout = reply_timeout
        self.keep_days = keep_days
        self.clock = clock
        self.available = True
        self._failures: dict[int, tuple[int, float]] = {}  # answer id -> (failures, when)
        self._pending_lock = asyncio.Lock()
        self._in_call: dict[str, asyncio.Future] = {}  # recording -> its in-call recognition
        self._warmed = asyncio.Event()

    # --- during the call ----------------------------------------------------------------

    async def handle_agi(self, request: AgiRequest, session: AgiSession) -> None:
        """AGI(agi://.../recognize,<attempt>,<question>,<try>): set CE_HEARD."""
        parsed = self._parse(request.args)
        if parsed is None:
            log.warning("recognize: bad arguments %r", [a[:40] for a in request.args])
            return
        attempt_id, question, try_no = parsed
        if not self.answers.is_live_call(attempt_id, request.uniqueid):
            log.warning("recognize: refused, attempt %s is not a live call of this server on "
                        "that channel", attempt_id)
            return
        name = contract.recording_name(attempt_id, question.id, try_no)
        job = asyncio.ensure_future(self._recognize_now(attempt_id, question, try_no))
        self._in_call[name] = job
        job.add_done_callback(lambda _: self._in_call.pop(name, None))
        try:
            key = await asyncio.wait_for(asyncio.shield(job), self.reply_timeout)
        except TimeoutError:
            log.warning("attempt %s %s: recognition slower than %.1f s; kept for later",
                        attempt_id, question.id, self.reply_timeout)
            return
        if key is not None:
            await session.set_variable(contract.VAR_HEARD, key)

    def _parse(self, args: tuple[str, ...]) -> tuple[str, Question, int] | None:
        if len(args) != 3 or not _UUID.match(args[0]) or not _TRY.match(args[2]):
            return None
        if args[1] not in self.questionnaire.question_ids:
            return None
        return args[0], self.questionnaire.question(args[1]), int(args[2])

    async def _recognize_now(self, attempt_id: str, question: Question,
                             try_no: int) -> str | None:
        """The key for the dialplan: digit, '?', '' (nothing said); None: keep it pending."""
        name = contract.recording_name(attempt_id, question.id, try_no)
        recognition = await self._recognize(name, question)
        if recognition.error:
            log.warning("attempt %s %s: not recognised (%s); kept for later", attempt_id,
                        question.id, recognition.error)
            return None
        if not recognition.heard:
            return contract.KEY_NOTHING_HEARD
        spoken = self._record(question, recognition, name)
        self._log(attempt_id, spoken, recognition)
        if recognition.answer == CALLBACK:  # the dialplan flags it and asks again
            return spoken.key
        if not self.answers.record_spoken(attempt_id, spoken, self.clock.now()):
            log.warning("attempt %s %s: a key was pressed; the spoken answer is not kept",
                        attempt_id, question.id)
            return None
        return spoken.key

    async def _recognize(self, name: str, question: Question) -> Recognition:
        if not self.available:
            return Recognition(heard=False, error="speech recognition unavailable")
        return await self.pool.recognize(self.recordings / name, question, in_call=True)

    def _record(self, question: Question, recognition: Recognition,
                name: str) -> SpokenAnswerRecord:
        return SpokenAnswerRecord(
            question_id=question.id,
            key=key_for(question, recognition.answer, self.questionnaire.callback_key),
            value=recognition.answer, transcript=recognition.text,
            confidence=recognition.confidence, audio_path=name)

    @staticmethod
    def _log(attempt_id: str, spoken: SpokenAnswerRecord, recognition: Recognition) -> None:
        # The transcript is health data: the log keeps the answer and timing only.
        log.info("attempt %s %s: spoken answer %s (confidence %s, %.2f s)", attempt_id,
                 spoken.question_id, spoken.value,
                 "-" if spoken.confidence is None else f"{spoken.confidence:.2f}",
                 recognition.seconds)

    # --- after the call -----------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Start the workers, then recognise pending answers until stopped."""
        try:
            await self.pool.warm_up()
        except CallengineError as exc:
            self.available = False
            log.error("%s; spoken answers are recorded and kept for review", exc)
        finally:
            self._warmed.set()
        purged_at = None
        while not stop.is_set():
            mono = self.clock.monotonic()
            if purged_at is None or mono - purged_at >= PURGE_INTERVAL:
                purged_at = mono
                await asyncio.to_thread(self.purge_expired, self.keep_days)
            if not await self.recognize_pending():
                try:
                    await asyncio.wait_for(stop.wait(), PENDING_POLL)
                except TimeoutError:
                    pass

    async def settle_pending(self, timeout: float) -> None:
        """Recognise everything pending now (before `callengine run --until-idle` exits)."""
        deadline = self.clock.monotonic() + timeout
        try:
            await asyncio.wait_for(self._warmed.wait(), timeout)
        except TimeoutError:
            return
        while self.clock.monotonic() < deadline and await self.recognize_pending():
            pass

    async def recognize_pending(self) -> int:
        """Recognise a batch of answers left pending; how many were tried."""
        async with self._pending_lock:  # the background loop and settle_pending never overlap
            mono = self.clock.monotonic()
            rows = self.answers.pending(limit=4 * self.pool.workers + len(self._failures))
            batch = [row for row in rows
                     if self._due(row[0], mono) and row[3] not in self._in_call]
            for answer_id, attempt_id, qid, name in batch:
                await self._settle(answer_id, attempt_id, self.questionnaire.question(qid), name)
            return len(batch)

    def _due(self, answer_id: int, mono: float) -> bool:
        count, when = self._failures.get(answer_id, (0, mono - PENDING_RETRY))
        return mono - when >= PENDING_RETRY

    async def _settle(self, answer_id: int, attempt_id: str, question: Question,
                      name: str) -> None:
        path = self.recordings / name
        unknown = SpokenAnswerRecord(question.id, contract.KEY_UNKNOWN, "unknown", "", None, name)
        if not path.exists():
            log.warning("attempt %s %s: recording %s is missing; no answer kept", attempt_id,
                        question.id, path)
            spoken = None
        elif not self.available:  # no recogniser: a supervisor listens instead
            spoken = unknown
        else:
            recognition = await self.pool.recognize(path, question, in_call=False)
            if recognition.error:
                count = self._failures.get(answer_id, (0, 0.0))[0] + 1
                log.warning("attempt %s %s: pending answer not recognised (%s), try %d of %d",
                            attempt_id, question.id, recognition.error, count, MAX_FAILURES)
                if count < MAX_FAILURES:
                    self._failures[answer_id] = (count, self.clock.monotonic())
                    return
                spoken = unknown  # give up: a supervisor listens instead
            else:
                spoken = self._record(question, recognition, name) if recognition.heard else None
        callback = spoken is not None and spoken.value == CALLBACK
        if spoken is not None and callback:  # after the call: flagged like key 0, left open
            spoken = replace(spoken, key=contract.KEY_UNKNOWN, value="unknown")
        self._failures.pop(answer_id, None)
        self.answers.resolve_pending(answer_id, spoken, self.clock.now(), callback=callback)

    def purge_expired(self, keep_days: int) -> int:
        """Delete recordings older than keep_days (by file time); how many were deleted."""
        cutoff = self.clock.now().timestamp() - keep_days * 86400
        deleted = 0
        for path in self.recordings.glob("*.wav"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    deleted += 1
            except FileNotFoundError:
                continue
        if deleted:
            log.info("deleted %d answer recording(s) older than %d days", deleted, keep_days)
        return deleted

    def discard_unused(self, attempt_id: str) -> None:
        """Delete an ended call's recordings that no answer refers to (keyed answers)."""
        keep = self.answers.recordings(attempt_id)
        for path in self.recordings.glob(f"{attempt_id}-*.wav"):
            if path.name not in keep:
                path.unlink(missing_ok=True)
