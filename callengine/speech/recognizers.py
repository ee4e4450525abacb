"""Speech recognisers behind one interface: an audio file -> Transcript(text, confidence).

- VietAsrRecognizer (default): viet-asr's embedded Vietnamese model, offline. viet-asr reports
  no confidence, so it is measured: see perturbation_confidence().
- VoskRecognizer: a Vosk model from a directory (vosk-model-small-vn-0.4, fetched with
  scripts/fetch-vosk-model); 8 kHz telephone audio is resampled to 16 kHz; a grammar is used
  only when the model has runtime graphs and an [unk] word. Confidence: Vosk's word confs.

A missing engine or model raises RecognizerUnavailable (a CallengineError) naming what to
install; a failure while recognising raises RecognitionFailed. Neither is a crash.
"""

from __future__ import annotations

import difflib
import json
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from callengine.errors import CallengineError, ConfigError
from callengine.speech.audio import TELEPHONE_RATE, load_pcm16

VIET_ASR_INSTALL = "pip install viet-asr==0.1.0.dev11"
VOSK_INSTALL = "pip install vosk==0.3.45"
VOSK_MODEL = "vosk-model-small-vn-0.4"
MIN_SECONDS = 0.1  # shorter audio is silence, not an answer


class RecognizerUnavailable(CallengineError):
    """The recognition engine or its model is not installed."""


class RecognitionFailed(CallengineError):
    """The engine could not turn a recording into text."""


@dataclass(frozen=True)
class Transcript:
    """What a recogniser heard."""

    text: str  # lower-case words, no punctuation; "" when nothing was recognised
    confidence: float  # 0..1; how it is derived depends on the recogniser
    seconds: float  # length of the audio
    elapsed: float = 0.0  # seconds spent recognising


class Recognizer(ABC):
    """Turns one recording (any format sox reads) into a Transcript."""

    name = ""

    @abstractmethod
    def transcribe(self, wav_path: Path) -> Transcript:
        """Recognise the speech in a recording."""


# --- viet-asr ---------------------------------------------------------------------------

def perturb(samples: np.ndarray) -> list[np.ndarray]:
    """Two slightly changed copies of the audio: 10 % slower, and white noise at 20 dB SNR."""
    signal = samples.astype(np.float64)
    slower = np.interp(np.arange(0, signal.size - 1, 0.9), np.arange(signal.size), signal)
    rms = float(np.sqrt(np.mean(signal ** 2))) if signal.size else 0.0
    noise = np.random.default_rng(0).normal(0.0, rms / 10.0, signal.size)
    return [np.clip(np.round(x), -32768, 32767).astype(np.int16) for x in (slower, signal + noise)]


def perturbation_confidence(text: str, others: list[str]) -> float:
    """Share of the words of text that each perturbed decoding also heard, averaged.

    A word the model still hears when the audio is slowed down or noised is one it is sure
    of; on the vieneu recordings the words that changed were the wrong ones.
    """
    words = text.split()
    if not words:
        return 0.0
    if not others:
        return 1.0
    agree = np.zeros(len(words))
    for other in others:
        matcher = difflib.SequenceMatcher(None, words, other.split(), autojunk=False)
        for block in matcher.get_matching_blocks():
            agree[block.a:block.a + block.size] += 1
    return round(float(np.mean(agree / len(others))), 3)


def _load_vietasr():
    try:
        import vietasr
        from vietasr.ffi import native
    except ImportError as exc:
        raise RecognizerUnavailable(f"viet-asr is not installed ({exc}): {VIET_ASR_INSTALL}") \
            from None
    except OSError as exc:  # the native library does not load on this platform
        raise RecognizerUnavailable(f"viet-asr cannot load its native library ({exc}); "
                                    f"it ships manylinux x86_64 wheels: {VIET_ASR_INSTALL}") \
            from None
    native.lib.vietasr_set_log_level(3)  # warnings and errors only
    try:
        return vietasr.Pipeline.preset("transcribe")
    except Exception as exc:  # vietasr raises PipelineError(RuntimeError)
        raise RecognizerUnavailable(f"viet-asr could not load its model ({exc}); "
                                    f"reinstall: {VIET_ASR_INSTALL}") from None


class VietAsrRecognizer(Recognizer):
    """viet-asr's "transcribe" preset on 8 kHz 16-bit PCM (other formats converted by sox).

    Confidence: viet-asr exposes none (its result has only text), so the audio is decoded
    again twice, slowed down 10 % and with noise at 20 dB SNR, and the confidence is the
    share of words the decodings agree on (perturbation_confidence). This triples the
    decoding time of an answer; perturbations=1 keeps only the slowed copy, perturbations=0
    skips the check (confidence is then 1.0 for any text: no information).
    """

    name = "viet-asr"
    rate = TELEPHONE_RATE

    def __init__(self, *, pipeline=None, perturbations: int = 2) -> None:
        if perturbations not in (0, 1, 2):
            raise ConfigError(f"viet-asr perturbations: {perturbations!r} is not 0, 1 or 2")
        self.pipeline = pipeline if pipeline is not None else _load_vietasr()
        self.perturbations = perturbations

    def _decode(self, samples: np.ndarray) -> str:
        try:
            result = self.pipeline.transcribe(samples, sample_rate=float(self.rate))
        except Exception as exc:
            raise RecognitionFailed(f"viet-asr failed: {exc}") from None
        return " ".join(str(result.text).lower().split())

    def transcribe(self, wav_path: Path) -> Transcript:
        samples = load_pcm16(Path(wav_path), self.rate)
        seconds = samples.size / self.rate
        started = time.perf_counter()
        if seconds < MIN_SECONDS:
            return Transcript("", 0.0, seconds, time.perf_counter() - started)
        text = self._decode(samples)
        copies = perturb(samples)[:self.perturbations] if text else []
        others = [self._decode(x) for x in copies]
        confidence = perturbation_confidence(text, others)
        return Transcript(text, confidence, seconds, time.perf_counter() - started)


# --- Vosk -------------------------------------------------------------------------------

def has_runtime_graphs(model_dir: Path) -> bool:
    """Whether a Vosk model can take a grammar (HCLr.fst and Gr.fst, not a static HCLG)."""
    return any((base / "HCLr.fst").is_file() and (base / "Gr.fst").is_file()
               for base in (model_dir / "graph", model_dir))


def _check_model_dir(model_dir: Path) -> None:
    if not model_dir.is_dir():
        raise RecognizerUnavailable(
            f"no Vosk model directory {model_dir}: fetch {VOSK_MODEL} with "
            f"scripts/fetch-vosk-model {model_dir} where the internet is reachable, "
            f"or copy an unpacked Vosk model there")
    if not any((model_dir / p).is_file() for p in ("am/final.mdl", "final.mdl")):
        raise RecognizerUnavailable(
            f"{model_dir} is not a Vosk model (no am/final.mdl): unpack {VOSK_MODEL} there "
            f"(scripts/fetch-vosk-model {model_dir})")


def _load_vosk(model_dir: Path):
    try:
        import vosk
    except ImportError as exc:
        raise RecognizerUnavailable(f"vosk is not installed ({exc}): {VOSK_INSTALL}") from None
    vosk.SetLogLevel(-1)
    try:
        return vosk, vosk.Model(str(model_dir))
    except Exception as exc:
        raise RecognizerUnavailable(f"Vosk could not load the model in {model_dir} ({exc}); "
                                    f"unpack {VOSK_MODEL} there again") from None


@dataclass(frozen=True)
class GrammarPlan:
    """The grammar a Vosk recogniser uses (None: free decoding) and why."""

    grammar: str | None
    note: str
    missing: tuple[str, ...] = ()


def plan_grammar(words, *, runtime_graphs: bool, has_unk: bool, known) -> GrammarPlan:
    """A JSON grammar of the in-vocabulary words plus [unk], when the model allows one."""
    if not words:
        return GrammarPlan(None, "free decoding: no grammar words")
    if not runtime_graphs:
        return GrammarPlan(None, "free decoding: the model has no runtime graphs "
                                 "(graph/HCLr.fst, graph/Gr.fst)")
    if not has_unk:
        return GrammarPlan(None, "free decoding: the model has no [unk] word, so a grammar "
                                 "would force every sound into a listed word")
    kept = [w for w in dict.fromkeys(words) if all(known(t) for t in w.split())]
    missing = tuple(w for w in dict.fromkeys(words) if w not in kept)
    if not kept:
        return GrammarPlan(None, "free decoding: no grammar word is in the model's vocabulary",
                           missing)
    grammar = json.dumps([*kept, "[unk]"], ensure_ascii=False)
    return GrammarPlan(grammar, f"grammar of {len(kept)} phrases and [unk]", missing)


class VoskRecognizer(Recognizer):
    """A Vosk model from a directory; 16 kHz input; optional grammar (see plan_grammar)."""

    name = "vosk"
    rate = 16000
    chunk = 4000  # samples per AcceptWaveform call

    def __init__(self, model_dir: Path, grammar_words=None, *, _loaded=None) -> None:
        self.model_dir = Path(model_dir)
        if _loaded is None:
            _check_model_dir(self.model_dir)
            _loaded = _load_vosk(self.model_dir)
        self._vosk, self.model = _loaded
        self.runtime_graphs = has_runtime_graphs(self.model_dir)
        self.has_unk = self.knows("[unk]")
        self.plan = plan_grammar(grammar_words or (), runtime_graphs=self.runtime_graphs,
                                 has_unk=self.has_unk, known=self.knows)

    def knows(self, word: str) -> bool:
        """Whether a word is in the model's vocabulary."""
        return self.model.vosk_model_find_word(word) >= 0

    def with_grammar(self, grammar_words) -> VoskRecognizer:
        """The same loaded model with another grammar (e.g. per question)."""
        return VoskRecognizer(self.model_dir, grammar_words, _loaded=(self._vosk, self.model))

    def _recognizer(self):
        if self.plan.grammar:
            recognizer = self._vosk.KaldiRecognizer(self.model, self.rate, self.plan.grammar)
        else:
            recognizer = self._vosk.KaldiRecognizer(self.model, self.rate)
        recognizer.SetWords(True)
        return recognizer

    def _words(self, samples: np.ndarray) -> list[dict]:
        recognizer, results = self._recognizer(), []
        data = samples.astype("<i2").tobytes()
        step = self.chunk * 2
        try:
            for start in range(0, len(data), step):
                if recognizer.AcceptWaveform(data[start:start + step]):
                    results.append(json.loads(recognizer.Result()))
            results.append(json.loads(recognizer.FinalResult()))
        except Exception as exc:
            raise RecognitionFailed(f"Vosk failed: {exc}") from None
        return [word for result in results for word in result.get("result", [])]

    def transcribe(self, wav_path: Path) -> Transcript:
        samples = load_pcm16(Path(wav_path), self.rate)  # sox resamples 8 -> 16 kHz
        seconds = samples.size / self.rate
        started = time.perf_counter()
        words = [w for w in self._words(samples) if w.get("word") != "[unk]"]
        text = " ".join(w["word"] for w in words)
        confidence = round(float(np.mean([w.get("conf", 0.0) for w in words])), 3) if words \
            else 0.0
        return Transcript(text, confidence, seconds, time.perf_counter() - started)


RECOGNIZERS = {"viet-asr": VietAsrRecognizer, "vosk": VoskRecognizer}


def make_recognizer(name: str = "viet-asr", **options) -> Recognizer:
    """A recogniser by name: 'viet-asr' (default) or 'vosk' (needs model_dir=...)."""
    if name not in RECOGNIZERS:
        raise ConfigError(f"unknown recogniser {name!r}: one of {', '.join(RECOGNIZERS)}")
    if name == "vosk" and not options.get("model_dir"):
        raise RecognizerUnavailable(f"vosk needs a model directory (--model DIR): fetch "
                                    f"{VOSK_MODEL} with scripts/fetch-vosk-model DIR")
    try:
        return RECOGNIZERS[name](**options)
    except TypeError as exc:
        raise ConfigError(f"recogniser {name}: {exc}") from None
