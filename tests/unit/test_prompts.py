"""Prompt build (callengine.prompts): espeak-ng into a tmp dir, gTTS through a fake."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from callengine.cli import main
from callengine.errors import CallengineError
from callengine.prompts import MANIFEST, build_prompts, content_key, prompt_texts
from callengine.questionnaire import load_questionnaire
from callengine.settings import DEFAULT_QUESTIONNAIRE
from callengine.speech.audio import pcm_format, read_pcm16, write_pcm16
from callengine.speech.tts import EspeakSynthesizer, GttsSynthesizer, SynthesisUnavailable

QUESTIONNAIRE = load_questionnaire(DEFAULT_QUESTIONNAIRE)
PROMPT_IDS = ("intro", "reprompt", "invalid", "callback", "closing", "silent", "fever", "cough",
              "breath", "throat", "taste_smell", "fatigue")
MAX_SECONDS = 20.0
REPO_SOUNDS = Path(__file__).resolve().parents[2] / "sounds" / "vi"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sounds")
    return folder, build_prompts(QUESTIONNAIRE, folder)


@pytest.fixture
def folder(tmp_path):
    build_prompts(QUESTIONNAIRE, tmp_path)
    return tmp_path


def mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("*.*") if p.name != MANIFEST}


def speech_like(path: Path, rate: int = 16000, peak: float = 1.0) -> Path:
    """1 s of silence, 1.5 s of a loud vowel-like tone, 1 s of silence (a 'recording')."""
    t = np.arange(int(1.5 * rate)) / rate
    tone = peak * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    silence = np.zeros(rate)
    write_pcm16(path, np.concatenate([silence, tone, silence]), rate)
    return path


class FakeGtts:
    """Stands in for gtts.gTTS: records calls, writes audio (never the network)."""

    def __init__(self, audio: bytes, fail: bool = False):
        self.audio, self.fail, self.calls = audio, fail, []

    def __call__(self, *, text, lang, tld, timeout):
        self.calls.append({"text": text, "lang": lang, "tld": tld, "timeout": timeout})
        return self

    def write_to_fp(self, fp):
        if self.fail:
            raise OSError("Failed to connect. Probable cause: Unknown")
        fp.write(self.audio)


@pytest.fixture
def wav_bytes(tmp_path) -> bytes:
    path = tmp_path / "gtts-voice.wav"
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(path), "xin chào"], check=True)
    return path.read_bytes()


def test_every_prompt_is_built_as_telephone_audio(built):
    folder, build = built
    assert [p.name for p in build] == [f"{pid}.wav" for pid in PROMPT_IDS]
    for pid in PROMPT_IDS:
        wav = folder / f"{pid}.wav"
        assert pcm_format(wav) == (8000, 1, 2), pid
        samples, rate = read_pcm16(wav)
        seconds = samples.size / rate
        assert 0.5 < seconds < MAX_SECONDS, (pid, seconds)
        assert np.abs(samples).max() / 32768 < 0.99, pid
        assert (folder / f"{pid}.alaw").stat().st_size == samples.size  # 1 byte per sample


def test_prompts_are_trimmed_and_loudness_normalised(built):
    folder, _ = built
    for pid in PROMPT_IDS:
        samples = read_pcm16(folder / f"{pid}.wav")[0].astype(float) / 32768
        lead = np.argmax(np.abs(samples) > 0.01) / 8000
        tail = (samples.size - np.argmax(np.abs(samples[::-1]) > 0.01)) / 8000
        assert lead < 0.15 and samples.size / 8000 - tail < 0.3, pid
        active = samples[np.abs(samples) > 0.01]
        assert -26 < 20 * np.log10(np.sqrt(np.mean(active ** 2))) < -14, pid


def test_manifest_maps_each_prompt_to_text_engine_voice_and_file(built):
    folder, _ = built
    prompts = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["prompts"]
    texts = prompt_texts(QUESTIONNAIRE)
    assert list(prompts) == list(PROMPT_IDS)
    for pid, entry in prompts.items():
        assert entry["text"] == texts[pid]
        assert (entry["engine"], entry["voice"]) == ("espeak", "vi")
        assert entry["sha256"] == content_key(texts[pid], "espeak", "vi")
        assert (entry["file"], entry["alaw"]) == (f"{pid}.wav", f"{pid}.alaw")


def test_a_second_build_rebuilds_nothing(folder):
    before = mtimes(folder)
    build = build_prompts(QUESTIONNAIRE, folder)
    assert build.rebuilt == [] and build.kept == list(PROMPT_IDS)
    assert mtimes(folder) == before


def test_changed_text_rebuilds_only_its_file(folder):
    before = mtimes(folder)
    fever = replace(QUESTIONNAIRE.question("fever"), text="Hôm nay bạn có sốt không?")
    changed = replace(QUESTIONNAIRE, questions=(fever, *QUESTIONNAIRE.questions[1:]),
                      prompts={**QUESTIONNAIRE.prompts, "invalid": "Phím không đúng."})
    build = build_prompts(changed, folder)
    assert build.rebuilt == ["invalid", "fever"]
    after = mtimes(folder)
    assert {name for name in after if after[name] != before[name]} == {
        "invalid.wav", "invalid.alaw", "fever.wav", "fever.alaw"}


def test_a_deleted_or_edited_file_is_rebuilt(folder):
    (folder / "cough.alaw").unlink()
    write_pcm16(folder / "throat.wav", np.zeros(800, dtype=np.int16), 8000)
    assert build_prompts(QUESTIONNAIRE, folder).rebuilt == ["cough", "throat"]


def test_a_custom_recording_overrides_synthesis(folder):
    (folder / "custom").mkdir()
    speech_like(folder / "custom" / "fever.wav", peak=1.0)  # 16 kHz, full scale, silence
    build = build_prompts(QUESTIONNAIRE, folder)
    assert build.rebuilt == ["fever"]
    entry = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["prompts"]["fever"]
    assert (entry["engine"], entry["source"]) == ("custom", "custom/fever.wav")
    samples, rate = read_pcm16(folder / "fever.wav")
    assert rate == 8000 and np.abs(samples).max() / 32768 < 0.99
    assert samples.size / rate < 2.0  # 3.5 s with the silences, 1.5 s of sound
    assert build_prompts(QUESTIONNAIRE, folder).rebuilt == []
    speech_like(folder / "custom" / "fever.wav", peak=0.5)  # a new recording
    assert build_prompts(QUESTIONNAIRE, folder).rebuilt == ["fever"]
    (folder / "custom" / "fever.wav").unlink()
    assert build_prompts(QUESTIONNAIRE, folder).rebuilt == ["fever"]
    assert json.loads((folder / MANIFEST).read_text())["prompts"]["fever"]["engine"] == "espeak"


def test_gtts_through_a_fake_uses_timeout_and_cache(tmp_path, wav_bytes):
    fake = FakeGtts(wav_bytes)
    synthesizer = GttsSynthesizer(cache_dir=tmp_path / "cache", timeout=7, gtts_factory=fake)
    build = build_prompts(QUESTIONNAIRE, tmp_path / "a", synthesizer=synthesizer)
    assert build.rebuilt == list(PROMPT_IDS) and build.fallbacks == []
    assert len(fake.calls) == len(PROMPT_IDS)
    assert {(c["lang"], c["tld"], c["timeout"]) for c in fake.calls} == {("vi", "com", 7)}
    entry = json.loads((tmp_path / "a" / MANIFEST).read_text())["prompts"]["closing"]
    assert (entry["engine"], entry["voice"]) == ("gtts", "com")
    assert pcm_format(tmp_path / "a" / "closing.wav") == (8000, 1, 2)
    build_prompts(QUESTIONNAIRE, tmp_path / "b", synthesizer=synthesizer)  # from the cache
    assert len(fake.calls) == len(PROMPT_IDS)


def test_gtts_unreachable_falls_back_to_espeak_and_retries_later(tmp_path, wav_bytes):
    offline = GttsSynthesizer(cache_dir=tmp_path / "cache", gtts_factory=FakeGtts(b"", True))
    build = build_prompts(QUESTIONNAIRE, tmp_path / "s", synthesizer=offline)
    assert build.fallbacks == list(PROMPT_IDS)
    entry = json.loads((tmp_path / "s" / MANIFEST).read_text())["prompts"]["fever"]
    assert (entry["engine"], entry["fallback_from"]) == ("espeak", "gtts")
    online = GttsSynthesizer(cache_dir=tmp_path / "cache", gtts_factory=FakeGtts(wav_bytes))
    assert build_prompts(QUESTIONNAIRE, tmp_path / "s", synthesizer=online).rebuilt == \
        list(PROMPT_IDS)


def test_gtts_without_fallback_reports_the_cause(tmp_path):
    offline = GttsSynthesizer(cache_dir=tmp_path / "cache", gtts_factory=FakeGtts(b"", True))
    with pytest.raises(SynthesisUnavailable, match="use --engine espeak"):
        offline.synthesize("xin chào", tmp_path)


def test_gtts_mp3_is_decoded(tmp_path):
    mp3 = tmp_path / "voice.mp3"
    made = subprocess.run(["sox", "-n", "-r", "22050", "-c", "1", str(mp3), "synth", "1",
                           "sine", "300"], capture_output=True)
    if made.returncode != 0:
        pytest.fail("sox has no MP3 support here (apt-get install libsox-fmt-mp3)")
    synthesizer = GttsSynthesizer(cache_dir=tmp_path / "cache",
                                  gtts_factory=FakeGtts(mp3.read_bytes()))
    build = build_prompts(QUESTIONNAIRE, tmp_path / "s", synthesizer=synthesizer)
    assert build.fallbacks == [] and pcm_format(tmp_path / "s" / "intro.wav") == (8000, 1, 2)


def test_missing_espeak_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setattr("callengine.speech.audio.shutil.which", lambda tool: None)
    with pytest.raises(SynthesisUnavailable, match="apt-get install -y espeak-ng"):
        EspeakSynthesizer().synthesize("xin chào", tmp_path)


def test_unknown_engine_is_an_error(tmp_path):
    with pytest.raises(CallengineError, match="one of espeak, gtts"):
        build_prompts(QUESTIONNAIRE, tmp_path, engine="festival")


def test_cli_prompts_build_prints_every_file(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CALLENGINE_CONFIG", raising=False)
    assert main(["prompts", "build", "--output", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(tmp_path / f"{pid}.wav") for pid in PROMPT_IDS]


def test_the_repository_ships_an_up_to_date_prompt_set():
    prompts = json.loads((REPO_SOUNDS / MANIFEST).read_text(encoding="utf-8"))["prompts"]
    texts = prompt_texts(QUESTIONNAIRE)
    assert set(prompts) == set(texts)
    for pid, entry in prompts.items():
        assert entry["text"] == texts[pid], f"sounds/vi/{pid}: rebuild with callengine prompts"
        for name in (entry["file"], entry["alaw"]):
            assert (REPO_SOUNDS / name).is_file()
        assert pcm_format(REPO_SOUNDS / entry["file"]) == (8000, 1, 2)
