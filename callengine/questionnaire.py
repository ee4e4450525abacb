"""The questionnaire as data: loaded from YAML, validated, and encoded for the dialplan."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from callengine import contract
from callengine.errors import ConfigError

ANSWER_VALUES = ("yes", "no", "unknown")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
REQUIRED_PROMPTS = ("intro", "reprompt", "invalid", "callback", "closing", "silent")


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    keys: dict[str, str]  # key -> answer value
    urgent: bool = False


@dataclass(frozen=True)
class Questionnaire:
    id: str
    callback_key: str
    prompts: dict[str, str]
    questions: tuple[Question, ...]

    @property
    def question_ids(self) -> tuple[str, ...]:
        return tuple(q.id for q in self.questions)

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


def _question(path: Path, index: int, raw: object, callback_key: str) -> Question:
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
    return Question(qid, str(raw["text"]).strip(), keys, bool(raw.get("urgent", False)))


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
    questions = tuple(
        _question(path, i, q, callback_key) for i, q in enumerate(raw["questions"])
    )
    ids = [q.id for q in questions]
    if not ids or len(set(ids)) != len(ids) or set(ids) & set(prompts):
        raise ConfigError(f"questionnaire {path}: question ids must be unique and non-empty")
    return Questionnaire(str(raw.get("id", Path(path).stem)), callback_key, prompts, questions)
