"""The navigation: every area of the admin, in order. An entry shows only when its endpoint
is registered and the user's role may use it, so areas appear as their blueprints land."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from admin.access import may_use


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: object  # a lazy translated string


NAV = (
    NavEntry("home.index", _l("Overview")),
    NavEntry("flags.queue", _l("Flags")),
    NavEntry("people.search", _l("People")),
    NavEntry("calls.index", _l("Calls")),
    NavEntry("venues.index", _l("Venues")),
    NavEntry("imports.index", _l("Imports")),
    NavEntry("campaign.index", _l("Campaign")),
    NavEntry("prompts.index", _l("Prompts")),
    NavEntry("exports.index", _l("Exports")),
    NavEntry("audit.index", _l("Audit log")),
    NavEntry("users.index", _l("Accounts")),
)


def visible_entries() -> list[NavEntry]:
    """The entries the current user may open."""
    return [entry for entry in NAV if may_use(entry.endpoint)]
