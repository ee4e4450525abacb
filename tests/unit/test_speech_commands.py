"""`callengine answer parse` through callengine.cli.main (recognize: test_recognizers.py)."""

import json

import pytest

from callengine.cli import main
from callengine.settings import DEFAULT_QUESTIONNAIRE


def parse(capsys, *argv):
    code = main(["answer", "parse", "--questionnaire", str(DEFAULT_QUESTIONNAIRE), *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("question,text,answer", [
    ("fever", "không sốt", "no"),
    ("fever", "dạ có", "yes"),
    ("cough", "tôi bị sốt", "unknown"),
    ("fatigue", "mệt mồi", "yes"),
])
def test_answer_parse_json(capsys, question, text, answer):
    code, out, _ = parse(capsys, "--question", question, "--json", text)
    data = json.loads(out)
    assert code == 0
    assert (data["text"], data["answer"], data["confidence"]) == (text, answer, None)
    assert "number" not in data and data["reason"]


def test_answer_parse_number_words_need_no_quotes(capsys):
    code, out, _ = parse(capsys, "--question", "fever", "--json", "ba", "mươi", "tám", "độ",
                         "rưỡi")
    data = json.loads(out)
    assert (data["text"], data["answer"], data["number"]) == ("ba mươi tám độ rưỡi", "yes", 38.5)


def test_answer_parse_with_low_confidence_is_unknown(capsys):
    code, out, _ = parse(capsys, "--question", "fever", "--json", "--confidence", "0.3", "có")
    data = json.loads(out)
    assert (data["answer"], data["confidence"]) == ("unknown", 0.3)
    _, out, _ = parse(capsys, "--question", "fever", "--json", "--confidence", "0.3",
                      "--threshold", "0.2", "có")
    assert json.loads(out)["answer"] == "yes"


def test_answer_parse_plain_text(capsys):
    code, out, _ = parse(capsys, "--question", "fever", "không", "sốt")
    assert code == 0
    assert out.splitlines()[:2] == ["text: không sốt", "answer: no"]


def test_answer_parse_uses_the_configured_questionnaire(capsys, monkeypatch):
    monkeypatch.delenv("CALLENGINE_CONFIG", raising=False)
    assert main(["answer", "parse", "--question", "throat", "--json", "rát họng"]) == 0
    assert json.loads(capsys.readouterr().out)["answer"] == "yes"


def test_unknown_question_is_one_line_and_exit_2(capsys):
    code, out, err = parse(capsys, "--question", "nope", "có")
    assert (code, out) == (2, "")
    assert err.strip() == ("callengine: unknown question 'nope': one of fever, cough, breath, "
                           "throat, taste_smell, fatigue")
