"""Spoken words in the questionnaire YAML: loading, merging and clear errors."""

import pytest

from callengine.errors import ConfigError
from callengine.questionnaire import Temperature, load_questionnaire
from callengine.settings import DEFAULT_QUESTIONNAIRE

HEAD = """\
id: t
prompts: {intro: a, reprompt: b, invalid: c, callback: d, closing: e, silent: f}
"""


def write(tmp_path, body: str):
    path = tmp_path / "q.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    return path


def question(spoken: str, qid: str = "fever") -> str:
    return f"  - id: {qid}\n    text: Sốt?\n    keys: {{'1': 'yes', '2': 'no'}}\n" + spoken


def test_shipped_questionnaire_keeps_its_dialplan_encoding_and_keys():
    questionnaire = load_questionnaire(DEFAULT_QUESTIONNAIRE)
    assert questionnaire.question_ids == ("fever", "cough", "breath", "throat", "taste_smell",
                                          "fatigue")
    assert questionnaire.dialplan_questions().startswith("fever:12|cough:12")
    assert questionnaire.value_of("fever", "1") == "yes"
    assert questionnaire.value_of("fever", "9") == "unknown"
    assert questionnaire.callback_key == "0"


def test_shipped_questionnaire_declares_spoken_words_for_every_question():
    questionnaire = load_questionnaire(DEFAULT_QUESTIONNAIRE)
    for q in questionnaire.questions:
        assert "có" in q.yes_words and "không" in q.no_words, q.id
        assert q.symptom_words, q.id
        assert {owner for _, owner in q.other_symptoms} == set(questionnaire.question_ids) - {q.id}
    fever = questionnaire.question("fever")
    assert {"sốt", "nóng", "sốt cao"} <= set(fever.symptom_words)
    assert fever.temperature == Temperature(yes_from=37.5)
    assert "hạ sốt" in fever.no_words and "hạ sốt" not in questionnaire.question("cough").no_words


def test_given_no_spoken_section_when_loaded_then_empty_words(tmp_path):
    path = write(tmp_path, "questions:\n" + question(""))
    fever = load_questionnaire(path).question("fever")
    assert (fever.yes_words, fever.no_words, fever.symptom_words) == ((), (), ())
    assert fever.temperature is None


def test_given_unquoted_yes_no_keys_when_loaded_then_words_are_kept(tmp_path):
    path = write(tmp_path, "spoken:\n  yes: [Có]\n  no: [KHÔNG,  chưa ]\nquestions:\n"
                 + question(""))
    fever = load_questionnaire(path).question("fever")
    assert fever.yes_words == ("có",)
    assert fever.no_words == ("không", "chưa")


@pytest.mark.parametrize("body,message", [
    ("questions:\n" + question("    spoken: [sốt]\n"),
     "questions[0].spoken: must be a mapping"),
    ("questions:\n" + question("    spoken: {symptoms: sốt}\n"),
     "questions[0].spoken.symptoms: must be a list of words"),
    ("questions:\n" + question("    spoken: {symptoms: ['sốt', 3]}\n"),
     "questions[0].spoken.symptoms: must be a list of words"),
    ("questions:\n" + question("    spoken: {symptoms: ['sốt', '?!']}\n"),
     "questions[0].spoken.symptoms: contains an empty word"),
    ("questions:\n" + question("    spoken: {synonyms: [sốt]}\n"),
     "questions[0].spoken.synonyms: unknown field"),
    ("questions:\n" + question("    spoken: {temperature: 37.5}\n"),
     "questions[0].spoken.temperature: must be a mapping with yes_from, min, max"),
    ("questions:\n" + question("    spoken: {temperature: {yes_from: high}}\n"),
     "questions[0].spoken.temperature.yes_from: 'high' is not a number"),
    ("questions:\n" + question("    spoken: {temperature: {yes_from: 30}}\n"),
     "questions[0].spoken.temperature: needs min < yes_from <= max"),
    ("spoken: {'yes': [có]}\nquestions:\n" + question("    spoken: {'no': [có]}\n"),
     "questions[0].spoken: 'có' is both a yes and a no word"),
    ("spoken: {'yes': [bị]}\nquestions:\n" + question("    spoken: {symptoms: [bị]}\n"),
     "questions[0].spoken.symptoms: 'bị' is also a yes/no word"),
    ("questions:\n" + question("    spoken: {symptoms: [ho]}\n")
     + question("    spoken: {symptoms: [Ho]}\n", "cough"),
     "symptom word 'ho' is in both fever and cough (spoken.symptoms)"),
    ("spoken: {symptoms: [ho]}\nquestions:\n" + question(""),
     "spoken: only yes and no words are shared"),
    ("spoken: {'yes': có}\nquestions:\n" + question(""),
     "spoken.yes: must be a list of words"),
])
def test_given_bad_spoken_words_when_loaded_then_error_names_the_field(tmp_path, body, message):
    with pytest.raises(ConfigError) as error:
        load_questionnaire(write(tmp_path, body))
    assert message in str(error.value)


def test_a_flags_questions_read_as_the_symptoms_staff_know():
    questionnaire = load_questionnaire(DEFAULT_QUESTIONNAIRE)
    assert questionnaire.describe("fever, breath,fatigue") == "sốt, khó thở, mệt"
    assert questionnaire.describe("gone_question") == "gone_question"  # no longer asked
    assert questionnaire.describe(None) == ""
