"""The dialplan <-> engine contract: every name both sides share, in one place.

dialplans/extensions_callengine.conf uses exactly these names; tests/unit/test_contract.py
checks that the two agree.
"""

import re

# Channel variables the engine sets on Originate (read by the survey dialplan).
VAR_ATTEMPT = "CE_ATTEMPT"  # the attempt uuid, also the channel's uniqueid (ChannelId)
VAR_QUESTIONS = "CE_QUESTIONS"  # "fever:12|cough:12|..." question id and its accepted keys
VAR_CALLBACK_KEY = "CE_CALLBACK_KEY"  # key that asks a health worker to call back
VAR_ANSWER_TIMEOUT = "CE_ANSWER_TIMEOUT"  # seconds to wait for a key
VAR_REPROMPTS = "CE_REPROMPTS"  # re-prompts before an answer is unknown
VAR_SILENT_LIMIT = "CE_SILENT_LIMIT"  # consecutive unknown answers that end the call
VAR_MAX_DURATION = "CE_MAX_DURATION"  # TIMEOUT(absolute) of an answered call
VAR_GREETING = "CE_GREETING"  # optional: this person's greeting, a sound path without extension
VAR_SPEECH = "CE_SPEECH"  # "1": record a spoken answer when no key comes
VAR_RECORDINGS = "CE_REC_DIR"  # folder (Asterisk's view) for answer recordings
VAR_AGI = "CE_AGI"  # host:port of the engine's FastAGI server

# Set by the engine's FastAGI 'recognize' script: the key a spoken answer stands for.
VAR_HEARD = "CE_HEARD"
AGI_RECOGNIZE = "recognize"  # AGI(agi://${CE_AGI}/recognize,<attempt>,<question>,<try>)

# UserEvents the dialplan raises (AMI class 'user').
EVENT_ANSWERED = "CallengineAnswered"  # headers: Attempt
EVENT_ANSWER = "CallengineAnswer"  # headers: Attempt, Question, Key, Tries, Source
EVENT_CALLBACK = "CallengineCallback"  # headers: Attempt, Question
EVENT_END = "CallengineEnd"  # from the hangup handler: Attempt, Stage, Answers, Cause

# Values the dialplan uses inside answers and stages.
KEY_UNKNOWN = "?"  # no valid key after all re-prompts (or speech not understood)
KEY_NOTHING_HEARD = ""  # CE_HEARD: the recording holds no speech
KEY_PENDING = "~"  # "~<try>": spoken answer recorded, recognised later (engine busy or away)
SOURCE_DTMF, SOURCE_SPEECH = "dtmf", "speech"
CALLBACK_ANSWER = "callback"  # answers entry "callback=<question>" when the key was pressed
STAGE_DONE = "done"  # every question asked
STAGE_SILENT = "silent"  # ended after silent_limit unknown answers in a row
STAGE_TIMEOUT = "timeout"  # max call duration reached

# Dialplan contexts.
SURVEY_CONTEXT = "callengine-survey"
SURVEY_END_CONTEXT = "callengine-survey-end"


def encode_questions(questions: list[tuple[str, str]]) -> str:
    """'fever:12|cough:12' from [(id, accepted keys)].

    '|' because AMI splits Originate Variable headers on commas.
    """
    return "|".join(f"{qid}:{keys}" for qid, keys in questions)


def recording_name(attempt_id: str, question_id: str, try_no: int | str) -> str:
    """File name (without folder) the dialplan records a spoken answer to."""
    return f"{attempt_id}-{question_id}-{try_no}.wav"


# What recording_name makes: an attempt id (a uuid), a question id, a try number.
RECORDING_NAME = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]{0,63}-[a-z][a-z0-9_]{0,31}-[0-9]{1,3}\.wav")


def is_recording_name(name: str) -> bool:
    """Whether a name is one recording_name makes (a plain file name, no folder)."""
    return RECORDING_NAME.fullmatch(name) is not None


def pending_key(try_no: int | str) -> str:
    return f"{KEY_PENDING}{try_no}"


def pending_try(key: str) -> int | None:
    """The try number of a pending spoken answer key ("~1" -> 1), None for other keys."""
    if key.startswith(KEY_PENDING) and key[1:].isdigit():
        return int(key[1:])
    return None


def decode_answers(text: str) -> tuple[str | None, dict[str, str]]:
    """Stage and {question: key} from a CDR userfield / CallengineEnd 'stage=done;fever=1;'."""
    stage = None
    answers: dict[str, str] = {}
    for item in text.split(";"):
        key, sep, value = item.strip().partition("=")
        if not sep or not key:
            continue
        if key == "stage":
            stage = value or None
        else:
            answers[key] = value
    return stage, answers
