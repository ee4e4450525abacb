"""The fingerprint of the database state an import's outcome depends on.

An import's counts and writes depend only on the stored people its records match (found by
national ID or by any of their phones, as the import's own lookup finds them), on those
people's monitoring periods, and on the monitoring days per class. The fingerprint is the
SHA-256 of exactly that: every column of the matched people's rows (updated_at included) and
of their periods, in id order, plus the days. A preview's fingerprint is taken by a dry run;
the commit takes it again inside its writing transaction, and a difference means that
someone (another import, a supervisor's edit) changed or created one of those people since:
the preview is stale. An import of other people leaves it unchanged.
"""

from __future__ import annotations

import hashlib
import json
from typing import Iterable, Mapping


def state_fingerprint(people: Iterable[Mapping], periods: Iterable[Mapping],
                      period_days: Mapping[str, int]) -> str:
    """SHA-256 (hex) of the matched people's rows, their periods and the days per class."""
    digest = hashlib.sha256(_line(dict(period_days)))
    for row in sorted(people, key=lambda r: r["id"]):
        digest.update(b"P" + _line(row))
    for row in sorted(periods, key=lambda r: r["id"]):
        digest.update(b"M" + _line(row))
    return digest.hexdigest()


def _line(row: Mapping) -> bytes:
    return json.dumps(dict(row), sort_keys=True, default=str, ensure_ascii=False).encode() + b"\n"
