"""Recognition in worker processes: the silence check, the worker's job, an unusable pool."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from callengine.errors import CallengineError
from callengine.questionnaire import load_questionnaire
from callengine.settings import DEFAULT_QUESTIONNAIRE
from callengine.speech.audio import TELEPHONE_RATE, read_pcm16, voiced_seconds, write_pcm16
from callengine.speech.pool import MIN_VOICED_SECONDS, Recognition, RecognitionPool, recognize_file
from callengine.speech.recognizers import RecognitionFailed, Transcript

FEVER = load_questionnaire(DEFAULT_QUESTIONNAIRE).question("fever")
RATE = TELEPHONE_RATE


def tone(seconds: float, dbfs: float = -20.0, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    amplitude = 32767 * 10 ** (dbfs / 20) * np.sqrt(2)  # RMS at dbfs
    return np.round(amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.int16)


def noise(seconds: float, dbfs: float, rate: int = RATE) -> np.ndarray:
    rms = 32768 * 10 ** (dbfs / 20)
    values = np.random.default_rng(1).normal(0.0, rms, int(seconds * rate))
    return np.clip(np.round(values), -32768, 32767).astype(np.int16)


def silence(seconds: float, rate: int = RATE) -> np.ndarray:
    return np.zeros(int(seconds * rate), dtype=np.int16)


def test_silence_has_no_voice():
    assert voiced_seconds(silence(3.0), RATE) == 0.0


def test_line_noise_at_minus_60_dbfs_has_no_voice():
    assert voiced_seconds(noise(3.0, -60.0), RATE) == 0.0


def test_a_tone_counts_for_its_length_only():
    samples = np.concatenate([silence(1.0), tone(0.6), silence(1.0)])
    assert voiced_seconds(samples, RATE) == pytest.approx(0.6, abs=0.04)


def test_voiced_seconds_of_nothing_is_zero():
    assert voiced_seconds(np.zeros(0, dtype=np.int16), RATE) == 0.0
    assert voiced_seconds(silence(0.01), RATE) == 0.0  # shorter than one frame


class FakeRecognizer:
    """A recogniser that hears what it is told to, and counts its calls."""

    name = "fake"

    def __init__(self, text: str = "có", confidence: float = 0.9, error: Exception | None = None):
        self.text, self.confidence, self.error = text, confidence, error
        self.calls: list[Path] = []
        self.heard_seconds: list[float] = []  # length of the audio it was given

    def transcribe(self, wav_path: Path) -> Transcript:
        self.calls.append(Path(wav_path))
        samples, rate = read_pcm16(Path(wav_path))
        self.heard_seconds.append(samples.size / rate)
        if self.error is not None:
            raise self.error
        return Transcript(self.text, self.confidence, 1.0, elapsed=0.25)


def wav(tmp_path: Path, samples: np.ndarray, name: str = "answer.wav") -> Path:
    path = tmp_path / name
    write_pcm16(path, samples, RATE)
    return path


def test_silence_short_circuits_without_the_recognizer(tmp_path):
    recognizer = FakeRecognizer()
    path = wav(tmp_path, np.concatenate([silence(2.0), noise(1.0, -60.0)]))
    result = recognize_file(str(path), FEVER, 0.5, recognizer)
    assert result.heard is False and result.error is None
    assert recognizer.calls == []


def test_a_click_shorter_than_the_minimum_is_nothing_said(tmp_path):
    recognizer = FakeRecognizer()
    click = tone(MIN_VOICED_SECONDS / 2)
    result = recognize_file(str(wav(tmp_path, np.concatenate([silence(1.0), click]))),
                            FEVER, 0.5, recognizer)
    assert (result.heard, result.error, recognizer.calls) == (False, None, [])


def test_speech_is_recognised_and_mapped_to_the_questions_answer(tmp_path):
    recognizer = FakeRecognizer("có", 0.9)
    path = wav(tmp_path, np.concatenate([silence(0.5), tone(0.8)]))
    result = recognize_file(str(path), FEVER, 0.5, recognizer)
    assert len(recognizer.calls) == 1
    assert (result.heard, result.answer, result.text) == (True, "yes", "có")
    assert result.confidence == 0.9 and result.seconds == 0.25 and result.error is None


def test_below_the_confidence_threshold_the_answer_is_unknown(tmp_path):
    result = recognize_file(str(wav(tmp_path, tone(0.8))), FEVER, 0.5,
                            FakeRecognizer("không", 0.2))
    assert (result.heard, result.answer, result.text) == (True, "unknown", "không")


def test_a_recogniser_failure_is_an_error_not_a_crash(tmp_path):
    recognizer = FakeRecognizer(error=RecognitionFailed("Vosk failed: bad frame"))
    result = recognize_file(str(wav(tmp_path, tone(0.8))), FEVER, 0.5, recognizer)
    assert result.error == "Vosk failed: bad frame" and result.heard is False


def test_a_missing_recording_is_an_error(tmp_path):
    result = recognize_file(str(tmp_path / "gone.wav"), FEVER, 0.5, FakeRecognizer())
    assert result.error and "gone.wav" in result.error


def test_a_pool_without_its_model_says_what_to_install_and_does_not_raise(tmp_path):
    async def scenario():
        pool = RecognitionPool(1, "vosk", {}, 0.5)
        try:
            with pytest.raises(CallengineError) as error:
                await asyncio.wait_for(pool.warm_up(), 60)
            message = str(error.value)
            assert "speech recognition unavailable" in message
            assert "vosk-model-small-vn-0.4" in message and "scripts/fetch-vosk-model" in message
            result = await asyncio.wait_for(
                pool.recognize(wav(tmp_path, tone(0.8)), FEVER), 60)
        finally:
            pool.close()
        assert isinstance(result, Recognition)
        assert result.heard is False
        assert result.error and "vosk-model-small-vn-0.4" in result.error
    asyncio.run(scenario())


def test_the_decoder_gets_the_speech_without_the_silence_around_it(tmp_path):
    recognizer = FakeRecognizer("không", 0.9)
    path = wav(tmp_path, np.concatenate([silence(2.0), tone(0.8), silence(3.2)]))  # 6 s window
    result = recognize_file(str(path), FEVER, 0.5, recognizer)
    assert result.answer == "no"
    assert recognizer.heard_seconds == [pytest.approx(0.8 + 2 * 0.3, abs=0.05)]


ENGINE_WITH_A_POOL = """
import asyncio, os, sys, time
from callengine.speech.pool import RecognitionPool

async def main():
    pool = RecognitionPool(2, "vosk", {}, 0.5)
    try:
        await pool.warm_up()
    except Exception:
        pass  # no model: the workers run all the same
    print(" ".join(str(pid) for pid in pool._executor._processes), flush=True)
    time.sleep(600)

asyncio.run(main())
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_workers_exit_when_their_engine_is_killed():
    import os
    import signal
    import subprocess
    import sys
    import time

    engine = subprocess.Popen([sys.executable, "-c", ENGINE_WITH_A_POOL],
                              stdout=subprocess.PIPE, text=True)
    try:
        workers = [int(pid) for pid in engine.stdout.readline().split()]
        assert len(workers) == 2 and all(_alive(pid) for pid in workers)
        os.kill(engine.pid, signal.SIGKILL)  # no shutdown of the pool: the engine just dies
        engine.wait(10)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if _alive(pid)], "workers outlived their engine"
    finally:
        if engine.poll() is None:
            engine.kill()
            engine.wait(10)
