"""The Vietnamese catalogue: complete for every source string, and compiled up to date."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ADMIN = Path(__file__).resolve().parents[2] / "admin"
CATALOGUE = ADMIN / "translations" / "vi" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]


def _po():
    with open(CATALOGUE / "messages.po", "rb") as f:
        return read_po(f)


def test_every_source_string_has_a_vietnamese_translation():
    catalogue = _po()
    sources = {message for _, _, message, _, _ in
               extract_from_dir(str(ADMIN), METHODS, keywords=KEYWORDS)}
    untranslated = sorted(m for m in sources if not (catalogue.get(m) and catalogue.get(m).string))
    assert not untranslated, f"add these to messages.po: {untranslated}"


def test_the_compiled_mo_matches_the_po():
    with open(CATALOGUE / "messages.mo", "rb") as f:
        compiled = {m.id: m.string for m in read_mo(f) if m.id}
    source = {m.id: m.string for m in _po() if m.id and not m.fuzzy}
    assert compiled == source, "run: pybabel compile -d admin/translations"


def test_placeholders_survive_translation():
    for message in _po():
        if message.id and "%(" in message.id:
            names = sorted(part.split(")")[0] for part in message.id.split("%(")[1:])
            got = sorted(part.split(")")[0] for part in message.string.split("%(")[1:])
            assert names == got, message.id
