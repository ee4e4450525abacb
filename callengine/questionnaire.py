"""The questionnaire as data: loaded from YAML, validated, and encoded for the dialplan.

Each question also says which spoken words answer it (`spoken:`): words meaning yes or no
(added to the questionnaire-wide `spoken:` lists), its symptom words, and optionally a
temperature rule. callengine.speech.mapping reads them; adding a question needs no code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from callengine import contract
from callengine.errors import ConfigError

ANSWER_VALUES = ("yes", "no", "unknown")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
REQUIRED_PROMPTS = ("intro", "reprompt", "invalid", "callback", "closing", "silent")


SPOKEN_FIELDS = ("yes", "no", "symptoms", "temperature")
TEMPERATURE_FIELDS = ("yes_from", "min", "max")
_BOOL_KEYS = {True: "yes", False: "no"}


@dataclass(frozen=True)
class Temperature:
    """A temperature read aloud answers the question: yes from `yes_from` (degrees C) up."""

    yes_from: float = 37.5
    min: float = 35.0  # numbers outside min..max are not body temperatures
    max: float = 42.5


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    keys: dict[str, str]  # key -> answer value
    urgent: bool = False
    yes_words: tuple[str, ...] = ()  # spoken words meaning yes (questionnaire-wide + own)
    no_words: tuple[str, ...] = ()  # spoken words meaning no (questionnaire-wide + own)
    symptom_words: tuple[str, ...] = ()  # saying one means yes, negated ("không sốt") no
    other_symptoms: tuple[tuple[str, str], ...] = ()  # (word, question id) of other questions
    temperature: Temperature | None = None

    @property
    def short_name(self) -> str:
        """What a supervisor reads in a list: the first symptom word ("sốt", "khó thở")."""
        return self.symptom_words[0] if self.symptom_words else self.id


@dataclass(frozen=True)
class Questionnaire:
    id: str
    callback_key: str
    prompts: dict[str, str]
    questions: tuple[Question, ...]

    @property
    def question_ids(self) -> tuple[str, ...]:
        return tuple(q.id for q in self.questions)

    def describe(self, question_ids: str | None) -> str:
        """'fever, breath' (a flag's detail) as staff read it: 'sốt, khó thở'."""
        names = {q.id: q.short_name for q in self.questions}
        parts = [part.strip() for part in (question_ids or "").split(",") if part.strip()]
        return ", ".join(names.get(part, part) for part in parts)

    def question(self, qid: str) -> Question:
        for question in self.questions:
            if question.id == qid:
                return question
        raise KeyError(qid)

    def dialplan_questions(self) -> str:
        return contract.encode_questions([(q.id, "".join(sorted(q.keys))) for q in self.questions])

    def value_of(self, qid: str, key: str) -> str:
        """Answer value ('yes', 'no' or 'unknown') of a key pressed at a question."""
        try:
            return self.question(qid).keys.get(key, "unknown")
        except KeyError:
            return "unknown"

    def prompt_ids(self) -> tuple[str, ...]:
        return tuple(self.prompts) + self.question_ids


def _words(where: str, raw: object) -> tuple[str, ...]:
    from callengine.speech.vietnamese import normalize

    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(w, str) for w in raw):
        raise ConfigError(f"{where}: must be a list of words or phrases")
    words = tuple(normalize(w) for w in raw)
    if not all(words):
        raise ConfigError(f"{where}: contains an empty word")
    return tuple(dict.fromkeys(words))


def _number(where: str, raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise ConfigError(f"{where}: {raw!r} is not a number")
    return float(raw)


def _temperature(where: str, raw: object) -> Temperature | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - set(TEMPERATURE_FIELDS):
        raise ConfigError(f"{where}: must be a mapping with {', '.join(TEMPERATURE_FIELDS)}")
    values = {k: _number(f"{where}.{k}", v) for k, v in raw.items()}
    rule = Temperature(**values)
    if not rule.min < rule.yes_from <= rule.max:
        raise ConfigError(f"{where}: needs min < yes_from <= max (degrees C)")
    return rule


def _spoken(where: str, raw: object) -> dict:
    """The `spoken:` mapping of a question or of the questionnaire, validated."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a mapping with {', '.join(SPOKEN_FIELDS)}")
    # YAML 1.1 reads unquoted yes/no keys as booleans.
    raw = {_BOOL_KEYS.get(k, k) if isinstance(k, bool) else k: v for k, v in raw.items()}
    unknown = sorted(str(k) for k in raw if k not in SPOKEN_FIELDS)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown field "
                          f"(one of {', '.join(SPOKEN_FIELDS)})")
    spoken: dict[str, object] = {k: _words(f"{where}.{k}", raw.get(k))
                                 for k in ("yes", "no", "symptoms")}
    spoken["temperature"] = _temperature(f"{where}.temperature", raw.get("temperature"))
    return spoken


def _question(path: Path, index: int, raw: object, callback_key: str, shared: dict) -> Question:
    where = f"{path}: questions[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a mapping with id, text and keys")
    qid = str(raw.get("id", ""))
    if not _ID.match(qid):
        raise ConfigError(f"{where}.id: {qid!r} must be lower-case letters, digits and _")
    if not str(raw.get("text", "")).strip():
        raise ConfigError(f"{where}.text: missing")
    keys = raw.get("keys")
    if not isinstance(keys, dict) or not keys:
        raise ConfigError(f"{where}.keys: must map keys to answers")
    keys = {str(k): str(v) for k, v in keys.items()}
    for key, value in keys.items():
        if not re.fullmatch(r"[0-9*#]", key) or key == callback_key:
            raise ConfigError(f"{where}.keys: {key!r} is not a usable key")
        if value not in ANSWER_VALUES:
            raise ConfigError(f"{where}.keys.{key}: {value!r} is not one of {ANSWER_VALUES}")
    spoken = _spoken(f"{where}.spoken", raw.get("spoken"))
    yes = tuple(dict.fromkeys(shared["yes"] + spoken["yes"]))
    no = tuple(dict.fromkeys(shared["no"] + spoken["no"]))
    both = sorted(set(yes) & set(no))
    if both:
        raise ConfigError(f"{where}.spoken: {both[0]!r} is both a yes and a no word")
    clash = sorted(set(spoken["symptoms"]) & (set(yes) | set(no)))
    if clash:
        raise ConfigError(f"{where}.spoken.symptoms: {clash[0]!r} is also a yes/no word")
    return Question(qid, str(raw["text"]).strip(), keys, bool(raw.get("urgent", False)),
                    yes, no, spoken["symptoms"], (), spoken["temperature"])


def _link_symptoms(path: Path, questions: tuple[Question, ...]) -> tuple[Question, ...]:
    """Give each question the symptom words of the others, which must not answer it."""
    owner: dict[str, str] = {}
    for question in questions:
        for word in question.symptom_words:
            if word in owner:
                raise ConfigError(f"{path}: symptom word {word!r} is in both "
                                  f"{owner[word]} and {question.id} (spoken.symptoms)")
            owner[word] = question.id
    return tuple(
        replace(q, other_symptoms=tuple((w, o) for w, o in owner.items() if o != q.id))
        for q in questions
    )


def load_questionnaire(path: Path) -> Questionnaire:
    """Read and validate a questionnaire YAML file."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"questionnaire {path}: cannot be read ({exc})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("questions"), list):
        raise ConfigError(f"questionnaire {path}: needs a 'questions' list")
    callback_key = str(raw.get("callback_key", "0"))
    prompts = {str(k): str(v).strip() for k, v in (raw.get("prompts") or {}).items()}
    missing = [p for p in REQUIRED_PROMPTS if p not in prompts]
    if missing:
        raise ConfigError(f"questionnaire {path}: prompts lack {', '.join(missing)}")
    shared = _spoken(f"questionnaire {path}: spoken", raw.get("spoken"))
    if shared["symptoms"] or shared["temperature"]:
        raise ConfigError(f"questionnaire {path}: spoken: only yes and no words are shared; "
                          "symptoms and temperature belong to a question")
    questions = _link_symptoms(path, tuple(
        _question(path, i, q, callback_key, shared) for i, q in enumerate(raw["questions"])
    ))
    ids = [q.id for q in questions]
    if not ids or len(set(ids)) != len(ids) or set(ids) & set(prompts):
        raise ConfigError(f"questionnaire {path}: question ids must be unique and non-empty")
    return Questionnaire(str(raw.get("id", Path(path).stem)), callback_key, prompts, questions)
