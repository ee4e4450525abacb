"""Audio files for speech: read, convert with sox, write. 16-bit mono PCM throughout."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from callengine.errors import CallengineError

TELEPHONE_RATE = 8000
PCM16 = ["-c", "1", "-b", "16", "-e", "signed-integer"]


def require(tool: str, package: str) -> None:
    """Fail clearly when a command-line tool is missing."""
    if shutil.which(tool) is None:
        raise CallengineError(f"{tool} is not installed: apt-get install -y {package}")


def run(command: list[str], timeout: float = 120) -> None:
    """Run a tool; its error output becomes a CallengineError."""
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise CallengineError(f"{command[0]} took longer than {timeout:g} s") from None
    if result.returncode != 0:
        raise CallengineError(f"{command[0]} failed: {result.stderr.strip()[:300]}")


def sox(source: Path, target: Path, rate: int, *effects: str, target_type: str = "") -> None:
    """Convert any sox-readable file to 16-bit mono PCM at rate (or A-law with 'al')."""
    require("sox", "sox")
    fmt = ["-t", target_type, "-r", str(rate), "-c", "1"] if target_type else \
        ["-r", str(rate), *PCM16]
    run(["sox", str(source), *fmt, str(target), *effects])


def pcm_format(path: Path) -> tuple[int, int, int] | None:
    """(rate, channels, bytes per sample) of a PCM WAV, None for other encodings."""
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
    except (wave.Error, EOFError):
        return None


def wav_seconds(path: Path) -> float | None:
    """The length of a PCM WAV in seconds (None when it is not one)."""
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() / wav.getframerate()
    except (OSError, wave.Error, EOFError, ZeroDivisionError):
        return None


def read_pcm16(path: Path) -> tuple[np.ndarray, int]:
    """Samples (int16) and rate of a 16-bit mono PCM WAV."""
    with wave.open(str(path), "rb") as wav:
        if (wav.getnchannels(), wav.getsampwidth()) != (1, 2):
            raise CallengineError(f"{path}: not 16-bit mono PCM")
        frames = wav.readframes(wav.getnframes())
        return np.frombuffer(frames, dtype="<i2").copy(), wav.getframerate()


def write_pcm16(path: Path, samples: np.ndarray, rate: int) -> None:
    """Write int16 (or float in -1..1) samples as a 16-bit mono PCM WAV."""
    if samples.dtype != np.int16:
        samples = np.clip(np.round(samples * 32767), -32768, 32767).astype(np.int16)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.astype("<i2").tobytes())


def load_pcm16(path: Path, rate: int) -> np.ndarray:
    """16-bit mono samples at rate from any audio file; sox converts what is not already so."""
    path = Path(path)
    if not path.is_file():
        raise CallengineError(f"recording not found: {path}")
    found = pcm_format(path)
    if found == (rate, 1, 2):
        return read_pcm16(path)[0]
    if found and found[1:] == (1, 2) and shutil.which("sox") is None:
        samples, source_rate = read_pcm16(path)
        return resample(samples, source_rate, rate)
    with tempfile.TemporaryDirectory() as tmp:
        converted = Path(tmp) / "pcm.wav"
        sox(path, converted, rate)
        return read_pcm16(converted)[0]


def resample(samples: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Linear-interpolation resampling (int16 in and out); fine for 8 -> 16 kHz speech."""
    if source_rate == target_rate or samples.size == 0:
        return samples
    count = int(round(samples.size * target_rate / source_rate))
    positions = np.arange(count) * (source_rate / target_rate)
    values = np.interp(positions, np.arange(samples.size), samples.astype(np.float64))
    return np.clip(np.round(values), -32768, 32767).astype(np.int16)


VOICE_FLOOR_DBFS = -45.0
FRAME_MS = 20


def _loud_frames(samples: np.ndarray, rate: int, floor_dbfs: float) -> tuple[np.ndarray, int]:
    """Which 20 ms frames are louder than floor_dbfs, and the frame length in samples."""
    frame = max(1, rate * FRAME_MS // 1000)
    usable = samples[: samples.size - samples.size % frame].astype(np.float64)
    if usable.size == 0:
        return np.zeros(0, dtype=bool), frame
    rms = np.sqrt(np.mean(usable.reshape(-1, frame) ** 2, axis=1))
    return rms > 32768.0 * 10 ** (floor_dbfs / 20), frame


def voiced_seconds(samples: np.ndarray, rate: int, *,
                   floor_dbfs: float = VOICE_FLOOR_DBFS) -> float:
    """Seconds of 20 ms frames louder than floor_dbfs: a cheap test for 'anything said?'."""
    loud, _ = _loud_frames(samples, rate, floor_dbfs)
    return float(np.count_nonzero(loud)) * FRAME_MS / 1000


def trim_to_voice(samples: np.ndarray, rate: int, *, pad: float = 0.3,
                  floor_dbfs: float = VOICE_FLOOR_DBFS) -> np.ndarray:
    """The span from the first to the last loud frame, with pad seconds around it.

    An answer window records seconds of silence around a short answer; the decoder's time
    grows with the audio's length, not with what was said.
    """
    loud, frame = _loud_frames(samples, rate, floor_dbfs)
    where = np.flatnonzero(loud)
    if where.size == 0:
        return samples
    margin = int(pad * rate)
    start = max(0, where[0] * frame - margin)
    end = min(samples.size, (where[-1] + 1) * frame + margin)
    return samples[start:end]
