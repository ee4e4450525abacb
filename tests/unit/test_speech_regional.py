"""The regional cases (tests/fixtures/spoken_regional.yaml): how people of the north, the
centre and the south answer, including rhetorical negations, hedges, fillers and call-back
requests, each mapped to the answer they mean."""

from pathlib import Path

import pytest
import yaml

from callengine.questionnaire import load_questionnaire
from callengine.settings import DEFAULT_QUESTIONNAIRE
from callengine.speech.mapping import map_transcript

QUESTIONNAIRE = load_questionnaire(DEFAULT_QUESTIONNAIRE)
DATA = yaml.safe_load((Path(__file__).parents[1] / "fixtures" / "spoken_regional.yaml")
                      .read_text(encoding="utf-8"))
CASES = [(f"{cls}-{region}", qid, text, expected) for cls, regions in DATA.items()
         for region, cases in regions.items() for qid, text, expected in cases]


def test_there_are_at_least_a_hundred_cases_from_every_region():
    assert len(CASES) >= 100
    assert {label.split("-")[1] for label, *_ in CASES} == {"N", "C", "S"}


@pytest.mark.parametrize("label, qid, text, expected", CASES)
def test_a_regional_answer_means_what_it_says(label, qid, text, expected):
    answer = map_transcript(text, QUESTIONNAIRE.question(qid))
    assert answer.answer == expected, answer.reason


def test_a_hedge_is_noted_for_the_supervisor():
    assert "hedged: 'chắc là'" in map_transcript("chắc là không",
                                                  QUESTIONNAIRE.question("fever")).reason


def test_a_call_back_request_heard_with_low_confidence_is_unknown():
    answer = map_transcript("gọi lại cho tôi", QUESTIONNAIRE.question("fever"),
                            confidence=0.2)
    assert answer.answer == "unknown"
