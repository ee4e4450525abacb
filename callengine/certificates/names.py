"""A holder's name as the EU DCC writes it: `fn`/`gn` as typed, `fnt`/`gnt` in the ICAO 9303
machine-readable form (A-Z and '<' only, at most 50 characters).

A Vietnamese name is written family name first: "Trần Thị Diệu" has the family name "Trần"
and the given names "Thị Diệu" (fnt "TRAN", gnt "THI<DIEU").
"""

from __future__ import annotations

import re

from callengine.importer.text import clean, fold

MAX_LENGTH = 50
_NOT_LETTER = re.compile(r"[^A-Z]+")


def machine_readable(text: str) -> str:
    """'Thị Diệu' -> 'THI<DIEU': accents folded (đ -> D), anything but A-Z becomes '<'."""
    folded = fold(text.replace("'", "")).upper()
    return _NOT_LETTER.sub("<", folded).strip("<")[:MAX_LENGTH]


def holder_name(full_name: str) -> dict[str, str]:
    """The `nam` object of a Vietnamese full name (family name first)."""
    words = clean(full_name).split(" ")
    family, given = words[0], " ".join(words[1:])
    name = {"fn": family, "fnt": machine_readable(family)}
    if given:
        name.update(gn=given, gnt=machine_readable(given))
    return name
