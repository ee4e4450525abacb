"""A recorded spoken answer -> transcript + answer; the entry point for the ASR workers.

    recognizer = shared_recognizer("viet-asr")          # loaded once per process
    result = recognize_answer(wav, questionnaire.question("fever"), recognizer)
    result.answer.answer   # yes / no / unknown (review with the audio) / callback (like key 0)
    result.as_dict()       # {"text", "answer", "confidence", "matched", "reason"[, "number"]}

Errors are CallengineError subclasses (RecognizerUnavailable, RecognitionFailed): a worker
should catch CallengineError and store 'unknown' with the message as the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from callengine.questionnaire import Question
from callengine.speech import mapping, vietnamese
from callengine.speech.mapping import DEFAULT_THRESHOLD, SpokenAnswer, map_transcript
from callengine.speech.recognizers import Recognizer, Transcript, make_recognizer

NUMBER_WORDS = (*vietnamese.UNIT_VARIANTS, "mười", "mươi", *vietnamese.HALF,
                *vietnamese.DECIMAL_MARKS)

_SHARED: dict[tuple, Recognizer] = {}


@dataclass(frozen=True)
class RecognizedAnswer:
    """A transcript and the answer it maps to."""

    transcript: Transcript
    answer: SpokenAnswer

    def as_dict(self) -> dict:
        """The JSON shape of `callengine answer recognize --json`."""
        return {"text": self.transcript.text, **self.answer.as_dict(),
                "confidence": self.transcript.confidence,
                "seconds": round(self.transcript.seconds, 3)}


def grammar_words(question: Question) -> tuple[str, ...]:
    """Phrases worth listing in a recogniser grammar for a question (Vosk).

    Its own words, the other questions' symptoms (so that "ho" is heard as "ho" and not
    forced into another word), the answer grammar, and number words for a temperature.
    """
    words = (*question.yes_words, *question.no_words, *question.symptom_words,
             *(word for word, _ in question.other_symptoms), *mapping.NEGATORS,
             *mapping.PREFIXES, *mapping.UNSURE,
             *(NUMBER_WORDS if question.temperature else ()))
    return tuple(dict.fromkeys(words))


def shared_recognizer(name: str = "viet-asr", **options) -> Recognizer:
    """One recogniser per process and set of options (models load once, ~1 s and more)."""
    key = (name, tuple(sorted((k, str(v)) for k, v in options.items())))
    if key not in _SHARED:
        _SHARED[key] = make_recognizer(name, **options)
    return _SHARED[key]


def recognize_answer(wav_path: Path, question: Question, recognizer: Recognizer, *,
                     threshold: float = DEFAULT_THRESHOLD) -> RecognizedAnswer:
    """Recognise a recording and map it to the question's answer."""
    if hasattr(recognizer, "with_grammar"):
        recognizer = recognizer.with_grammar(grammar_words(question))
    transcript = recognizer.transcribe(Path(wav_path))
    answer = map_transcript(transcript.text, question, confidence=transcript.confidence,
                            threshold=threshold)
    return RecognizedAnswer(transcript, answer)
