"""Transcript -> answer mapping (callengine.speech.mapping) on the shipped questionnaire."""

import pytest

from callengine.questionnaire import Question, Temperature, load_questionnaire
from callengine.settings import DEFAULT_QUESTIONNAIRE
from callengine.speech.mapping import DEFAULT_THRESHOLD, SpokenAnswer, map_transcript
from callengine.speech.vietnamese import find_numbers, fold, normalize, tokens

QUESTIONNAIRE = load_questionnaire(DEFAULT_QUESTIONNAIRE)

# (question, transcript, expected answer)
YES_NO_WORDS = [
    ("fever", "có", "yes"),
    ("fever", "Có.", "yes"),
    ("fever", "CÓ!", "yes"),
    ("fever", "dạ có", "yes"),
    ("fever", "có ạ", "yes"),
    ("fever", "dạ có ạ", "yes"),
    ("fever", "vâng", "yes"),
    ("fever", "dạ vâng", "yes"),
    ("fever", "ừ", "yes"),
    ("fever", "ừm có", "yes"),
    ("fever", "bị", "yes"),
    ("fever", "có bị", "yes"),
    ("fever", "bị rồi", "yes"),
    ("fever", "đúng rồi", "yes"),
    ("fever", "phải", "yes"),
    ("fever", "co", "yes"),  # no accents
    ("fever", "cò", "yes"),  # tone error
    ("fever", "không", "no"),
    ("fever", "Không.", "no"),
    ("fever", "dạ không", "no"),
    ("fever", "không ạ", "no"),
    ("fever", "dạ không ạ", "no"),
    ("fever", "không có", "no"),
    ("fever", "không bị", "no"),
    ("fever", "chưa", "no"),
    ("fever", "chưa bị", "no"),
    ("fever", "dạ chưa", "no"),
    ("fever", "khong", "no"),
    ("fever", "ko", "no"),
    ("fever", "k", "no"),
    ("fever", "hông", "no"),
    ("fever", "hổng", "no"),
    ("fever", "hổng có", "no"),
    ("fever", "ko có", "no"),
    ("fever", "khong co", "no"),
    ("fever", "khổng", "no"),  # tone error
    ("fever", "không sao", "no"),
    ("fever", "bình thường", "no"),
    ("fever", "tôi khỏe", "no"),
    ("fever", "vẫn khỏe ạ", "no"),
    ("fever", "khoẻ", "no"),  # old-style tone placement
    ("fever", "ổn", "no"),
    ("fever", "không có gì", "no"),
    ("fever", "đâu có", "no"),
]

NEGATIONS = [
    ("fever", "không sốt", "no"),
    ("fever", "tôi không sốt", "no"),
    ("fever", "không bị sốt", "no"),
    ("fever", "không có sốt", "no"),
    ("fever", "không có bị sốt", "no"),
    ("fever", "chưa bị sốt", "no"),
    ("fever", "chưa thấy sốt", "no"),
    ("fever", "hết sốt rồi", "no"),
    ("fever", "khỏi sốt rồi", "no"),
    ("fever", "không còn sốt", "no"),
    ("fever", "không hề sốt", "no"),
    ("fever", "hạ sốt rồi", "no"),
    ("fever", "không nóng", "no"),
    ("fever", "khong sot", "no"),
    ("fever", "ko sốt", "no"),
    ("fever", "k sốt", "no"),
    ("fever", "hông sốt", "no"),
    ("fever", "sốt thì không", "no"),
    ("fever", "sốt thì không có", "no"),
    ("fever", "có sốt", "yes"),
    ("fever", "bị sốt", "yes"),
    ("fever", "tôi bị sốt", "yes"),
    ("fever", "sốt", "yes"),
    ("fever", "sốt cao", "yes"),
    ("fever", "hơi sốt", "yes"),
    ("fever", "sốt nhẹ", "yes"),
    ("fever", "vẫn còn sốt", "yes"),
    ("fever", "có, tôi bị sốt", "yes"),
    ("fever", "dạ có sốt ạ", "yes"),
    ("fever", "nóng sốt", "yes"),
    ("fever", "người nóng", "yes"),
    ("fever", "sốt thì có", "yes"),
    ("fever", "sột", "yes"),  # tone error
    ("fever", "cô ơi, không", "no"),  # "cô" is not "có"
    ("fever", "do bận nên không sốt", "no"),  # "do" is not an accent-less "đỡ"
    ("fever", "hai ngày nay sốt", "yes"),
    ("fever", "sốt ba bốn ngày rồi", "yes"),
]

UNSURE_OR_CONTRADICTORY = [
    ("fever", "có sốt không", "unknown"),
    ("fever", "có không", "unknown"),
    ("fever", "sốt không", "unknown"),
    ("fever", "không biết", "unknown"),
    ("fever", "chưa đo", "unknown"),
    ("fever", "hình như có sốt", "yes"),  # a hedge softens, it does not change the answer
    ("fever", "đỡ sốt rồi", "unknown"),
    ("fever", "à", "unknown"),
    ("fever", "alo alo", "unknown"),
    ("fever", "cảm ơn", "unknown"),
    ("fever", "", "unknown"),
    ("fever", "  ... ?! ", "unknown"),
    ("fever", "gì cơ", "unknown"),
    ("fever", "lúc có lúc không", "unknown"),
    ("fever", "tôi bị cảm", "unknown"),  # a cold: "bị" is about "cảm"
    ("fever", "có thể", "unknown"),  # "can", not "yes"
    ("fever", "không uống thuốc", "unknown"),  # about the medicine
    ("fever", "vâng, tôi bị cảm", "yes"),
    ("fever", "không thấy gì", "no"),
    ("fever", "không sao đâu", "no"),
]

OTHER_QUESTIONS = [
    ("fever", "tôi bị ho", "unknown"),
    ("fever", "ho", "unknown"),
    ("fever", "có ho", "unknown"),
    ("fever", "không ho", "unknown"),
    ("fever", "đau họng", "unknown"),
    ("fever", "mệt", "unknown"),
    ("fever", "không khỏe", "unknown"),
    ("fever", "ho thì có", "unknown"),
    ("fever", "không, em bị ho", "no"),
    ("fever", "không sốt nhưng bị ho", "no"),
    ("fever", "có sốt và ho", "yes"),
    ("fever", "ho thì có, sốt thì không", "no"),
    ("fever", "hết ho nhưng còn sốt", "yes"),
    ("cough", "sốt", "unknown"),
    ("cough", "hết ho nhưng còn sốt", "no"),
    ("cough", "không sốt nhưng ho nhiều", "yes"),
    ("breath", "mệt", "unknown"),
    ("breath", "khó thở, mệt", "yes"),
    ("throat", "không ho", "unknown"),
    ("fatigue", "không sốt", "unknown"),
    ("taste_smell", "đau họng", "unknown"),
]

COUGH = [
    ("cough", "ho", "yes"),
    ("cough", "có ho", "yes"),
    ("cough", "bị ho", "yes"),
    ("cough", "ho khan", "yes"),
    ("cough", "ho có đờm", "yes"),
    ("cough", "hơi ho", "yes"),
    ("cough", "thỉnh thoảng ho", "yes"),
    ("cough", "hò", "yes"),  # tone error
    ("cough", "không ho", "no"),
    ("cough", "không có ho", "no"),
    ("cough", "không bị ho", "no"),
    ("cough", "hết ho rồi", "no"),
    ("cough", "ho thì không", "no"),
    ("cough", "họ", "unknown"),  # "they", not "ho"
]

BREATH = [
    ("breath", "khó thở", "yes"),
    ("breath", "hơi khó thở", "yes"),
    ("breath", "tức ngực", "yes"),
    ("breath", "khó thở và tức ngực", "yes"),
    ("breath", "thở không được", "yes"),
    ("breath", "không thở được", "yes"),
    ("breath", "kho tho", "yes"),
    ("breath", "khó thờ", "yes"),
    ("breath", "không khó thở", "no"),
    ("breath", "không tức ngực", "no"),
    ("breath", "thở bình thường", "no"),
    ("breath", "dễ thở", "no"),
]

THROAT = [
    ("throat", "đau họng", "yes"),
    ("throat", "rát họng", "yes"),
    ("throat", "hơi đau họng", "yes"),
    ("throat", "họng đau", "yes"),
    ("throat", "đau cổ họng", "yes"),
    ("throat", "viêm họng", "yes"),
    ("throat", "dau hong", "yes"),
    ("throat", "đau hong", "yes"),
    ("throat", "không đau họng", "no"),
    ("throat", "không", "no"),
]

TASTE_SMELL = [
    ("taste_smell", "mất vị giác", "yes"),
    ("taste_smell", "mất khứu giác", "yes"),
    ("taste_smell", "không ngửi được", "yes"),
    ("taste_smell", "không ngửi thấy mùi", "yes"),
    ("taste_smell", "mất vi giac", "yes"),
    ("taste_smell", "có", "yes"),
    ("taste_smell", "không mất vị giác", "no"),
    ("taste_smell", "không mất mùi", "no"),
    ("taste_smell", "vẫn ngửi được", "no"),
    ("taste_smell", "ngửi được bình thường", "no"),
]

FATIGUE = [
    ("fatigue", "mệt", "yes"),
    ("fatigue", "mệt mỏi", "yes"),
    ("fatigue", "mệt mồi", "yes"),
    ("fatigue", "met moi", "yes"),
    ("fatigue", "hơi mệt", "yes"),
    ("fatigue", "mệt lắm", "yes"),
    ("fatigue", "không khỏe", "yes"),
    ("fatigue", "uể oải", "yes"),
    ("fatigue", "không mệt", "no"),
    ("fatigue", "không mệt mỏi", "no"),
    ("fatigue", "không thấy mệt", "no"),
    ("fatigue", "khỏe", "no"),
    ("fatigue", "vẫn khỏe", "no"),
]

# (question, transcript, expected answer, expected number)
NUMBERS = [
    ("fever", "ba mươi tám độ rưỡi", "yes", 38.5),
    ("fever", "ba tám độ năm", "yes", 38.5),
    ("fever", "ba mươi chín", "yes", 39.0),
    ("fever", "38,5", "yes", 38.5),
    ("fever", "38.5 độ", "yes", 38.5),
    ("fever", "38 độ 5", "yes", 38.5),
    ("fever", "ba mươi tám phẩy hai", "yes", 38.2),
    ("fever", "ba bảy độ tám", "yes", 37.8),
    ("fever", "ba mươi bảy độ rưỡi", "yes", 37.5),
    ("fever", "bốn mươi mốt độ", "yes", 41.0),
    ("fever", "sốt ba mươi tám độ", "yes", 38.0),
    ("fever", "có sốt, bốn mươi độ", "yes", 40.0),
    ("fever", "ba tám rưỡi", "yes", 38.5),
    ("fever", "ba tám độ hải", "yes", 38.2),  # tone error: "hải" for "hai"
    ("fever", "hải ba", "unknown", 23.0),  # a number, but not a body temperature
    ("fever", "ba mươi bảy độ", "no", 37.0),
    ("fever", "ba sáu độ năm", "no", 36.5),
    ("fever", "ba mươi sáu độ", "no", 36.0),
    ("fever", "nhiệt độ ba mươi sáu độ rưỡi", "no", 36.5),
    ("fever", "không sốt, ba mươi sáu độ rưỡi", "no", 36.5),
    ("fever", "ba lăm độ", "no", 35.0),
    ("fever", "mười độ", "unknown", 10.0),  # not a body temperature
    ("fever", "ba mươi chín độ nhưng không biết", "unknown", 39.0),
    ("cough", "ho hai mươi ngày rồi", "yes", 20.0),
    ("cough", "ho ba ngày rồi", "yes", None),
]

CASES = (YES_NO_WORDS + NEGATIONS + UNSURE_OR_CONTRADICTORY + OTHER_QUESTIONS + COUGH + BREATH
         + THROAT + TASTE_SMELL + FATIGUE)


def answer(qid: str, text: str, **kwargs) -> SpokenAnswer:
    return map_transcript(text, QUESTIONNAIRE.question(qid), **kwargs)


def test_there_are_more_than_120_cases():
    assert len(CASES) + len(NUMBERS) >= 120


@pytest.mark.parametrize("qid,text,expected", CASES)
def test_given_transcript_when_mapped_then_answer(qid, text, expected):
    result = answer(qid, text)
    assert result.answer == expected, result.reason


@pytest.mark.parametrize("qid,text,expected,number", NUMBERS)
def test_given_number_read_aloud_when_mapped_then_number_and_answer(qid, text, expected, number):
    result = answer(qid, text)
    assert (result.answer, result.number) == (expected, number), result.reason


@pytest.mark.parametrize("confidence,threshold,expected", [
    (0.3, DEFAULT_THRESHOLD, "unknown"),
    (DEFAULT_THRESHOLD, DEFAULT_THRESHOLD, "yes"),
    (0.95, DEFAULT_THRESHOLD, "yes"),
    (0.7, 0.8, "unknown"),
    (0.0, 0.0, "yes"),
    (None, 0.99, "yes"),
])
def test_given_confidence_when_below_threshold_then_unknown(confidence, threshold, expected):
    assert answer("fever", "có", confidence=confidence, threshold=threshold).answer == expected


def test_low_confidence_keeps_what_was_heard_for_the_reviewer():
    result = answer("fever", "ba mươi tám độ", confidence=0.2)
    assert result.answer == "unknown"
    assert result.number == 38.0
    assert "0.20 below 0.50" in result.reason and "would be yes" in result.reason


def test_reasons_name_the_words():
    assert answer("fever", "không sốt").matched == "không sốt"
    assert answer("fever", "ba tám độ năm").reason == "temperature 38.5 >= 37.5"
    contradiction = answer("fever", "có sốt không")
    assert "'có sốt' (yes)" in contradiction.reason and "'không' (no)" in contradiction.reason
    other = answer("fever", "tôi bị ho")
    assert "(cough)" in other.reason and other.matched is None
    assert answer("fever", "không biết").reason == "not an answer: 'không biết'"
    assert answer("fever", "").reason == "empty transcript"
    assert "'bị cảm' is about something" in answer("fever", "bị cảm").reason
    assert answer("fever", "alo").reason == "no answer word"


def test_as_dict_has_number_only_when_found():
    assert "number" not in answer("fever", "có").as_dict()
    assert answer("fever", "38,5").as_dict()["number"] == 38.5


def test_a_question_built_in_code_without_spoken_words_only_hears_its_temperature():
    bare = Question("temp", "Nhiệt độ?", {"1": "yes"}, temperature=Temperature(yes_from=38.0))
    assert map_transcript("có", bare).answer == "unknown"
    assert map_transcript("ba mươi tám độ", bare).answer == "yes"
    assert map_transcript("ba bảy độ chín", bare).answer == "no"


def test_a_new_question_in_data_needs_no_code(tmp_path):
    text = DEFAULT_QUESTIONNAIRE.read_text(encoding="utf-8") + (
        "  - id: diarrhea\n"
        "    text: Bạn có bị tiêu chảy không?\n"
        "    keys: {\"1\": \"yes\", \"2\": \"no\"}\n"
        "    spoken:\n"
        "      symptoms: [tiêu chảy, đi ngoài]\n")
    path = tmp_path / "q.yaml"
    path.write_text(text, encoding="utf-8")
    questionnaire = load_questionnaire(path)
    diarrhea = questionnaire.question("diarrhea")
    assert map_transcript("không bị tiêu chảy", diarrhea).answer == "no"
    assert map_transcript("có đi ngoài", diarrhea).answer == "yes"
    assert map_transcript("tiêu chảy", questionnaire.question("fever")).answer == "unknown"


@pytest.mark.parametrize("text,expected", [
    ("Dạ,  KHÔNG!", "dạ không"),
    ("ba tám độ, năm.", "ba tám độ năm"),
    ("38,5 độ", "38,5 độ"),
    ("khoe\u0309", "khoẻ"),  # decomposed input becomes NFC
])
def test_normalize(text, expected):
    assert normalize(text) == expected


def test_fold_drops_tones_and_marks():
    assert fold("mệt mỏi") == fold("mệt mồi") == "met moi"
    assert fold("Đau họng") == "Dau hong"


@pytest.mark.parametrize("text,values", [
    ("ba mươi tám độ rưỡi", [38.5]),
    ("ba tám độ năm", [38.5]),
    ("ba mươi chín", [39.0]),
    ("38,5", [38.5]),
    ("mười hai năm", [12.0]),
    ("ba bốn ngày", []),
    ("năm", []),
    ("hai", []),
    ("ba mươi tám phẩy không năm", [38.05]),
    ("ba mươi tám độ không sốt", [38.0]),
    ("bốn mươi mốt và ba lăm", [41.0, 35.0]),
])
def test_find_numbers(text, values):
    assert [span.value for span in find_numbers(tokens(text))] == values
