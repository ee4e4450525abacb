"""Vietnamese by default, English on request; dates dd/mm/yyyy in the engine's time zone."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, session
from flask_babel import Babel, format_datetime, format_decimal, get_locale
from flask_babel import lazy_gettext as _l

from callengine.settings import ADMIN_LANGUAGES, Settings

LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
ROLE_NAMES = {"admin": _l("Administrator"), "supervisor": _l("Supervisor"),
              "staff": _l("Staff")}


def configure(app: Flask, settings: Settings) -> None:
    """Flask-Babel with the session's language, and the date filters."""
    app.config["BABEL_DEFAULT_LOCALE"] = settings.admin_language
    app.config["BABEL_DEFAULT_TIMEZONE"] = settings.timezone
    Babel(app, locale_selector=lambda: current_language(settings.admin_language))
    app.jinja_env.filters["datetime"] = format_moment
    app.jinja_env.filters["date"] = format_day
    app.jinja_env.filters["number"] = format_decimal  # 12.345 in Vietnamese, 12,345 in English
    app.jinja_env.filters["role_name"] = lambda role: ROLE_NAMES.get(role, role)
    app.jinja_env.globals["language_names"] = LANGUAGE_NAMES
    app.jinja_env.globals["get_locale"] = get_locale


def current_language(default: str) -> str:
    """The language picked in this session, else the configured one."""
    chosen = session.get("lang")
    return chosen if chosen in ADMIN_LANGUAGES else default


def format_moment(moment: datetime | None, seconds: bool = False) -> str:
    """dd/mm/yyyy HH:MM in the engine's time zone ('' for None)."""
    if moment is None:
        return ""
    return format_datetime(moment, "dd/MM/yyyy HH:mm:ss" if seconds else "dd/MM/yyyy HH:mm")


def format_day(moment: datetime | None) -> str:
    """dd/mm/yyyy in the engine's time zone."""
    return format_datetime(moment, "dd/MM/yyyy") if moment else ""
