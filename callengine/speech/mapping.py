"""Transcript -> answer of one question: pure, table-driven, tolerant of tone errors.

The question (callengine.questionnaire.Question) brings its words: yes / no words, its own
symptom words, the other questions' symptom words and an optional temperature rule. The
grammar of a Vietnamese answer (negators, particles, "thì") is in the tables below.

How a transcript is read:
1. Normalise (NFC, lower case, no punctuation) and find numbers read aloud (vietnamese.py).
2. Cut the words into the longest known phrases; an exact match wins, then one with tone
   errors ("mệt mồi" = "mệt mỏi"), then, for words typed without any accent, one that only
   differs in accents ("khong" = "không"); the latter only for answer words, never for the
   unsure phrases ("do" is not "đỡ"). Neutral words are never matched loosely.
3. A symptom takes the negators and prefixes just before it ("không có bị sốt" = no,
   "có sốt" = yes, "hết sốt" = no) and an answer after "thì" ("sốt thì không" = no).
   Another question's symptom takes them too, and never answers this question.
4. Remaining yes / no words answer, except "có", "bị", "không"... right before a word
   that is not in the tables: they are about that word ("bị cảm", "không uống thuốc",
   "có thể"), not the question. A temperature in range decides a question with a
   temperature rule. Both yes and no, an unsure phrase ("không biết"), nothing, or a
   confidence below the threshold -> 'unknown' with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from callengine.questionnaire import Question
from callengine.speech.vietnamese import NumberSpan, find_numbers, fold, tokens, tone_fold

DEFAULT_THRESHOLD = 0.5  # answers recognised with a lower confidence go to a human
CALLBACK = "callback"  # the resident asks to talk to a health worker: counts like key 0
_STAFF = r"(?:cán bộ|bác sĩ|bác sỹ|y tá|y sĩ|nhân viên|người|ai đó|ai|trạm y tế|cô y tá)"
# Asking for a person, in the words of the three regions: counts like key 0 at any question.
CALLBACK_PATTERNS = tuple(re.compile(p) for p in (
    r"\b(?:gọi|kêu|điện) lại\b",
    r"\bgọi (?:cho|giùm|giúp|dùm) (?:tôi|tui|em|con|cháu|bác|mình)\b",
    (rf"\b(?:gặp|nói chuyện với|nói chuyện|nói với|kết nối với|chuyển máy cho|chuyển cho|"
     rf"kêu|biểu) (?:\w+ )?{_STAFF}\b"),
    r"\b(?:cần|muốn|xin) (?:được )?tư vấn\b",
))

# Negate the symptom after them; alone, they mean no.
NEGATORS = (
    "không", "không có", "không bị", "không hề", "không hề bị", "không còn", "không thấy",
    "không có bị", "chưa", "chưa có", "chưa bị", "chưa thấy", "chẳng", "chẳng có", "chẳng bị",
    "chả", "chả có", "chả bị", "hết", "hết bị", "khỏi", "đâu có", "khong", "ko", "k", "kg",
    "hông", "hổng", "hong", "hem", "hok", "ko có", "k có", "hông có", "hổng có", "ko bị", "k bị",
    "hông bị", "hổng bị", "hỏng", "hỏng có", "hỏng bị", "hổng có bị", "hông có bị",
    # Rhetorical: a question word that means "not at all" ("làm gì có" = there is none).
    "làm gì có", "làm gì mà", "làm gì bị", "làm chi có", "mần chi có", "làm răng có",
    "răng mà có", "mô có", "nào có", "có đâu", "có mô", "có chi mô", "có chi đâu",
    "có gì đâu", "có gì mô", "không có mô", "hông có mô", "không có chi", "đâu mà",
    "chẳng có gì", "không có đâu", "hổng có đâu", "hông có đâu", "làm răng có được",
    "làm sao có được", "làm gì có được",
)
# After a symptom or an answer word they make it "not at all" ("sốt gì đâu", "có sốt đâu",
# central "có chi mô"); "không có đâu" stays no.
AFTER_NEGATORS = ("đâu", "mô", "gì đâu", "chi mô", "gì mô", "chi đâu", "đâu mà", "đâu có")
# Words meaning no that no questionnaire lists: regional "it is nothing".
NO_PHRASES = (
    "không răng", "không can chi", "không sao mô", "không sao đâu", "hổng sao", "hông sao",
    "khỏe re", "vẫn khỏe re", "bình thường mà", "ổn áp", "không hề chi", "không việc gì",
)
# Soften an answer without changing it ("chắc là không" = no, "hình như có" = yes).
HEDGES = (
    "chắc", "chắc là", "chắc cũng", "hình như", "hình như là", "có lẽ", "có lẽ là", "dường như",
    "chắc có lẽ", "chắc chắn", "chắc chắn là", "tôi nghĩ là", "tôi thấy", "em thấy", "chắc vậy",
)
# May stand before a symptom without changing it ("vẫn còn sốt", "không có bị ho").
PREFIXES = (
    "có", "bị", "có bị", "vẫn", "vẫn còn", "vẫn bị", "còn", "còn bị", "đang", "đang bị",
    "thấy", "cảm thấy", "có thấy", "hơi", "hơi bị", "rất", "hay", "hay bị", "cũng", "cũng có",
    "cũng bị", "hề", "thường", "nhiều", "bị nhiều",
)
TOPIC = ("thì",)  # "sốt thì không": the answer follows
# Not an answer: the resident does not know, asks again, or hedges.
UNSURE = (
    "không biết", "chưa biết", "chả biết", "hổng biết", "ko biết", "k biết", "không rõ",
    "chưa rõ", "không nhớ", "không chắc", "chưa chắc", "chưa đo", "không đo", "chưa kiểm tra",
    "không hiểu", "nói lại", "nhắc lại", "gì cơ", "cái gì", "đỡ", "bớt", "giảm",
    "lúc có lúc không", "chưa chắc chắn", "không chắc chắn", "hổng chắc", "hông biết",
    "hổng rõ", "không hay", "răng cơ", "chi rứa", "cái chi", "hả cô", "nói chi",
)
# Carry no answer and are never accent-folded: particles, pronouns, address terms, and
# common words whose folded form is an answer word ("cảm ơn" is not "ổn", "họ" not "ho").
NEUTRAL = (
    "dạ", "ạ", "à", "ờ", "ơ", "ơi", "nhé", "nha", "nhỉ", "ha", "hả", "vậy", "thế", "rồi", "mà",
    "thưa", "xin", "tôi", "tui", "em", "anh", "chị", "cô", "chú", "bác", "ông", "bà", "con",
    "cháu", "mình", "họ", "nó", "lắm", "quá", "cảm ơn", "ơn", "ôn", "dùng", "cố", "cổ", "cơ",
    "hồ", "hộ", "hố", "bí", "khoe", "khói", "nông", "mét", "cha", "chà", "chàng", "chúa",
    "hồng", "vàng", "hét", "sọt", "độ", "nhiệt độ", "đo", "đồ", "bột", "gì",
    # Kinship terms and fillers of the north, the centre and the south.
    "thưa cô", "thưa chú", "thưa bác", "thưa anh", "thưa chị", "dạ thưa", "o", "mệ", "mạ", "mi",
    "tau", "tao", "bầy tui", "tụi", "tụi em", "tụi tui", "má", "mẹ", "bố", "cậu", "dì", "mợ",
    "thím", "dượng", "ngoại", "nội", "chớ", "chứ", "nè", "á", "đó", "nghen", "nghe", "hen",
    "luôn", "rứa", "ri", "nờ", "tê", "hỉ", "hè", "nì", "ấy", "đấy", "này", "ừ thì", "ờ thì",
    "ớ", "hử", "hà", "vậy đó", "thôi", "cả", "siếc", "miếc", "chi",
)


@dataclass(frozen=True)
class SpokenAnswer:
    """What a transcript means for one question."""

    answer: str  # 'yes', 'no' or 'unknown'
    matched: str | None  # the words that decided it
    reason: str  # why, for the supervisor
    number: float | None = None  # a number read aloud (a temperature at the fever question)

    def as_dict(self) -> dict:
        """A JSON-ready dict; number only when one was found."""
        data: dict[str, object] = {"answer": self.answer, "matched": self.matched,
                                   "reason": self.reason}
        if self.number is not None:
            data["number"] = self.number
        return data


@dataclass(frozen=True)
class _Item:
    text: str
    tags: frozenset[str]
    owner: str | None = None  # question id of a symptom word

    def has(self, *tags: str) -> bool:
        return not self.tags.isdisjoint(tags)


@dataclass(frozen=True)
class _Lexicon:
    exact: dict[str, _Item]
    folded: dict[str, tuple[_Item, ...]]  # by fold(): candidates to check word by word
    longest: int


ACCENTLESS_TAGS = ("yes", "no", "neg", "sym", "other", "prefix")  # may be typed without accents


def _heads(symptoms, taken) -> tuple[str, ...]:
    """First words of multi-word symptoms that are not words of their own ("đau" of "đau
    họng", "tức" of "tức ngực"): negated alone ("không đau") they answer no."""
    heads = {phrase.split()[0] for phrase in symptoms if " " in phrase}
    return tuple(sorted(heads - taken))


def _entries(yes, no, symptoms, others, qid) -> list[tuple[str, str, str | None]]:
    tables = [("yes", yes), ("no", no + NO_PHRASES), ("neg", NEGATORS), ("prefix", PREFIXES),
              ("topic", TOPIC), ("unsure", UNSURE), ("postneg", AFTER_NEGATORS),
              ("hedge", HEDGES)]
    rows: list[tuple[str, str, str | None]] = [
        (phrase, tag, None) for tag, words in tables for phrase in words]
    rows += [(phrase, "sym", qid) for phrase in symptoms]
    rows += [(phrase, "other", owner) for phrase, owner in others]
    taken = {phrase for phrase, _, _ in rows} | set(NEUTRAL)
    rows += [(head, "head", qid) for head in _heads(symptoms, taken)]
    return rows


def _merge(table: dict[str, _Item], phrase: str, tag: str, owner: str | None) -> None:
    old = table.get(phrase)
    tags = (old.tags if old else frozenset()) | {tag}
    table[phrase] = _Item(phrase, tags, owner or (old.owner if old else None))


@lru_cache(maxsize=128)
def _build(yes, no, symptoms, others, qid) -> _Lexicon:
    exact: dict[str, _Item] = {w: _Item(w, frozenset({"neutral"})) for w in NEUTRAL}
    for phrase, tag, owner in _entries(yes, no, symptoms, others, qid):
        _merge(exact, phrase, tag, owner)
    folded: dict[str, tuple[_Item, ...]] = {}
    for item in exact.values():
        if not item.has("neutral"):
            folded[fold(item.text)] = folded.get(fold(item.text), ()) + (item,)
    longest = max(len(key.split()) for key in exact)
    return _Lexicon(exact, folded, longest)


def _lexicon(question: Question) -> _Lexicon:
    return _build(question.yes_words, question.no_words, question.symptom_words,
                  question.other_symptoms, question.id)


def _like(word: str, target: str, accentless: bool) -> bool:
    """word may stand for target: equal, a tone error, or (accentless) typed without accents."""
    return word == target or tone_fold(word) == tone_fold(target) or (
        accentless and word.isascii())


def _loose(words: list[str], lexicon: _Lexicon) -> _Item | None:
    for item in lexicon.folded.get(fold(" ".join(words)), ()):
        accentless = item.has(*ACCENTLESS_TAGS)
        if all(_like(w, t, accentless) for w, t in zip(words, item.text.split())):
            return item
    return None


def _match(words: list[str], i: int, end: int, lexicon: _Lexicon) -> tuple[_Item, int]:
    """The longest known phrase at i (exact before loose at equal length)."""
    for n in range(min(lexicon.longest, end - i), 0, -1):
        phrase = " ".join(words[i:i + n])
        item = lexicon.exact.get(phrase) or _loose(words[i:i + n], lexicon)
        if item is not None:
            return replace(item, text=phrase), n
    return _Item(words[i], frozenset({"word"})), 1


def _segment(words: list[str], numbers: list[NumberSpan], lexicon: _Lexicon) -> list[_Item]:
    """Words cut into phrases; numbers stay whole and stop phrases from crossing them."""
    items, i = [], 0
    starts = {span.start: span for span in numbers}
    while i < len(words):
        if i in starts:
            span = starts[i]
            items.append(_Item(" ".join(words[span.start:span.end]), frozenset({"number"})))
            i = span.end
            continue
        end = min([s.start for s in numbers if s.start > i] + [len(words)])
        item, n = _match(words, i, end, lexicon)
        items.append(item)
        i += n
    return items


def _after_topic(items: list[_Item], k: int, used: set[int]) -> int | None:
    """Index of the yes/no answer in "<symptom> thì <answer>", if any."""
    if k + 1 >= len(items) or not items[k + 1].has("topic"):
        return None
    for m in range(k + 2, len(items)):
        if items[m].has("neutral"):
            continue
        if items[m].has("yes", "no", "neg") and not items[m].has("sym", "other"):
            used.update((k + 1, m))
            return m
        return None
    return None


def _rhetorical(items: list[_Item], k: int, used: set[int]) -> str | None:
    """The "đâu" / "mô" / "gì đâu" after item k (fillers between), which makes it no; the
    word said again after it ("sốt đâu mà sốt") belongs to it."""
    for m in range(k + 1, len(items)):
        if items[m].has("postneg") and m not in used:
            used.add(m)
            if m + 1 < len(items) and items[m + 1].text == items[k].text:
                used.add(m + 1)
            return items[m].text
        if not items[m].has("neutral"):
            return None
    return None


def _symptom(items: list[_Item], k: int, used: set[int]) -> tuple[str, str]:
    """(value, phrase) of the symptom at k with the negators / prefixes before it."""
    j = k - 1
    while j >= 0 and j not in used and items[j].has("prefix", "neg"):
        j -= 1
    words = items[j + 1:k + 1]
    used.update(range(j + 1, k + 1))
    value = "no" if any(it.has("neg") for it in words[:-1]) else "yes"
    phrase = " ".join(it.text for it in words)
    answer = _after_topic(items, k, used)
    if answer is not None:
        value = "yes" if items[answer].has("yes") else "no"
        phrase += f" {items[k + 1].text} {items[answer].text}"
    elif (after := _rhetorical(items, k, used)) is not None:
        value, phrase = "no", f"{phrase} {after}"
    return value, phrase


def _negated_head(items: list[_Item], k: int, used: set[int]) -> str | None:
    """ "không đau" for "đau họng": the phrase when a head word follows a negator."""
    j = k - 1
    while j >= 0 and j not in used and items[j].has("prefix") and not items[j].has("neg"):
        j -= 1
    if j < 0 or j in used or not items[j].has("neg"):
        return None
    used.update(range(j, k + 1))
    return " ".join(it.text for it in items[j:k + 1])


@dataclass
class _Heard:
    signals: list = field(default_factory=list)  # (position, 'yes'|'no', phrase)
    others: list = field(default_factory=list)  # other questions' symptoms
    unsure: list = field(default_factory=list)  # "không biết", ...
    hedges: list = field(default_factory=list)  # "chắc là", "hình như": noted, not decisive
    elsewhere: list = field(default_factory=list)  # "bị cảm": about an unknown word


def _about_other_word(items: list[_Item], k: int) -> bool:
    return items[k].has("prefix", "neg") and k + 1 < len(items) and items[k + 1].has("word")


def _signals(items: list[_Item]) -> _Heard:
    """What the phrases say, in spoken order."""
    used: set[int] = set()
    heard = _Heard()
    for k, item in enumerate(items):
        if k in used:
            continue
        if item.has("sym", "other"):
            value, phrase = _symptom(items, k, used)
            if item.has("sym"):
                heard.signals.append((k, value, phrase))
            else:
                heard.others.append(f"{phrase!r} ({item.owner})")
        elif item.has("head") and (head := _negated_head(items, k, used)) is not None:
            heard.signals.append((k, "no", head))
    for k, item in enumerate(items):
        if k in used:
            continue
        if item.has("unsure"):
            heard.unsure.append(item.text)
        elif item.has("hedge"):
            heard.hedges.append(item.text)
        elif _about_other_word(items, k):
            heard.elsewhere.append(f"{item.text} {items[k + 1].text}")
        elif item.has("yes", "no", "neg"):
            value = "yes" if item.has("yes") else "no"
            after = _rhetorical(items, k, used)
            phrase = item.text if after is None else f"{item.text} {after}"
            heard.signals.append((k, "no" if after else value, phrase))
    heard.signals.sort()
    return heard


def _temperature(numbers: list[NumberSpan], question: Question) -> NumberSpan | None:
    rule = question.temperature
    if rule is None:
        return None
    for span in numbers:
        if rule.min <= span.value <= rule.max and span.unit in (None, "độ"):
            return span
    return None


def _by_temperature(span: NumberSpan, words: list[str], question: Question) -> SpokenAnswer:
    assert question.temperature is not None  # a temperature span is only read by its rule
    limit = question.temperature.yes_from
    value = "yes" if span.value >= limit else "no"
    sign = ">=" if value == "yes" else "<"
    matched = " ".join(words[span.start:span.end])
    return SpokenAnswer(value, matched, f"temperature {span.value:g} {sign} {limit:g}")


def _by_words(heard: _Heard) -> SpokenAnswer:
    if heard.unsure:
        return SpokenAnswer("unknown", heard.unsure[0], f"not an answer: {heard.unsure[0]!r}")
    values = {value for _, value, _ in heard.signals}
    if len(values) == 1:
        value = values.pop()
        matched = ", ".join(phrase for _, _, phrase in heard.signals)
        hedged = f" (hedged: {heard.hedges[0]!r})" if heard.hedges else ""
        return SpokenAnswer(value, matched, f"{value}: {matched!r}{hedged}")
    if values:
        first = {value: phrase for _, value, phrase in reversed(heard.signals)}
        return SpokenAnswer("unknown", None,
                            f"contradictory: {first['yes']!r} (yes) and {first['no']!r} (no)")
    if heard.others:
        return SpokenAnswer("unknown", None, "only other questions' symptoms: "
                            + ", ".join(heard.others))
    if heard.elsewhere:
        return SpokenAnswer("unknown", None, f"{heard.elsewhere[0]!r} is about something "
                                             "not in this question")
    return SpokenAnswer("unknown", None, "no answer word")


def _callback_request(words: list[str]) -> str | None:
    """The words that ask for a health worker ("gọi lại cho tôi", "cho tôi gặp cán bộ")."""
    said = " ".join(words)
    for pattern in CALLBACK_PATTERNS:
        match = pattern.search(said)
        if match:
            return match.group(0)
    return None


def map_transcript(text: str, question: Question, *, confidence: float | None = None,
                   threshold: float = DEFAULT_THRESHOLD) -> SpokenAnswer:
    """The answer ('yes', 'no', 'unknown', or 'callback': the resident asks for a health
    worker, like key 0) a transcript gives to a question."""
    words = tokens(text)
    if not words:
        return SpokenAnswer("unknown", None, "empty transcript")
    request = _callback_request(words)
    if request is not None and (confidence is None or confidence >= threshold):
        return SpokenAnswer(CALLBACK, request, f"asks for a call back: {request!r}")
    numbers = find_numbers(words)
    temperature = _temperature(numbers, question)
    number = temperature.value if temperature else (numbers[0].value if numbers else None)
    heard = _signals(_segment(words, numbers, _lexicon(question)))
    if temperature is not None and not heard.unsure:
        answer = _by_temperature(temperature, words, question)
    else:
        answer = _by_words(heard)
    if confidence is not None and confidence < threshold:
        answer = SpokenAnswer("unknown", answer.matched,
                              f"confidence {confidence:.2f} below {threshold:.2f}, "
                              f"would be {answer.answer} ({answer.reason})")
    return replace(answer, number=number)
