"""File downloads: an attachment with a safe ASCII name, never shown inline."""

from __future__ import annotations

import re
from io import BytesIO

from flask import send_file

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def xlsx_download(data: bytes | BytesIO, name: str):
    """An .xlsx attachment named `name` (reduced to ASCII letters, digits, . _ -)."""
    stream = data if isinstance(data, BytesIO) else BytesIO(data)
    stream.seek(0)
    safe = _UNSAFE.sub("-", name).strip("-.") or "tep.xlsx"
    return send_file(stream, mimetype=XLSX, as_attachment=True, download_name=safe,
                     max_age=0)
