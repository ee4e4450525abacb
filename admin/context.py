"""What the views share: settings, database, clock and services, one set per app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request
from flask_login import current_user

from callengine import audit
from callengine.accounts import Accounts
from callengine.audit import Actor
from callengine.campaign import effective_settings
from callengine.clock import Clock, SystemClock
from callengine.dialer.window import Window
from callengine.errors import ConfigError
from callengine.questionnaire import Questionnaire, load_questionnaire
from callengine.settings import Settings, load_settings
from callengine.store.db import Database

MIN_SECRET_KEY = 16
QUESTIONNAIRE_KEY = "callengine.questionnaire"


@dataclass(frozen=True)
class AdminContext:
    """The app's collaborators; views reach them through `context()`."""

    settings: Settings
    db: Database
    clock: Clock
    accounts: Accounts


def install_context(app: Flask, settings: Settings | None, db: Database | None,
                    clock: Clock | None) -> AdminContext:
    """Build the context from settings (environment by default) and attach it to the app."""
    settings = settings or load_settings()
    if len(settings.admin_secret_key) < MIN_SECRET_KEY:
        raise ConfigError("admin_secret_key: set CALLENGINE_ADMIN_SECRET_KEY to a random "
                          f"string of at least {MIN_SECRET_KEY} characters to serve the admin")
    clock = clock or SystemClock()
    db = db or Database(settings.effective_database_url)
    context = AdminContext(settings, db, clock, Accounts.from_settings(db, settings, clock))
    app.extensions["callengine"] = context
    return context


def context() -> AdminContext:
    """The current app's context."""
    return current_app.extensions["callengine"]


def client_address() -> str | None:
    """The client's address (behind trusted proxies: the forwarded one)."""
    return request.remote_addr


def actor() -> Actor:
    """Who makes the current request, for the audit log and the services."""
    if current_user.is_authenticated:
        return Actor(current_user.id, current_user.username, client_address())
    return Actor(None, "", client_address())


def audit_event(action: str, *, object_type: str | None = None, object_id: Any = None,
                who: Actor | None = None, **detail: Any) -> None:
    """Record that the current user (or `who`) saw or did something; no secrets in detail."""
    ctx = context()
    audit.record(ctx.db, action, actor=who or actor(), clock=ctx.clock, object_type=object_type,
                 object_id=object_id, detail=detail or None)


def questionnaire() -> Questionnaire:
    """The questionnaire of the settings, read once per app."""
    cached = current_app.extensions.get(QUESTIONNAIRE_KEY)
    if cached is None:
        cached = load_questionnaire(context().settings.questionnaire)
        current_app.extensions[QUESTIONNAIRE_KEY] = cached
    return cached


def call_window() -> Window:
    """Today's call window as the campaign has it now (it may override the settings')."""
    ctx = context()
    settings = effective_settings(ctx.db, ctx.settings)
    return Window(settings.call_window, settings.timezone, settings.window_close_guard)


def local_today(now: datetime | None = None) -> date:
    """Today in the engine's time zone (by the app's clock unless a moment is given)."""
    ctx = context()
    moment = now if now is not None else ctx.clock.now()
    return moment.astimezone(ZoneInfo(ctx.settings.timezone)).date()
