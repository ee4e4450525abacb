"""A person's voice for a prompt (callengine.prompt_voice): stage, approve, discard, revert."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import wave
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from callengine.audit import Actor
from callengine.prompt_voice import HUMAN, SYNTHESISED, PromptVoiceError, PromptVoices
from callengine.prompts import MANIFEST, build_prompts
from callengine.questionnaire import load_questionnaire
from callengine.settings import DEFAULT_QUESTIONNAIRE
from callengine.speech.audio import read_pcm16
from callengine.store.accounts import AuditEvent
from callengine.store.db import Database

QUESTIONNAIRE = load_questionnaire(DEFAULT_QUESTIONNAIRE)
LAN = Actor(None, "lan", "10.0.0.5")
NOW = datetime(2021, 8, 2, 3, 0, tzinfo=timezone.utc)


def tone_wav(seconds: float = 1.5, rate: int = 44100, silence: float = 1.0,
             peak: float = 0.25) -> bytes:
    """A stereo WAV: silence, a speech-like tone, silence (what a phone app records)."""
    t = np.arange(int(seconds * rate)) / rate
    tone = peak * np.sin(2 * np.pi * 300 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    quiet = np.zeros(int(silence * rate))
    mono = np.concatenate([quiet, tone, quiet])
    frames = np.round(np.repeat(mono[:, None], 2, axis=1) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames.tobytes())
    return buffer.getvalue()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("built")
    build_prompts(QUESTIONNAIRE, folder)
    return folder


@pytest.fixture
def sounds(built, tmp_path) -> Path:
    folder = tmp_path / "sounds"
    shutil.copytree(built, folder)
    return folder


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'audit.db'}")
    yield database
    database.dispose()


@pytest.fixture
def voices(sounds, db) -> PromptVoices:
    return PromptVoices(sounds, QUESTIONNAIRE, db, max_bytes=2 * 1024 * 1024, max_seconds=10)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def audit_actions(db) -> list[tuple[str, str, str]]:
    with db.session() as session:
        return [(e.action, e.object_id, e.username)
                for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_every_prompt_is_listed_with_its_text_and_synthesised_voice(voices):
    prompts = voices.list()
    assert [p.id for p in prompts] == list(QUESTIONNAIRE.prompt_ids())
    fever = next(p for p in prompts if p.id == "fever")
    assert fever.text == QUESTIONNAIRE.question("fever").text
    assert (fever.voice, fever.engine, fever.preview) == (SYNTHESISED, "espeak", None)
    assert 0.5 < fever.seconds < 20


def test_a_staged_recording_is_telephone_audio_trimmed_and_normalised(voices, sounds, db):
    live_before = (sounds / "fever.wav").read_bytes()
    quiet = tone_wav(peak=0.05)  # -26 dBFS: a phone held too far away
    preview = voices.stage("fever", quiet, "giong-lan.wav", actor=LAN, now=NOW)
    assert (preview.filename, preview.by, preview.at) == ("giong-lan.wav", "lan", NOW)
    assert preview.source_seconds == pytest.approx(3.5, abs=0.01)
    assert 1.4 < preview.seconds < 1.8  # the two seconds of silence are gone

    wav = voices.preview_file("fever")
    with wave.open(str(wav)) as f:
        assert (f.getframerate(), f.getnchannels(), f.getsampwidth()) == (8000, 1, 2)
    samples, _ = read_pcm16(wav)
    level = samples.astype(float) / 32768
    active = level[np.abs(level) > 0.01]
    assert -22 < 20 * np.log10(np.sqrt(np.mean(active ** 2))) < -18  # the prompts' loudness
    assert 20 * np.log10(np.abs(level).max()) <= -0.9  # headroom kept, no clipping
    assert wav.with_suffix(".alaw").stat().st_size == samples.size  # 1 byte per sample
    assert (sounds / "fever.wav").read_bytes() == live_before  # nothing live yet
    assert voices.info("fever").preview == preview
    assert audit_actions(db) == [("prompt.stage", "fever", "lan")]


def test_approval_makes_the_recording_what_asterisk_plays(voices, sounds, db):
    voices.stage("cough", tone_wav(), "ho.wav", actor=LAN, now=NOW)
    staged = voices.preview_file("cough").read_bytes()
    info = voices.approve("cough", actor=LAN, now=NOW)
    assert (info.voice, info.engine, info.preview) == (HUMAN, "custom", None)
    assert (info.changed_by, info.changed_at) == ("lan", NOW)
    assert (sounds / "cough.wav").read_bytes() == staged
    assert (sounds / "cough.alaw").stat().st_size == read_pcm16(sounds / "cough.wav")[0].size
    assert (sounds / "custom" / "cough.wav").is_file()
    assert not list(sounds.glob(".*part*")), "no temporary file left where Asterisk looks"
    assert voices.preview_file("cough") is None
    # The next build keeps the human voice: the manifest already matches it.
    assert "cough" in build_prompts(QUESTIONNAIRE, sounds).kept
    assert (sounds / "cough.wav").read_bytes() == staged
    assert audit_actions(db)[-1] == ("prompt.approve", "cough", "lan")


def test_approval_replaces_the_live_file_by_renaming_it(voices, sounds):
    voices.stage("throat", tone_wav(), "a.wav", actor=LAN, now=NOW)
    with open(sounds / "throat.wav", "rb") as playing:  # a call has the old file open
        voices.approve("throat", actor=LAN, now=NOW)
        old = playing.read()
    assert old[:4] == b"RIFF" and old != (sounds / "throat.wav").read_bytes()
    assert len(old) == wave.open(io.BytesIO(old)).getnframes() * 2 + 44  # whole, untouched


def test_revert_brings_back_the_synthesised_voice(voices, sounds, built, db):
    voices.stage("fatigue", tone_wav(), "a.wav", actor=LAN, now=NOW)
    voices.approve("fatigue", actor=LAN, now=NOW)
    info = voices.revert("fatigue", actor=LAN, now=NOW)
    assert (info.voice, info.engine) == (SYNTHESISED, "espeak")
    assert (sounds / "fatigue.wav").read_bytes() == (built / "fatigue.wav").read_bytes()
    assert not (sounds / "custom" / "fatigue.wav").exists()
    manifest = json.loads((sounds / MANIFEST).read_text(encoding="utf-8"))["prompts"]
    assert manifest["fatigue"]["engine"] == "espeak"
    assert audit_actions(db)[-1] == ("prompt.revert", "fatigue", "lan")
    with pytest.raises(PromptVoiceError) as error:
        voices.revert("fatigue", actor=LAN, now=NOW)
    assert error.value.code == "not_human"


def test_discard_drops_the_preview_and_changes_nothing_live(voices, sounds, db):
    before = snapshot(sounds)
    voices.stage("intro", tone_wav(), "a.wav", actor=LAN, now=NOW)
    voices.discard("intro", actor=LAN, now=NOW)
    assert snapshot(sounds) == before
    with pytest.raises(PromptVoiceError) as error:
        voices.approve("intro", actor=LAN, now=NOW)
    assert error.value.code == "no_preview"
    assert [a for a, _, _ in audit_actions(db)] == ["prompt.stage", "prompt.discard"]


@pytest.mark.parametrize("data, code", [
    (b"RIFF\x24\x00\x00\x00WAVEfmt garbage that is no audio", "unreadable"),
    (b"%PDF-1.4 not a sound at all" * 10, "unreadable"),
    (b"", "unreadable"),
    (tone_wav(seconds=0.5, peak=0.0), "silent"),
    (tone_wav(seconds=12, rate=8000, silence=0.1), "too_long"),
    (b"RIFF" + b"\x00" * (2 * 1024 * 1024), "too_large"),
], ids=["broken-wav", "not-audio", "empty", "silence", "too-long", "too-large"])
def test_bad_uploads_are_refused_and_nothing_is_stored(voices, sounds, db, data, code):
    before = snapshot(sounds)
    with pytest.raises(PromptVoiceError) as error:
        voices.stage("fever", data, "x.wav", actor=LAN, now=NOW)
    assert error.value.code == code
    assert snapshot(sounds) == before
    assert audit_actions(db) == []


def test_limits_come_with_the_refusal(voices):
    with pytest.raises(PromptVoiceError) as error:
        voices.stage("fever", tone_wav(seconds=12, rate=8000), "x.wav", actor=LAN, now=NOW)
    assert error.value.values == {"limit": 10}


def test_an_unknown_prompt_id_is_refused(voices, sounds):
    for prompt_id in ("nope", "../manifest", "custom/fever"):
        with pytest.raises(PromptVoiceError) as error:
            voices.stage(prompt_id, tone_wav(), "a.wav", actor=LAN, now=NOW)
        assert error.value.code == "unknown_prompt"
        with pytest.raises(PromptVoiceError):
            voices.live_file(prompt_id)
    assert not (sounds / "custom" / "preview").exists()


@pytest.mark.parametrize("container, codec", [("webm", "libopus"), ("ogg", "libopus"),
                                              ("mp3", "libmp3lame"), ("m4a", "aac")])
def test_browser_and_phone_recordings_convert(voices, tmp_path, container, codec):
    """Chromium's MediaRecorder gives WebM/Opus, Firefox Ogg/Opus, phones MP3 or M4A."""
    assert shutil.which("ffmpeg"), "ffmpeg is missing: scripts/test installs Debian's ffmpeg"
    source = tmp_path / "tone.wav"
    source.write_bytes(tone_wav(rate=48000))
    encoded = tmp_path / f"recording.{container}"
    result = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(source),
                             "-c:a", codec, str(encoded)], capture_output=True)
    assert result.returncode == 0, f"this ffmpeg cannot encode {codec}: {result.stderr!r}"
    preview = voices.stage("breath", encoded.read_bytes(), encoded.name, actor=LAN, now=NOW)
    assert 1.4 < preview.seconds < 1.9
    assert preview.source_seconds == pytest.approx(3.5, abs=0.1)
    with wave.open(str(voices.preview_file("breath"))) as f:
        assert (f.getframerate(), f.getnchannels()) == (8000, 1)
