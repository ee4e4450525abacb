"""Spoken answers recognised in worker processes, so the dialer's loop never waits on a decoder.

Each worker loads its recogniser once (viet-asr: about 1 s and 250 MB). Workers are spawned,
not forked: the engine process holds sockets, threads and database connections. A worker
never outlives its engine: it watches its parent and exits when the engine is gone, even
after a SIGKILL that gave the engine no chance to shut the pool down.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from callengine.errors import CallengineError
from callengine.questionnaire import Question
from callengine.speech.audio import (
    TELEPHONE_RATE,
    load_pcm16,
    trim_to_voice,
    voiced_seconds,
    write_pcm16,
)
from callengine.speech.queue import AFTER_CALL, IN_CALL, PriorityGate, QueueFull

log = logging.getLogger("callengine.speech")
MIN_VOICED_SECONDS = 0.15  # less than this above the noise floor: nothing was said
WORKER_NICENESS = 5  # Asterisk's media and the dialer come first when the cores are busy
PARENT_CHECK_INTERVAL = 1.0  # seconds between a worker's looks at whether its engine lives

_recognizer = None  # the worker process's recogniser
_load_error: str | None = None  # why it could not be loaded


@dataclass(frozen=True)
class Recognition:
    """What a recording said for one question; error set when it could not be recognised."""

    heard: bool  # any speech at all
    answer: str = "unknown"  # yes / no / unknown
    text: str = ""
    confidence: float | None = None
    reason: str = ""
    seconds: float = 0.0  # decoding time
    error: str | None = None


def _exit_with_parent(parent_pid: int, interval: float = PARENT_CHECK_INTERVAL) -> None:
    """End this worker once its parent is gone (re-parented: getppid() changes)."""
    while os.getppid() == parent_pid:
        time.sleep(interval)
    os._exit(0)


def watch_parent(parent_pid: int) -> None:
    """Start the watchdog that ends this process when parent_pid dies."""
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True,
                     name="parent-watchdog").start()


def _init_worker(name: str, options: dict, parent_pid: int) -> None:
    global _recognizer, _load_error
    from callengine.speech.answer import shared_recognizer

    watch_parent(parent_pid)
    logging.basicConfig(level=logging.WARNING)
    os.nice(WORKER_NICENESS)
    try:
        _recognizer = shared_recognizer(name, **options)
    except CallengineError as exc:
        _load_error = str(exc)


def _load_result() -> str | None:
    return _load_error


def recognize_file(path: str, question: Question, threshold: float,
                   recognizer=None) -> Recognition:
    """The worker's job; in-process callers pass their own recogniser."""
    from callengine.speech.answer import recognize_answer

    recognizer = recognizer or _recognizer
    if recognizer is None:
        return Recognition(heard=False, error=_load_error or "no recogniser loaded")
    try:
        samples = load_pcm16(Path(path), TELEPHONE_RATE)
        if voiced_seconds(samples, TELEPHONE_RATE) < MIN_VOICED_SECONDS:
            return Recognition(heard=False, reason="không nghe thấy tiếng nói")
        with tempfile.TemporaryDirectory(prefix="callengine-asr-") as folder:
            speech = Path(folder) / "answer.wav"
            write_pcm16(speech, trim_to_voice(samples, TELEPHONE_RATE), TELEPHONE_RATE)
            result = recognize_answer(speech, question, recognizer, threshold=threshold)
    except (CallengineError, OSError, EOFError) as exc:
        return Recognition(heard=False, error=str(exc)[:300])
    transcript, answer = result.transcript, result.answer
    return Recognition(heard=bool(transcript.text), answer=answer.answer, text=transcript.text,
                       confidence=transcript.confidence, reason=answer.reason,
                       seconds=transcript.elapsed)


class RecognitionPool:
    """A process pool of recognisers with an async front."""

    def __init__(self, workers: int, recognizer: str, options: dict, threshold: float, *,
                 max_queued: int = 16,
                 on_recognized: Callable[[float], None] | None = None) -> None:
        self.workers = max(1, workers)
        self.recognizer = recognizer
        self.options = dict(options)
        self.threshold = threshold
        self.gate = PriorityGate(self.workers, max_queued)  # in-call answers first
        self.on_recognized = on_recognized  # seconds a worker took (metrics)
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker, initargs=(self.recognizer, self.options, os.getpid()))

    async def warm_up(self) -> None:
        """Start every worker and load its model now rather than at the first answer."""
        loop = asyncio.get_running_loop()
        try:
            errors = await asyncio.gather(*(loop.run_in_executor(self._executor, _load_result)
                                            for _ in range(self.workers)))
        except BrokenProcessPool:
            self._executor = self._new_executor()
            errors = [f"the {self.recognizer} worker processes could not start"]
        problems = sorted({e for e in errors if e})
        if problems:
            raise CallengineError("speech recognition unavailable: " + "; ".join(problems))

    async def recognize(self, path: Path, question: Question, *,
                        in_call: bool = True) -> Recognition:
        """Recognise when a worker is free (in-call requests before after-call ones); an
        error result when too many wait already (speech_max_queued)."""
        try:
            async with self.gate.slot(IN_CALL if in_call else AFTER_CALL):
                return await self._run(path, question)
        except QueueFull as exc:
            return Recognition(heard=False, error=f"{exc} (speech_max_queued)")

    async def _run(self, path: Path, question: Question) -> Recognition:
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            result = await loop.run_in_executor(self._executor, recognize_file, str(path),
                                                question, self.threshold)
            if self.on_recognized is not None:
                self.on_recognized(loop.time() - started)
            return result
        except BrokenProcessPool:
            log.error("a recognition worker died; restarting the pool")
            self._executor = self._new_executor()
            return Recognition(heard=False, error="recognition worker died")

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
