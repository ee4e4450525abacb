"""The signed-in landing page: links to the areas this user may open (not a dashboard)."""

from __future__ import annotations

from flask import Blueprint, render_template

from admin.access import any_role
from admin.nav import visible_entries

bp = Blueprint("home", __name__)


@bp.get("/")
@any_role
def index():
    """Where a user lands after signing in."""
    entries = [e for e in visible_entries() if e.endpoint != "home.index"]
    return render_template("home/index.html", entries=entries)
