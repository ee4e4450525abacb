"""A real person's voice for the prompts: stage a recording, hear it, make it live, revert.

The files live in the folder Asterisk plays (`sounds_dir`, CE_SOUNDS in the dialplan):

    <id>.wav, <id>.alaw            what callers hear (callengine.prompts renders them)
    custom/<id>.wav                a human recording, the build's source for <id>
    custom/<id>.json               who made it live, when, from which file
    custom/preview/<id>.*          a staged recording, converted but not yet live

A recording is decoded (sox; ffmpeg for what sox cannot read, such as the WebM/Opus of a
browser's MediaRecorder), then rendered exactly like a synthesised prompt. Approval renames
the preview over the live files, so a call in progress never plays half a file. Every
change is written to the audit log. No Flask here: the admin's views call this.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from callengine import audit
from callengine.audit import Actor
from callengine.errors import CallengineError
from callengine.prompts import (
    NoSpeech,
    custom_path,
    install_custom,
    manifest_entries,
    prompt_texts,
    render_audio,
    restore_synthesis,
)
from callengine.questionnaire import Questionnaire, load_questionnaire
from callengine.settings import Settings
from callengine.speech.audio import PCM16, read_pcm16, run, voiced_seconds, wav_seconds
from callengine.store.db import Database

log = logging.getLogger(__name__)

HUMAN = "human"
SYNTHESISED = "synthesised"
PREVIEW_DIR = "preview"
MAX_FILENAME = 200
DECODE_TIMEOUT = 60
MIN_VOICED_SECONDS = 0.2  # of sound above the noise floor: less is an empty recording
_SOX_TYPES = ((b"RIFF", "wav"), (b"OggS", "ogg"), (b"fLaC", "flac"), (b"ID3", "mp3"),
              (b"\xff\xfb", "mp3"), (b"\xff\xf3", "mp3"), (b"\xff\xf2", "mp3"))
_CHANGES = threading.Lock()  # one change at a time in this process (waitress threads)


class PromptVoiceError(CallengineError):
    """A refused change; `code` names the reason for the admin's message."""

    def __init__(self, code: str, message: str, **values) -> None:
        super().__init__(message)
        self.code = code
        self.values = values


@dataclass(frozen=True)
class Preview:
    """A staged recording in the telephone format, waiting for approval."""

    prompt_id: str
    seconds: float  # after trimming
    source_seconds: float  # as uploaded
    filename: str
    by: str
    at: datetime


@dataclass(frozen=True)
class PromptInfo:
    """One prompt: its text, the voice callers hear now, and a waiting preview."""

    id: str
    text: str
    voice: str  # HUMAN or SYNTHESISED
    engine: str  # espeak, gtts, custom ('' before the first build)
    seconds: float | None  # the live file's length; None when it is missing
    preview: Preview | None
    is_question: bool = False  # a question of the survey (else a fixed prompt: intro, ...)
    changed_by: str | None = None  # who made the human voice live
    changed_at: datetime | None = None


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_json(path: Path, data: dict) -> None:
    partial = path.with_name(f".{path.name}.part")
    partial.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    partial.replace(path)


def _sniffed_type(data: bytes) -> str | None:
    """The sox type of an upload by its first bytes (None: let ffmpeg probe it)."""
    for magic, kind in _SOX_TYPES:
        if data.startswith(magic):
            return kind
    return None


def decode(upload: Path, kind: str | None, target: Path, limit_seconds: float) -> None:
    """Any readable audio -> 16-bit mono WAV at its own rate, at most limit_seconds long."""
    limit = f"{limit_seconds:g}"
    failures = []
    if kind and shutil.which("sox"):
        try:
            run(["sox", "-D", "-t", kind, str(upload), *PCM16, str(target), "trim", "0", limit],
                timeout=DECODE_TIMEOUT)
            return
        except CallengineError as exc:
            failures.append(str(exc))
    if shutil.which("ffmpeg"):
        try:
            run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(upload), "-vn",
                 "-map", "0:a:0", "-t", limit, "-ac", "1", "-c:a", "pcm_s16le", "-f", "wav",
                 str(target)], timeout=DECODE_TIMEOUT)
            return
        except CallengineError as exc:
            failures.append(str(exc))
    log.info("an uploaded prompt recording could not be decoded: %s", "; ".join(failures))
    raise PromptVoiceError("unreadable", "the audio cannot be read (WAV, MP3, Ogg, WebM...)")


class PromptVoices:
    """The prompts of a questionnaire in a sounds folder, and the changes of their voice."""

    def __init__(self, folder: Path, questionnaire: Questionnaire, db: Database, *,
                 max_bytes: int, max_seconds: float) -> None:
        self.folder = Path(folder)
        self.texts = prompt_texts(questionnaire)
        self.questions = frozenset(questionnaire.question_ids)
        self.db = db
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds

    @classmethod
    def from_settings(cls, settings: Settings, db: Database,
                      questionnaire: Questionnaire | None = None) -> PromptVoices:
        return cls(settings.sounds_dir, questionnaire or load_questionnaire(settings.questionnaire),
                   db, max_bytes=settings.prompt_upload_max_mb * 1024 * 1024,
                   max_seconds=settings.prompt_max_seconds)

    # -- reading --------------------------------------------------------------------------

    def knows(self, prompt_id: str) -> bool:
        """Whether a prompt id is one of the questionnaire's."""
        return prompt_id in self.texts

    def _text(self, prompt_id: str) -> str:
        if prompt_id not in self.texts:
            raise PromptVoiceError("unknown_prompt", f"no prompt {prompt_id!r}")
        return self.texts[prompt_id]

    def _preview_path(self, prompt_id: str, suffix: str) -> Path:
        return self.folder / "custom" / PREVIEW_DIR / f"{prompt_id}{suffix}"

    def live_file(self, prompt_id: str) -> Path | None:
        """The WAV callers hear for a known prompt id (None when it is not built)."""
        self._text(prompt_id)
        path = self.folder / f"{prompt_id}.wav"
        return path if path.is_file() else None

    def preview_file(self, prompt_id: str) -> Path | None:
        """The staged recording's telephone-format WAV, if one waits."""
        self._text(prompt_id)
        path = self._preview_path(prompt_id, ".wav")
        return path if path.is_file() and self.preview(prompt_id) else None

    def preview(self, prompt_id: str) -> Preview | None:
        meta = _read_json(self._preview_path(prompt_id, ".json"))
        if not meta or not self._preview_path(prompt_id, ".wav").is_file():
            return None
        try:
            return Preview(prompt_id, float(meta["seconds"]), float(meta["source_seconds"]),
                           str(meta["filename"]), str(meta["by"]),
                           datetime.fromisoformat(meta["at"]))
        except (KeyError, TypeError, ValueError):
            return None

    def info(self, prompt_id: str) -> PromptInfo:
        text = self._text(prompt_id)
        entry = manifest_entries(self.folder).get(prompt_id, {})
        live = self.live_file(prompt_id)
        human = custom_path(self.folder, prompt_id).is_file()
        meta = _read_json(custom_path(self.folder, prompt_id).with_suffix(".json")) \
            if human else {}
        return PromptInfo(
            prompt_id, text, HUMAN if human else SYNTHESISED, entry.get("engine", ""),
            wav_seconds(live) if live else None, self.preview(prompt_id),
            prompt_id in self.questions, meta.get("by"),
            datetime.fromisoformat(meta["at"]) if meta.get("at") else None)

    def list(self) -> list[PromptInfo]:
        """Every prompt, in the questionnaire's order."""
        return [self.info(prompt_id) for prompt_id in self.texts]

    # -- changing -------------------------------------------------------------------------

    def _audit(self, action: str, prompt_id: str, actor: Actor | None, now: datetime,
               **detail) -> None:
        with self.db.session() as session:
            audit.record_in(session, action, actor=actor, at=now, object_type="prompt",
                            object_id=prompt_id, detail=detail or None)

    def stage(self, prompt_id: str, data: bytes, filename: str, *, actor: Actor | None,
              now: datetime) -> Preview:
        """Convert an upload to the telephone format and keep it as the prompt's preview."""
        self._text(prompt_id)
        if len(data) > self.max_bytes:
            raise PromptVoiceError("too_large", "the file is too large",
                                   limit=self.max_bytes // (1024 * 1024))
        if not data:
            raise PromptVoiceError("unreadable", "the file is empty")
        filename = (filename or "").strip()[:MAX_FILENAME]
        preview_dir = self._preview_path(prompt_id, "").parent
        preview_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=preview_dir, prefix=".stage-") as tmp:
            upload, source = Path(tmp) / "upload", Path(tmp) / "source.wav"
            upload.write_bytes(data)
            decode(upload, _sniffed_type(data), source, self.max_seconds + 1)
            source_seconds = wav_seconds(source) or 0.0
            if source_seconds > self.max_seconds:
                raise PromptVoiceError("too_long", "the recording is too long",
                                       limit=round(self.max_seconds))
            rendered = Path(tmp) / "rendered.wav"
            try:
                if voiced_seconds(*read_pcm16(source)) < MIN_VOICED_SECONDS:
                    raise NoSpeech("nothing louder than the noise floor")
                render_audio(source, rendered)
            except NoSpeech:
                raise PromptVoiceError("silent", "nothing but silence") from None
            with _CHANGES:
                source.replace(self._preview_path(prompt_id, ".source.wav"))
                rendered.with_suffix(".alaw").replace(self._preview_path(prompt_id, ".alaw"))
                rendered.replace(self._preview_path(prompt_id, ".wav"))
                seconds = wav_seconds(self._preview_path(prompt_id, ".wav")) or 0.0
                _write_json(self._preview_path(prompt_id, ".json"), {
                    "filename": filename, "by": actor.username if actor else "",
                    "at": now.isoformat(), "seconds": round(seconds, 2),
                    "source_seconds": round(source_seconds, 2)})
        self._audit("prompt.stage", prompt_id, actor, now, filename=filename,
                    seconds=round(seconds, 2))
        preview = self.preview(prompt_id)
        assert preview is not None
        return preview

    def _drop_preview(self, prompt_id: str) -> None:
        for suffix in (".json", ".wav", ".alaw", ".source.wav"):
            self._preview_path(prompt_id, suffix).unlink(missing_ok=True)

    def approve(self, prompt_id: str, *, actor: Actor | None, now: datetime) -> PromptInfo:
        """Make the waiting preview what callers hear, at once."""
        text = self._text(prompt_id)
        with _CHANGES:
            preview = self.preview(prompt_id)
            if preview is None:
                raise PromptVoiceError("no_preview", "no recording waits for approval")
            install_custom(self.folder, prompt_id, text,
                           self._preview_path(prompt_id, ".source.wav"),
                           self._preview_path(prompt_id, ".wav"))
            _write_json(custom_path(self.folder, prompt_id).with_suffix(".json"), {
                "by": actor.username if actor else "", "at": now.isoformat(),
                "filename": preview.filename})
            self._drop_preview(prompt_id)
        self._audit("prompt.approve", prompt_id, actor, now, filename=preview.filename,
                    seconds=preview.seconds)
        return self.info(prompt_id)

    def discard(self, prompt_id: str, *, actor: Actor | None, now: datetime) -> None:
        """Throw the waiting preview away; callers hear what they heard."""
        self._text(prompt_id)
        with _CHANGES:
            if self.preview(prompt_id) is None:
                raise PromptVoiceError("no_preview", "no recording waits for approval")
            self._drop_preview(prompt_id)
        self._audit("prompt.discard", prompt_id, actor, now)

    def revert(self, prompt_id: str, *, actor: Actor | None, now: datetime) -> PromptInfo:
        """Back to the synthesised voice (rendered again with the other prompts' voice)."""
        text = self._text(prompt_id)
        with _CHANGES:
            custom = custom_path(self.folder, prompt_id)
            if not custom.is_file():
                raise PromptVoiceError("not_human", "the prompt already has the synthesised voice")
            restore_synthesis(self.folder, prompt_id, text)
            custom.with_suffix(".json").unlink(missing_ok=True)
        self._audit("prompt.revert", prompt_id, actor, now)
        return self.info(prompt_id)

