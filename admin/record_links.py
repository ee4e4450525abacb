"""The page of the health record that raised a flag: a flag's reference "<kind>:<id>" (e.g.
"checkin:12", "sample:7") leads to the area that owns that kind of record."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for

# Reference kind -> (endpoint of the record's page, name of its id argument).
RECORD_PAGES: dict[str, tuple[str, str]] = {}


def record_page(reference: str | None) -> str | None:
    """The URL of the record's page, or None when the reference names no page of this app."""
    kind, _, ident = (reference or "").partition(":")
    page = RECORD_PAGES.get(kind)
    if page is None or not ident.isdigit() or page[0] not in current_app.view_functions:
        return None
    values: dict[str, Any] = {page[1]: int(ident)}
    return url_for(page[0], **values)
