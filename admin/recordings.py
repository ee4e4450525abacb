"""Recordings of spoken answers, streamed to the supervisors' audio players.

    GET /recordings/<answer_id>    audio/wav, Range requests (seeking), never cached

The URL holds an answer's id only. The file is the one stored for that answer, a plain file
name inside the recordings folder; anything else, or a file already deleted by retention,
is 404. Listening is recorded in the audit log.
"""

from __future__ import annotations

from flask import Blueprint, abort, request, send_file

from callengine.casework.recordings import answer_recording
from admin.access import roles_required
from admin.context import audit_event, context

bp = Blueprint("recordings", __name__, url_prefix="/recordings")


def _starts_listening() -> bool:
    """A first request, not the audio player seeking inside what it already opened."""
    return request.range is None or request.range.ranges[0][0] == 0


@bp.get("/<int:answer_id>")
@roles_required("staff", "supervisor")  # whoever may open the person's page
def answer(answer_id: int):
    """The WAV of one spoken answer."""
    ctx = context()
    path = answer_recording(ctx.db, ctx.settings, answer_id)
    if path is None:
        abort(404)
    if _starts_listening():
        audit_event("recording.listen", object_type="answer", object_id=answer_id)
    response = send_file(path, mimetype="audio/wav", conditional=True, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response
