"""/prompts: what callers hear, and a real person's voice in place of the synthesised one.

Staff upload a recording (or record it in the browser: static/prompt-recorder.js), listen to
it in the telephone format, then use it or drop it; they can go back to the synthesised
voice. callengine.prompt_voice does the work and audits every change.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from callengine.prompt_voice import PromptVoiceError, PromptVoices
from admin.access import roles_required
from admin.context import actor, context
from admin.forms import ActionForm, RecordingForm

bp = Blueprint("prompts", __name__, url_prefix="/prompts")
STAFF = roles_required("staff", "supervisor")  # every role: a province records its own voice
NAMES = {
    "intro": _l("Opening"),
    "reprompt": _l("Asking again"),
    "invalid": _l("Wrong key"),
    "callback": _l("Call-back request"),
    "closing": _l("Closing"),
    "silent": _l("No answer heard"),
}
ERRORS = {
    "too_large": _l("The file is too large: at most %(limit)s MB."),
    "too_long": _l("The recording is too long: at most %(limit)s seconds."),
    "unreadable": _l("This file cannot be read as audio. Send a WAV, MP3, Ogg, WebM or M4A "
                     "recording."),
    "silent": _l("Nothing can be heard in this recording. Record again closer to the "
                 "microphone."),
    "no_preview": _l("No recording waits for approval (someone may have just used or "
                     "discarded it)."),
    "not_human": _l("This prompt already has the synthesised voice."),
}


def _voices() -> PromptVoices:
    ctx = context()
    return PromptVoices.from_settings(ctx.settings, ctx.db)


@bp.app_template_filter("seconds")
def seconds(value: float | None) -> str:
    """A duration as the user's locale writes it: 2,5 (vi), 2.5 (en)."""
    return "" if value is None else format_decimal(value, "0.0")


def _back(prompt_id: str):
    return redirect(url_for("prompts.index", _anchor=f"prompt-{prompt_id}"))


def _change(voices: PromptVoices, prompt_id: str, form, change, done: str):
    """Run one change of a prompt's voice; say how it went on the list."""
    if not voices.knows(prompt_id):
        abort(404)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return _back(prompt_id)
    try:
        change()
    except PromptVoiceError as error:
        flash(str(ERRORS.get(error.code, error)) % error.values, "error")
    else:
        flash(done, "success")
    return _back(prompt_id)


@bp.get("")
@STAFF
def index():
    """Every prompt with its text, what callers hear, and a waiting preview."""
    voices = _voices()
    return render_template("prompts/index.html", prompts=voices.list(), names=NAMES,
                           max_mb=voices.max_bytes // (1024 * 1024),
                           max_seconds=round(voices.max_seconds))


def _send(path_of, prompt_id: str):
    try:
        path = path_of(prompt_id)
    except PromptVoiceError:
        abort(404)
    if path is None:
        abort(404)
    return send_file(path, mimetype="audio/wav", conditional=True, max_age=0)


@bp.get("/<prompt_id>/audio")
@STAFF
def audio(prompt_id: str):
    """The WAV callers hear for this prompt (ids of the questionnaire only)."""
    return _send(_voices().live_file, prompt_id)


@bp.get("/<prompt_id>/preview")
@STAFF
def preview_audio(prompt_id: str):
    """The staged recording, as callers would hear it."""
    return _send(_voices().preview_file, prompt_id)


@bp.post("/<prompt_id>/recording")
@STAFF
def stage(prompt_id: str):
    """Convert an uploaded or browser-made recording and keep it as a preview."""
    form, voices = RecordingForm(), _voices()

    def change():
        upload = form.recording.data
        voices.stage(prompt_id, upload.read(voices.max_bytes + 1), upload.filename or "",
                     actor=actor(), now=context().clock.now())
    return _change(voices, prompt_id, form, change,
                   _("Recording converted. Listen to it, then use it or discard it."))


@bp.post("/<prompt_id>/approve")
@STAFF
def approve(prompt_id: str):
    """Callers hear the preview from now on."""
    voices = _voices()
    return _change(voices, prompt_id, ActionForm(),
                   lambda: voices.approve(prompt_id, actor=actor(), now=context().clock.now()),
                   _("Callers now hear this recording."))


@bp.post("/<prompt_id>/discard")
@STAFF
def discard(prompt_id: str):
    """Drop the preview."""
    voices = _voices()
    return _change(voices, prompt_id, ActionForm(),
                   lambda: voices.discard(prompt_id, actor=actor(), now=context().clock.now()),
                   _("Recording discarded."))


@bp.post("/<prompt_id>/revert")
@STAFF
def revert(prompt_id: str):
    """Back to the synthesised voice."""
    voices = _voices()
    return _change(voices, prompt_id, ActionForm(),
                   lambda: voices.revert(prompt_id, actor=actor(), now=context().clock.now()),
                   _("Callers hear the synthesised voice again."))
