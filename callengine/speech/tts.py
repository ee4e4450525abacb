"""Text-to-speech engines behind one small interface: text -> an audio file sox can read.

- EspeakSynthesizer: espeak-ng, offline, robotic but always available (Debian espeak-ng).
- GttsSynthesizer: Google Translate's voice through gTTS (the client's choice): needs
  Google to be reachable, so it runs with a timeout and caches every answer by text; its
  MP3 is decoded by sox (Debian libsox-fmt-mp3) or ffmpeg.
Synthesis happens when prompts are built, never during a call.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
from abc import ABC, abstractmethod
from pathlib import Path

from callengine.errors import CallengineError, ConfigError
from callengine.speech.audio import require, run


class SynthesisUnavailable(CallengineError):
    """The engine cannot synthesise here (not installed, or its service is unreachable)."""


class Synthesizer(ABC):
    """Speaks a text into an audio file."""

    engine = ""
    voice = ""

    @abstractmethod
    def synthesize(self, text: str, workdir: Path) -> Path:
        """Write speech for text under workdir; return the audio file (any sox format)."""


class EspeakSynthesizer(Synthesizer):
    """espeak-ng: voices vi (Northern), vi-vn-x-central, vi-vn-x-south."""

    engine = "espeak"

    def __init__(self, voice: str | None = None, speed: int = 130) -> None:
        self.voice = voice or "vi"
        self.speed = speed

    def synthesize(self, text: str, workdir: Path) -> Path:
        try:
            require("espeak-ng", "espeak-ng")
        except CallengineError as exc:
            raise SynthesisUnavailable(str(exc)) from None
        target = Path(workdir) / "espeak.wav"
        run(["espeak-ng", "-v", self.voice, "-s", str(self.speed), "-w", str(target), text])
        return target


def default_cache_dir() -> Path:
    """~/.cache/callengine/gtts (or under $XDG_CACHE_HOME)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "callengine" / "gtts"


def _sox_reads_mp3() -> bool:
    if shutil.which("sox") is None:
        return False
    result = subprocess.run(["sox", "-h"], capture_output=True, text=True)
    formats = next((line for line in result.stdout.splitlines()
                    if line.startswith("AUDIO FILE FORMATS")), "")
    return " mp3" in formats


def decodable(path: Path, workdir: Path) -> Path:
    """The audio as a file sox can read: WAV as is, MP3 through sox or ffmpeg."""
    if path.read_bytes()[:4] == b"RIFF":  # a WAV whatever its name
        target = Path(workdir) / "audio.wav"
        shutil.copyfile(path, target)
        return target
    if _sox_reads_mp3():
        return path
    if shutil.which("ffmpeg"):
        target = Path(workdir) / "gtts.wav"
        run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(path), "-ac", "1",
             str(target)])
        return target
    raise SynthesisUnavailable("gTTS returns MP3, which this machine cannot decode: "
                               "apt-get install -y libsox-fmt-mp3 (or ffmpeg)")


class GttsSynthesizer(Synthesizer):
    """gTTS with a timeout and a cache keyed by text, language and tld (the 'voice')."""

    engine = "gtts"

    def __init__(self, voice: str | None = None, *, lang: str = "vi", timeout: float = 15.0,
                 cache_dir: Path | None = None, gtts_factory=None) -> None:
        self.voice = voice or "com"  # Google domain: com, com.vn, ...
        self.lang = lang
        self.timeout = timeout
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.gtts_factory = gtts_factory

    def cache_path(self, text: str) -> Path:
        """Where the MP3 for a text is cached."""
        key = json.dumps([self.lang, self.voice, text], ensure_ascii=False)
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.cache_dir / f"{digest}.mp3"

    def _factory(self):
        if self.gtts_factory is not None:
            return self.gtts_factory
        try:
            from gtts import gTTS
        except ImportError:
            raise SynthesisUnavailable("gTTS is not installed: pip install gTTS") from None
        return gTTS

    def _fetch(self, text: str, target: Path) -> None:
        buffer = io.BytesIO()
        try:
            tts = self._factory()(text=text, lang=self.lang, tld=self.voice,
                                  timeout=self.timeout)
            tts.write_to_fp(buffer)
        except SynthesisUnavailable:
            raise
        except Exception as exc:  # gTTSError, requests errors, timeouts
            raise SynthesisUnavailable(f"gTTS failed ({str(exc)[:200]}): Google Translate "
                                       "must be reachable; offline, use --engine espeak") \
                from None
        if not buffer.getvalue():
            raise SynthesisUnavailable("gTTS returned no audio")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        partial.write_bytes(buffer.getvalue())
        partial.replace(target)

    def synthesize(self, text: str, workdir: Path) -> Path:
        cached = self.cache_path(text)
        if not cached.is_file() or cached.stat().st_size == 0:
            self._fetch(text, cached)
        return decodable(cached, workdir)


SYNTHESIZERS = {"espeak": EspeakSynthesizer, "gtts": GttsSynthesizer}


def make_synthesizer(engine: str = "espeak", voice: str | None = None, **options) -> Synthesizer:
    """A synthesiser by engine name: 'espeak' (offline) or 'gtts'."""
    if engine not in SYNTHESIZERS:
        raise ConfigError(f"unknown TTS engine {engine!r}: one of {', '.join(SYNTHESIZERS)}")
    return SYNTHESIZERS[engine](voice, **options)
