"""The lab residents' spoken answers survive the phone line: A-law and a long recording.

In the lab one Asterisk plays a clip over SIP (G.711 A-law) to another, which records the
whole answer window: the recording has silence or line noise around the words. The engine's
worker (recognize_file) trims that silence; recognize_answer on the whole file does not.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from callengine.questionnaire import load_questionnaire
from callengine.settings import DEFAULT_QUESTIONNAIRE
from callengine.speech.answer import recognize_answer, shared_recognizer
from callengine.speech.audio import read_pcm16, write_pcm16
from callengine.speech.mapping import map_transcript
from callengine.speech.pool import recognize_file
from tests.speech_samples import PAD_SECONDS, SpeechSamplesError, answer_clips, default_cache_dir

QUESTIONNAIRE = load_questionnaire(DEFAULT_QUESTIONNAIRE)
ALL_QUESTIONS = tuple(q.id for q in QUESTIONNAIRE.questions)
RATE = 8000


@pytest.fixture(scope="session")
def clips(tmp_path_factory) -> dict[str, Path]:
    try:
        return answer_clips(default_cache_dir(), tmp_path_factory.mktemp("answers"))
    except SpeechSamplesError as exc:
        pytest.fail(str(exc))


def over_the_line(clip: Path, target: Path, lead: float, trail: float,
                  noise_dbfs: float | None) -> Path:
    """clip with silence (digital zero or noise) around it, after an A-law round trip."""
    samples, rate = read_pcm16(clip)
    rng = np.random.default_rng(0)

    def silence(seconds: float) -> np.ndarray:
        if noise_dbfs is None:
            return np.zeros(int(seconds * rate), dtype=np.int16)
        noise = rng.normal(0.0, 32768 * 10 ** (noise_dbfs / 20), int(seconds * rate))
        return np.round(noise).astype(np.int16)

    padded = target.with_suffix(".pcm.wav")
    write_pcm16(padded, np.concatenate([silence(lead), samples, silence(trail)]), rate)
    alaw = target.with_suffix(".al")
    subprocess.run(["sox", str(padded), "-e", "a-law", "-t", "al", str(alaw)], check=True)
    subprocess.run(["sox", "-t", "al", "-r", str(RATE), "-e", "a-law", "-c", "1", str(alaw),
                    "-e", "signed-integer", "-b", "16", str(target)], check=True)
    return target


def test_clips_are_short_telephone_answers(clips):
    assert set(clips) == {"yes", "no", "unclear"}
    for path in clips.values():
        samples, rate = read_pcm16(path)
        pad = int(PAD_SECONDS * rate)
        assert rate == RATE and 1.0 <= samples.size / rate <= 3.0  # fits an answer window
        assert not samples[:pad].any() and not samples[-pad:].any()


@pytest.mark.parametrize("answer,questions,expected,lead,trail,noise_dbfs", [
    ("yes", ("fever",), "yes", 0.5, 2.0, None),
    ("no", ALL_QUESTIONS, "no", 1.0, 3.3, -60),  # the lab's residents say it to all
    ("no", ALL_QUESTIONS, "no", 2.0, 5.0, None),
    ("unclear", ("fever",), "unknown", 1.37, 4.0, -60),
])
def test_a_clip_is_mapped_right_after_the_phone_line(
        clips, tmp_path, answer, questions, expected, lead, trail, noise_dbfs):
    heard = over_the_line(clips[answer], tmp_path / "heard.wav", lead, trail, noise_dbfs)
    recognizer = shared_recognizer("viet-asr")
    whole = recognize_answer(heard, QUESTIONNAIRE.question(questions[0]), recognizer)
    transcript = whole.transcript
    assert transcript.confidence >= 0.5, whole.as_dict()
    for qid in questions:
        mapped = map_transcript(transcript.text, QUESTIONNAIRE.question(qid),
                                confidence=transcript.confidence)
        assert mapped.answer == expected, (qid, whole.as_dict())
    if expected == "unknown":
        assert whole.answer.reason == "no answer word", whole.as_dict()
    trimmed = recognize_file(str(heard), QUESTIONNAIRE.question(questions[0]), 0.5, recognizer)
    assert (trimmed.answer, trimmed.error) == (expected, None), trimmed
    assert trimmed.confidence >= 0.5, trimmed
