"""A greeting by name ("Xin chào bà Lan."), rendered per person when the day is planned.

Three parts:

- The words (pure): how a person is addressed (ông/bà, anh/chị) from their sex and age, and
  their given name, the last word of the full name.
- The audio: content-addressed files <greetings dir>/<key>.wav and <key>.alaw, the key being
  the sha256 of text + engine + voice (prompts.content_key). People with the same greeting
  share one file; a file that exists is never rendered again.
- The plan step (attach_greetings): after the daily plan created the day's tasks, every
  pending task without a greeting gets one, stored in call_tasks.greeting as Asterisk's path
  without extension; the dialer passes it on as CE_GREETING. Nothing is synthesised during
  a call. A greeting that cannot be rendered is logged and left out: the call goes without.

Logs name people by id only, never by name or phone number (personal health data).
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select, update

from callengine.errors import CallengineError
from callengine.importer.text import word_key
from callengine.private_files import private_dir, share_with_asterisk
from callengine.prompts import content_key, render_audio
from callengine.settings import Settings
from callengine.speech.tts import SynthesisUnavailable, Synthesizer, make_synthesizer
from callengine.store.db import Database
from callengine.store.models import TASK_PENDING, CallTask, Person

log = logging.getLogger("callengine.greetings")

# From this age (by birth year) a person is addressed as ông/bà, below it as anh/chị: 60 is
# the age of "người cao tuổi" in Vietnamese law (Luật Người cao tuổi 2009, điều 2).
ELDER_AGE = 60
# A birth year giving an age outside 0..MAX_AGE is a typing error: the age counts as unknown.
MAX_AGE = 120

GREETING = "Xin chào {address} {name}."
# How a person is addressed, by (sex, elder). Unknown sex: the written "anh/chị" (or "ông/bà"
# of official letters), read aloud as "anh chị". Unknown age: anh/chị.
ADDRESS = {
    ("male", True): "ông", ("male", False): "anh",
    ("female", True): "bà", ("female", False): "chị",
    (None, True): "ông bà", (None, False): "anh chị",
}
_SEXES = {"nam": "male", "male": "male", "m": "male", "trai": "male",
          "nu": "female", "female": "female", "f": "female", "gai": "female"}

_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]")  # "Lê Thị Hoa (vợ)": a note, not the name
_NOT_LETTER = re.compile(r"[\W\d_]+")  # digits, punctuation, symbols


def sex_of(value: str | None) -> str | None:
    """'male', 'female' or None, from what the import stores (Nam, Nữ) and common variants."""
    return _SEXES.get(word_key(value)) if value else None


def _capitalised(word: str) -> str:
    # Not str.title(): it would also capitalise a letter that follows a combining mark.
    return word[:1].upper() + word[1:].lower()


def given_name(full_name: str | None) -> str | None:
    """The name a person is greeted by: the last word of the full name, cleaned.

    'nguyễn  văn AN' -> 'An'; 'Lê Thị Hoa (vợ)' -> 'Hoa'; 'Trần Văn Bình 2' -> 'Bình'.
    None when no name is left, or when it is a single unaccented letter ('Nguyễn Văn A' is
    how lists write an unknown name).
    """
    if not full_name:
        return None
    text = unicodedata.normalize("NFC", _BRACKETED.sub(" ", full_name))
    words = _NOT_LETTER.sub(" ", text).split()
    if not words:
        return None
    name = words[-1]
    if len(name) == 1 and name.isascii():
        return None
    return _capitalised(name)


def age_on(birth_year: int | None, day: date) -> int | None:
    """Age in years on the day, from the birth year alone; None when unknown or implausible."""
    if birth_year is None:
        return None
    age = day.year - birth_year
    return age if 0 <= age <= MAX_AGE else None


def address_of(sex: str | None, birth_year: int | None, day: date) -> str:
    """ông, bà, anh, chị, or 'ông bà' / 'anh chị' when the sex is unknown."""
    age = age_on(birth_year, day)
    return ADDRESS[sex_of(sex), age is not None and age >= ELDER_AGE]


def greeting_text(full_name: str | None, sex: str | None, birth_year: int | None,
                  day: date) -> str | None:
    """'Xin chào bà Lan.' for a person on a day; None without a usable name."""
    name = given_name(full_name)
    if name is None:
        return None
    return GREETING.format(address=address_of(sex, birth_year, day), name=name)


# --- audio -----------------------------------------------------------------------------------


def greeting_key(text: str, synthesizer: Synthesizer) -> str:
    return content_key(text, synthesizer.engine, synthesizer.voice)


def render_greeting(text: str, folder: Path, synthesizer: Synthesizer,
                    group: str = "") -> tuple[str, bool]:
    """The greeting's key, and whether it was rendered now (False: the file was there).

    Written under a temporary name and moved into place, the WAV last, so a file that exists
    is complete, and two servers rendering the same greeting at once both succeed.
    """
    key = greeting_key(text, synthesizer)
    wav = folder / f"{key}.wav"
    if wav.is_file() and wav.with_suffix(".alaw").is_file():
        return key, False
    with tempfile.TemporaryDirectory(dir=folder, prefix=".render-") as tmp:
        target = Path(tmp) / "greeting.wav"
        render_audio(synthesizer.synthesize(text, Path(tmp)), target)
        for rendered in (target.with_suffix(".alaw"), target):  # a name is personal data
            share_with_asterisk(rendered, group)
        os.replace(target.with_suffix(".alaw"), wav.with_suffix(".alaw"))
        os.replace(target, wav)
    return key, True


# --- the plan step ---------------------------------------------------------------------------

UPDATE_BATCH = 50000  # tasks given their greeting per transaction (calls may be dialing)
GREETING_PATH_LENGTH = 200  # call_tasks.greeting: String(200)
IN_CHUNK = 500  # ids per IN (...) list, within every database's parameter limit
LOGGED_FAILURES = 10  # failures logged one by one; the rest only in the summary


@dataclass
class GreetingResult:
    greeted: int = 0  # tasks given a greeting
    rendered: int = 0  # audio files made now
    reused: int = 0  # distinct greetings whose file already existed
    failed: int = 0  # tasks left without greeting because their audio could not be made
    failed_greetings: int = 0  # distinct greetings that could not be rendered
    unnamed: int = 0  # tasks of people without a usable name: no greeting


def _people_by_text(db: Database, day: date) -> tuple[dict[str, list[int]], int]:
    """{greeting text: person ids} for the day's pending tasks without greeting; nameless."""
    groups: dict[str, list[int]] = {}
    unnamed = 0
    with db.session() as s:
        rows = s.execute(
            select(Person.id, Person.full_name, Person.sex, Person.birth_year)
            .join(CallTask, CallTask.person_id == Person.id)
            .where(CallTask.day == day, CallTask.status == TASK_PENDING,
                   CallTask.greeting.is_(None))
            .execution_options(yield_per=10000))
        for person_id, full_name, sex, birth_year in rows:
            text = greeting_text(full_name, sex, birth_year, day)
            if text is None:
                unnamed += 1
            else:
                groups.setdefault(text, []).append(person_id)
    return groups, unnamed


def _store(db: Database, day: date, batch: list[tuple[str, list[int]]]) -> None:
    """Set call_tasks.greeting: one UPDATE per greeting and chunk of people, one transaction."""
    if not batch:
        return
    with db.session() as s:
        for sound, people in batch:
            for start in range(0, len(people), IN_CHUNK):
                s.execute(
                    update(CallTask)
                    .where(CallTask.day == day, CallTask.greeting.is_(None),
                           CallTask.person_id.in_(people[start:start + IN_CHUNK]))
                    .values(greeting=sound)
                    .execution_options(synchronize_session=False))


def _failed(result: GreetingResult, people: list[int], reason: object) -> None:
    result.failed += len(people)
    result.failed_greetings += 1
    if result.failed_greetings <= LOGGED_FAILURES:
        log.warning("greeting for %d call(s) (person id %d%s) not rendered, the call goes "
                    "without: %s", len(people), people[0], ", …" if len(people) > 1 else "",
                    reason)


def attach_greetings(db: Database, day: date, settings: Settings,
                     synthesizer: Synthesizer | None = None) -> GreetingResult:
    """Give the day's pending tasks that have no greeting one, rendering what is missing.

    Idempotent: a second run finds nothing to do. The most common greetings come first, and
    they are stored in batches, so calls dialled meanwhile already have most of them.
    """
    result = GreetingResult()
    groups, result.unnamed = _people_by_text(db, day)
    if not groups:
        return result
    folder = settings.on_engine_host(settings.greetings_dir)
    synthesizer = synthesizer or make_synthesizer("espeak")
    problem = None
    if len(str(settings.greetings_dir / ("0" * 64))) > GREETING_PATH_LENGTH:
        problem = f"greetings_dir is too long for call_tasks.greeting ({GREETING_PATH_LENGTH})"
    else:
        try:
            private_dir(folder, settings.asterisk_group)
        except OSError as exc:
            problem = f"cannot create {folder} ({exc})"
    if problem:
        log.warning("greetings: %s; today's calls go without", problem)
        result.failed = sum(len(people) for people in groups.values())
        return result
    batch: list[tuple[str, list[int]]] = []
    batched = 0
    ordered = sorted(groups.items(), key=lambda item: len(item[1]), reverse=True)
    for done, (text, people) in enumerate(ordered):
        try:
            key, rendered = render_greeting(text, folder, synthesizer,
                                            settings.asterisk_group)
        except SynthesisUnavailable as exc:  # the engine is missing or unreachable: stop
            rest = [person for _, group in ordered[done:] for person in group]
            _failed(result, rest, exc)
            break
        except (CallengineError, OSError) as exc:
            _failed(result, people, exc)
            continue
        result.rendered += rendered
        result.reused += not rendered
        result.greeted += len(people)
        batch.append((str(settings.greetings_dir / key), people))
        batched += len(people)
        if batched >= UPDATE_BATCH:
            _store(db, day, batch)
            batch, batched = [], 0
    _store(db, day, batch)
    log.info("greetings %s: %d call(s) greeted by name (%d file(s) rendered, %d reused), "
             "%d failed, %d without a usable name", day, result.greeted, result.rendered,
             result.reused, result.failed, result.unnamed)
    return result
