"""`/campaign`: supervisors pause and resume every engine and change the live limits (call
window, per-trunk channels and calls per second, retry delays, attempts per day).

Every value goes through `callengine.campaign`, which checks it with the settings' own rules
and stores it in the one campaign row that running engines re-read every few seconds. The
form carries the revision it was read at: of two supervisors editing at once, the second is
told and nothing of theirs is written (HTTP 409). Each change is audited with its values
(campaign values are not personal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from callengine import campaign as service
from callengine.campaign import Campaign, CampaignConflict, CampaignError, label
from callengine.campaign.validate import flatten
from callengine.campaign.values import trunk_key
from callengine.store.campaign import DURATION_COLUMNS
from admin.access import roles_required
from admin.context import audit_event, context
from admin.forms import ActionForm, whole_number

bp = Blueprint("campaign", __name__, url_prefix="/campaign")
SUPERVISOR = roles_required("supervisor")
SCALAR_FIELDS = ("call_window", *DURATION_COLUMNS, "max_attempts_per_day")
TRUNK_FIELDS = ("max_channels", "cps")


def change(changes: Mapping[str, Any], *, expected_revision: int | None = None) -> Campaign:
    """Apply changes as the signed-in user and audit them (`campaign.update`, the values
    they now have); CampaignError / CampaignConflict when refused, nothing written."""
    ctx = context()
    updated = service.update(ctx.db, ctx.settings, changes, current_user.username,
                             ctx.clock.now(), expected_revision=expected_revision)
    values, keys = updated.values(), flatten(changes)
    if keys:
        audit_event("campaign.update", object_type="campaign", object_id=updated.revision,
                    changes={key: values.get(key) for key in keys})
    return updated


def set_paused(paused: bool) -> Campaign:
    """Pause or resume every engine as the signed-in user, audited."""
    ctx = context()
    act = service.pause if paused else service.resume
    updated = act(ctx.db, ctx.settings, current_user.username, ctx.clock.now())
    audit_event("campaign.pause" if paused else "campaign.resume", object_type="campaign",
                object_id=updated.revision)
    return updated


def format_seconds(seconds: float) -> str:
    """A duration as the settings write it: 2h, 15m, 90s, 0."""
    whole = int(seconds) if float(seconds).is_integer() else None
    if whole is None:
        return f"{seconds:g}s"
    if whole and whole % 3600 == 0:
        return f"{whole // 3600}h"
    if whole and whole % 60 == 0:
        return f"{whole // 60}m"
    return f"{whole}s" if whole else "0"


@dataclass(frozen=True)
class Field:
    """One editable value: its campaign key, label, text in the form, error, whether set."""

    key: str
    label: str
    value: str
    overridden: bool
    error: str | None = None


def shown_values(current: Campaign) -> dict[str, str]:
    """Every editable key with its text as the form shows it."""
    values = current.values()
    shown = {key: format_seconds(values[key]) if key in DURATION_COLUMNS else str(values[key])
             for key in SCALAR_FIELDS}
    for name in current.trunks:
        for limit in TRUNK_FIELDS:
            shown[f"trunk.{name}.{limit}"] = str(values[f"trunk.{name}.{limit}"])
    return shown


def submitted_changes(form: Mapping[str, str], current: Campaign) -> dict[str, str | None]:
    """What the form changes: fields whose text differs from what was shown; an emptied
    field that was set in the database goes back to the settings file's value."""
    changes: dict[str, str | None] = {}
    for key, shown in shown_values(current).items():
        text = (form.get(key) or "").strip()
        if text == shown:
            continue
        if not text:
            if key in current.overridden:
                changes[key] = None
            continue
        changes[key] = text
    return changes


def _fields(current: Campaign, typed: Mapping[str, str] | None = None,
            errors: Mapping[str, str] | None = None) -> tuple[list[Field], dict[str, list]]:
    shown, typed, errors = shown_values(current), typed or {}, errors or {}

    def field(key: str) -> Field:
        return Field(key, label(key), typed.get(key, shown[key]), key in current.overridden,
                     errors.get(key))

    scalars = [field(key) for key in SCALAR_FIELDS]
    trunks = {name: [field(f"trunk.{name}.{limit}") for limit in TRUNK_FIELDS]
              for name in current.trunks}
    return scalars, trunks


def server_limits(current: Campaign) -> list[tuple[str, str]]:
    """The limits set for one server only (shown, changed through the API or the CLI)."""
    values = current.values()
    return [(label(key), str(values[key])) for key in sorted(
        trunk_key(target, limit) for target, given in current.server_limits.items()
        for limit in given)]


def _page(current: Campaign, *, typed=None, errors=None, problem: str | None = None,
          status: int = 200):
    scalars, trunks = _fields(current, typed, errors)
    other_errors = [message for key, message in (errors or {}).items()
                    if key not in shown_values(current)]
    return render_template("campaign/index.html", campaign=current, scalars=scalars,
                           trunks=trunks, server_limits=server_limits(current),
                           form=ActionForm(), problem=problem,
                           other_errors=other_errors,
                           poll=context().settings.campaign_poll_interval), status


def _current() -> Campaign:
    ctx = context()
    return service.current(ctx.db, ctx.settings)


@bp.get("")
@SUPERVISOR
def index():
    """The campaign as every engine obeys it now, and the form to change it."""
    return _page(_current())


@bp.post("")
@SUPERVISOR
def update():
    """Change the values that differ from what the form showed, all or nothing."""
    form = ActionForm()
    revision = request.form.get("revision", "")
    if not form.validate_on_submit() or whole_number(revision) is None:
        abort(400)
    current = _current()
    typed = {key: request.form.get(key, "") for key in shown_values(current)}
    changes = submitted_changes(request.form, current)
    if not changes:
        flash(_("Nothing was changed."), "success")
        return redirect(url_for("campaign.index"))
    try:
        change(changes, expected_revision=int(revision))
    except CampaignConflict as error:
        return _page(_current(), problem=error.errors["revision"], status=409)
    except CampaignError as error:
        return _page(current, typed=typed, errors=error.errors,
                     problem=_("Nothing was saved: correct the values marked below."),
                     status=422)
    flash(_("Saved: %(keys)s. Running engines apply it within 5 seconds.",
            keys=", ".join(label(key) for key in changes)), "success")
    return redirect(url_for("campaign.index"))


@bp.post("/pause")
@SUPERVISOR
def pause():
    """No new call starts on any engine; calls in progress finish."""
    if not ActionForm().validate_on_submit():
        abort(400)
    set_paused(True)
    flash(_("The campaign is paused. Running engines stop starting calls within 5 seconds; "
            "calls in progress finish."), "success")
    return redirect(url_for("campaign.index"))


@bp.post("/resume")
@SUPERVISOR
def resume():
    """Every engine starts dialling again."""
    if not ActionForm().validate_on_submit():
        abort(400)
    set_paused(False)
    flash(_("The campaign is running again. Engines start calling within 5 seconds."),
          "success")
    return redirect(url_for("campaign.index"))
