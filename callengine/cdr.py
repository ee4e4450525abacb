"""The durable call record Asterisk writes itself (cdr_custom CSV, dialplans/cdr_custom.conf).

It lets the engine recover the outcome and answers of calls that ended while it was down.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from callengine import contract

COLUMNS = ("uniqueid", "disposition", "userfield", "start", "end", "accountcode")


@dataclass(frozen=True)
class CdrRecord:
    uniqueid: str
    disposition: str
    stage: str | None
    answers: dict[str, str]


def parse_line(row: list[str]) -> CdrRecord | None:
    if len(row) < 3:
        return None
    stage, answers = contract.decode_answers(row[2])
    return CdrRecord(row[0], row[1].strip().upper(), stage, answers)


class CdrReader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def find(self, uniqueids: set[str]) -> dict[str, CdrRecord]:
        """Records of these calls; an answered record wins over an unanswered one."""
        found: dict[str, CdrRecord] = {}
        if not uniqueids or not self.path.exists():
            return found
        with self.path.open(newline="", encoding="utf-8", errors="replace") as handle:
            for row in csv.reader(handle):
                record = parse_line(row)
                if record is None or record.uniqueid not in uniqueids:
                    continue
                if record.uniqueid not in found or record.disposition == "ANSWERED":
                    found[record.uniqueid] = record
        return found
