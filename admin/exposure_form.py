"""The exposure review's form as posted: candidate rows (ticked, edited), people added by hand.

Pure: turns the page's fields into the domain's ContactChoice lists and back. Field names
carry row numbers only; names and phones travel in the POST body, never in a URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from callengine.health.confirm import ContactChoice
from callengine.health.exposure import Contact, Exposure
from callengine.phones import InvalidPhone, normalize_phone

MAX_ROWS = 500  # candidate rows read from one form
HAND_FIELDS = ("full_name", "phone", "national_id", "commune", "address")
BLANK_F2_ROWS = 3
MAX_HAND_ROWS = 30


@dataclass
class CandidateRow:
    """One proposed contact as the page shows it: what it refers to, ticked, name, phone."""

    ref: str  # "checkin:<id>" or "person:<id>"
    picked: bool
    full_name: str
    phone: str

    def choice(self) -> ContactChoice:
        kind, _, number = self.ref.partition(":")
        key = "person_id" if kind == "person" else "checkin_id"
        ids: dict[str, Any] = {key: int(number)}
        return ContactChoice(**ids, full_name=self.full_name or None,
                             phone=self.phone or None)


@dataclass
class HandRow:
    """Someone typed in: an F1 the check-ins missed, or a household member (F2)."""

    full_name: str = ""
    phone: str = ""
    national_id: str = ""
    commune: str = ""
    address: str = ""

    @property
    def blank(self) -> bool:
        return not any(getattr(self, k).strip() for k in HAND_FIELDS)

    def choice(self) -> ContactChoice:
        return ContactChoice(**{k: getattr(self, k).strip() or None for k in HAND_FIELDS})


@dataclass
class Draft:
    """What the supervisor has chosen so far."""

    version: int
    rows: list[CandidateRow] = field(default_factory=list)
    f1_hand: list[HandRow] = field(default_factory=list)
    f2: list[HandRow] = field(default_factory=list)

    def choices(self) -> tuple[list[ContactChoice], list[ContactChoice]]:
        f1 = [r.choice() for r in self.rows if r.picked]
        f1 += [h.choice() for h in self.f1_hand if not h.blank]
        return f1, [h.choice() for h in self.f2 if not h.blank]

    def with_blank_rows(self, f2_rows: int = BLANK_F2_ROWS) -> Draft:
        """The draft with blank rows to type people into (one for F1, some for F2)."""
        f1 = [h for h in self.f1_hand if not h.blank] + [HandRow()]
        f2 = [h for h in self.f2 if not h.blank]
        f2 += [HandRow() for _ in range(max(f2_rows - len(f2), 1))]
        return Draft(self.version, self.rows, f1[:MAX_HAND_ROWS], f2[:MAX_HAND_ROWS])


def shown_phone(e164: str) -> str:
    """The national form staff type ('0912345678'), or the value as stored."""
    try:
        return normalize_phone(e164).national()
    except InvalidPhone:
        return e164


def row_of(contact: Contact) -> CandidateRow:
    """A proposable contact as a ticked row (known people by their stored name and phone)."""
    if contact.known is not None:
        return CandidateRow(f"person:{contact.known.id}", True, contact.known.full_name,
                            shown_phone(contact.known.phone))
    candidate = contact.candidate
    return CandidateRow(f"checkin:{candidate.checkin_ids[-1]}", True, candidate.full_name,
                        shown_phone(candidate.phone))


def draft_of(exposure: Exposure, version: int) -> Draft:
    """The page's first state: every proposable contact ticked."""
    rows = [row_of(c) for c in exposure.contacts if c.proposable]
    return Draft(version, rows).with_blank_rows()


def _ref(text: str) -> str | None:
    kind, _, number = text.partition(":")
    if kind in ("checkin", "person") and number.isascii() and number.isdigit() and \
            len(number) < 19:
        return text
    return None


def _hand_rows(form: Mapping[str, str], prefix: str) -> list[HandRow]:
    rows = []
    for n in range(MAX_HAND_ROWS):
        values = {k: (form.get(f"{prefix}_{k}_{n}") or "")[:300] for k in HAND_FIELDS}
        if not any(f"{prefix}_{k}_{n}" in form for k in HAND_FIELDS):
            break
        rows.append(HandRow(**values))
    return rows


def draft_from_form(form: Mapping[str, str], version: int) -> Draft:
    """The draft as posted; rows whose reference this page did not make are dropped."""
    rows = []
    for n in range(MAX_ROWS):
        ref = form.get(f"ref_{n}")
        if ref is None:
            break
        if _ref(ref) is None:
            continue
        rows.append(CandidateRow(ref, form.get(f"pick_{n}") == "1",
                                 (form.get(f"name_{n}") or "").strip()[:200],
                                 (form.get(f"phone_{n}") or "").strip()[:40]))
    return Draft(version, rows, _hand_rows(form, "f1"), _hand_rows(form, "f2"))


def contacts_by_ref(exposure: Exposure) -> dict[str, Contact]:
    """Each proposable contact under its row's reference (for showing a row's overlaps)."""
    return {row_of(c).ref: c for c in exposure.contacts if c.proposable}
