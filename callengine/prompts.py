"""Render the questionnaire's prompts to telephone audio, content-addressed.

Each prompt id (intro, reprompt, ..., fever, cough, ...) becomes <folder>/<id>.wav (8 kHz mono
16-bit PCM) and <id>.alaw (raw A-law) beside it: the dialplan plays them by id. The
speech is trimmed of silence at both ends and brought to a common loudness with headroom.

<folder>/manifest.json maps each id to its text, engine, voice, the sha256 of text + engine +
voice, and its files. A prompt whose manifest entry still matches is not rebuilt, so editing
one text rebuilds one file.

A human recording at <folder>/custom/<id>.wav (any rate, any sox-readable WAV) replaces
the synthesis for that id; it is processed the same way, and rebuilt when it changes.
`install_custom` and `restore_synthesis` swap one prompt's voice at once (the admin's
prompts page, through callengine.prompt_voice).

Every file Asterisk plays is written beside its final name and renamed over it, so a call
in progress never plays half a file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from callengine.errors import CallengineError
from callengine.questionnaire import Questionnaire
from callengine.speech.audio import TELEPHONE_RATE, read_pcm16, require, run, write_pcm16
from callengine.speech.tts import SynthesisUnavailable, Synthesizer, make_synthesizer

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
CUSTOM_DIR = "custom"
RENDER = "r1"  # bump when the processing below changes: every prompt is rebuilt
TARGET_RMS_DB = -20.0  # loudness of the speech (RMS of its active frames), dBFS
PEAK_CEILING_DB = -1.0  # never louder than this peak, dBFS: headroom, no clipping
LEAD_SECONDS = 0.05  # silence kept before the speech (the codec's first frame)
# High-pass against rumble, normalise (so the silence threshold is relative), trim both ends.
SOX_EFFECTS = ["highpass", "80", "gain", "-n", "-3",
               "silence", "1", "0.05", "1%", "reverse", "silence", "1", "0.05", "1%", "reverse",
               "pad", str(LEAD_SECONDS), "0.1"]


class NoSpeech(CallengineError):
    """Nothing but silence in the audio."""


@dataclass
class PromptBuild:
    """What a build did; iterating gives every prompt's WAV file."""

    files: list[Path] = field(default_factory=list)
    rebuilt: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)  # ids spoken by the fallback engine

    def __iter__(self):
        return iter(self.files)


def prompt_texts(questionnaire: Questionnaire) -> dict[str, str]:
    """Prompt id -> text: the questionnaire's prompts, then its questions."""
    return {**questionnaire.prompts, **{q.id: q.text for q in questionnaire.questions}}


def content_key(text: str, engine: str, voice: str) -> str:
    """sha256 of what a prompt's audio depends on."""
    return hashlib.sha256(json.dumps([text, engine, voice], ensure_ascii=False)
                          .encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def loudness_gain(samples: np.ndarray, frame: int = 160) -> float:
    """Linear gain bringing active speech to TARGET_RMS_DB, capped by PEAK_CEILING_DB."""
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak <= 0.0:
        return 1.0
    usable = samples[: samples.size // frame * frame].reshape(-1, frame) if \
        samples.size >= frame else samples.reshape(1, -1)
    frame_rms = np.sqrt(np.mean(usable.astype(np.float64) ** 2, axis=1))
    active = usable[frame_rms >= frame_rms.max() * 10 ** (-30 / 20)]
    rms = float(np.sqrt(np.mean(active.astype(np.float64) ** 2)))
    gain_db = min(TARGET_RMS_DB - 20 * np.log10(rms), PEAK_CEILING_DB - 20 * np.log10(peak))
    return float(10 ** (gain_db / 20))


def render_audio(source: Path, target: Path) -> None:
    """Any audio -> trimmed, loudness-normalised 8 kHz 16-bit WAV target and its .alaw twin."""
    require("sox", "sox")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "speech.f32"
        run(["sox", "-D", str(source), "-t", "raw", "-e", "floating-point", "-b", "32",
             "-r", str(TELEPHONE_RATE), "-c", "1", str(raw), *SOX_EFFECTS])
        samples = np.fromfile(raw, dtype="<f4").astype(np.float64)
    if samples.size < TELEPHONE_RATE * 0.2:
        raise NoSpeech(f"{source}: no speech left after trimming silence")
    partial = target.with_name(f".{target.stem}.part.wav")
    try:
        write_pcm16(partial, samples * loudness_gain(samples), TELEPHONE_RATE)
        run(["sox", "-D", str(partial), "-t", "al", str(partial.with_suffix(".alaw"))])
        partial.with_suffix(".alaw").replace(target.with_suffix(".alaw"))
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
        partial.with_suffix(".alaw").unlink(missing_ok=True)


def _load_manifest(folder: Path) -> dict:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return data.get("prompts", {}) if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_manifest(folder: Path, prompts: dict) -> None:
    data = {"format": "8 kHz mono 16-bit PCM WAV, raw A-law beside it", "render": RENDER,
            "custom": f"{CUSTOM_DIR}/<id>.wav overrides the synthesis of <id>",
            "prompts": prompts}
    partial = folder / (MANIFEST + ".part")
    partial.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    partial.replace(folder / MANIFEST)


def custom_path(folder: Path, prompt_id: str) -> Path:
    """Where the human recording of a prompt is kept."""
    return Path(folder) / CUSTOM_DIR / f"{prompt_id}.wav"


def _synthesis_wanted(text: str, synthesizer: Synthesizer) -> dict:
    return {"text": text, "engine": synthesizer.engine, "voice": synthesizer.voice,
            "sha256": content_key(text, synthesizer.engine, synthesizer.voice)}


def _wanted(folder: Path, prompt_id: str, text: str, synthesizer: Synthesizer | None) -> dict:
    custom = custom_path(folder, prompt_id)
    if custom.is_file():
        voice = file_sha256(custom)  # a new recording is a new "voice"
        return {"text": text, "engine": "custom", "voice": voice,
                "sha256": content_key(text, "custom", voice),
                "source": f"{CUSTOM_DIR}/{prompt_id}.wav"}
    assert synthesizer is not None
    return _synthesis_wanted(text, synthesizer)


def _up_to_date(folder: Path, entry: dict | None, wanted: dict) -> bool:
    if not entry or entry.get("sha256") != wanted["sha256"] or entry.get("render") != RENDER:
        return False
    wav, alaw = folder / entry.get("file", ""), folder / entry.get("alaw", "")
    return wav.is_file() and alaw.is_file() and file_sha256(wav) == entry.get("audio_sha256")


def _speak(text: str, workdir: Path, synthesizer: Synthesizer, fallback: Synthesizer | None,
           prompt_id: str, build: PromptBuild) -> tuple[Path, Synthesizer]:
    try:
        return synthesizer.synthesize(text, workdir), synthesizer
    except SynthesisUnavailable as exc:
        if fallback is None:
            raise
        log.warning("prompt %s: %s; using %s", prompt_id, exc, fallback.engine)
        build.fallbacks.append(prompt_id)
        return fallback.synthesize(text, workdir), fallback


def _render(folder: Path, prompt_id: str, wanted: dict, synthesizer: Synthesizer,
            fallback: Synthesizer | None, build: PromptBuild) -> dict:
    target = folder / f"{prompt_id}.wav"
    with tempfile.TemporaryDirectory() as tmp:
        if "source" in wanted:
            source = folder / wanted["source"]
        else:
            source, used = _speak(wanted["text"], Path(tmp), synthesizer, fallback, prompt_id,
                                  build)
            if used is not synthesizer:
                wanted = {**_synthesis_wanted(wanted["text"], used),
                          "fallback_from": synthesizer.engine}
        render_audio(source, target)
    return _rendered(target, wanted)


def _rendered(target: Path, wanted: dict) -> dict:
    """The manifest entry of a prompt rendered to target."""
    samples, rate = read_pcm16(target)
    return {**wanted, "render": RENDER, "file": target.name,
            "alaw": target.with_suffix(".alaw").name, "audio_sha256": file_sha256(target),
            "seconds": round(samples.size / rate, 2)}


def manifest_entries(folder: Path) -> dict:
    """Prompt id -> its manifest entry (engine, text, seconds, ...); {} before a build."""
    return _load_manifest(Path(folder))


def synthesis_in_use(entries: dict) -> tuple[str, str | None]:
    """The (engine, voice) most prompts of a manifest are synthesised with; espeak if none."""
    used = [(e.get("engine"), e.get("voice")) for e in entries.values()
            if e.get("engine") not in (None, "custom") and "fallback_from" not in e]
    return max(set(used), key=used.count) if used else ("espeak", None)


def install_custom(folder: Path, prompt_id: str, text: str, recording: Path,
                   rendered: Path) -> dict:
    """Make a human recording the live prompt at once, and return its manifest entry.

    recording becomes custom/<id>.wav; rendered (render_audio's output of it, with its
    .alaw, on the same file system) is renamed over <id>.wav and <id>.alaw. The manifest
    then matches, so the next build keeps it.
    """
    folder = Path(folder)
    custom = custom_path(folder, prompt_id)
    custom.parent.mkdir(parents=True, exist_ok=True)
    Path(recording).replace(custom)
    target = folder / f"{prompt_id}.wav"
    Path(rendered).with_suffix(".alaw").replace(target.with_suffix(".alaw"))
    Path(rendered).replace(target)
    entry = _rendered(target, _wanted(folder, prompt_id, text, None))
    _save_manifest(folder, {**_load_manifest(folder), prompt_id: entry})
    return entry


def restore_synthesis(folder: Path, prompt_id: str, text: str) -> dict:
    """Synthesise a prompt again with the voice of the other prompts; drop its recording.

    The human prompt stays live until the synthesised one replaces it; if synthesis fails,
    nothing changes.
    """
    folder = Path(folder)
    manifest = _load_manifest(folder)
    synthesizer = make_synthesizer(*synthesis_in_use(manifest))
    fallback = make_synthesizer("espeak") if synthesizer.engine != "espeak" else None
    entry = _render(folder, prompt_id, _synthesis_wanted(text, synthesizer), synthesizer,
                    fallback, PromptBuild())
    custom_path(folder, prompt_id).unlink(missing_ok=True)
    _save_manifest(folder, {**manifest, prompt_id: entry})
    return entry


def build_prompts(questionnaire: Questionnaire, folder: Path, engine: str = "espeak",
                  voice: str | None = None, *, synthesizer: Synthesizer | None = None,
                  fallback: Synthesizer | None = None) -> PromptBuild:
    """Render every prompt whose text, engine, voice or custom recording changed.

    gTTS falls back to espeak-ng for a prompt it cannot fetch (recorded in the manifest as
    fallback_from, and retried at the next build). `synthesizer` replaces the engine.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    synthesizer = synthesizer or make_synthesizer(engine, voice)
    if fallback is None and synthesizer.engine != "espeak":
        fallback = make_synthesizer("espeak")
    manifest, build = _load_manifest(folder), PromptBuild()
    entries = {}
    for prompt_id, text in prompt_texts(questionnaire).items():
        wanted = _wanted(folder, prompt_id, text, synthesizer)
        if _up_to_date(folder, manifest.get(prompt_id), wanted):
            entries[prompt_id] = manifest[prompt_id]
            build.kept.append(prompt_id)
        else:
            entries[prompt_id] = _render(folder, prompt_id, wanted, synthesizer, fallback, build)
            build.rebuilt.append(prompt_id)
            _save_manifest(folder, {**manifest, **entries})
        build.files.append(folder / entries[prompt_id]["file"])
    _save_manifest(folder, entries)
    return build
