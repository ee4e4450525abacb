"""Where a preview's uploaded files are kept: `<data_dir>/imports/<preview id>/`.

The folder is the owner's only (0700) and so are the files (0600). Files are stored under
generated names (`01.xlsx`, `02.csv`, ...); the name staff gave a file is never used as a
path. It is kept, cleaned of path parts and control characters, only as text to show, and
the web layer escapes it like any other text.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from pathlib import Path
from typing import Sequence

from callengine.importer.limits import Limits, check_archive, check_request, name_suffix
from callengine.importer.service import ImportSource

Source = bytes | Path  # an upload's content, or a file holding it
PREVIEW_ID = re.compile(r"^[A-Za-z0-9_-]{16,32}$")  # secrets.token_urlsafe(16) is 22 long
MAX_NAME = 200  # characters of a display name (import_batches.file_name holds 300)
UNNAMED = "tệp không tên"
_CLIENT_PATH = re.compile(r"^(?:[A-Za-z]:\\|\\\\)")  # a Windows path: C:\ or \\server


def display_name(original: str) -> str:
    """The name to show for an upload: printable, at most MAX_NAME long, and otherwise as
    given (slashes and '<' included: it is text). A client's full path (old browsers sent
    'C:\\Users\\...\\ds.xlsx') is cut to its last part."""
    name = unicodedata.normalize("NFC", original or "")
    if _CLIENT_PATH.match(name):
        name = name.rsplit("\\", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    if len(name) > MAX_NAME:
        suffix = name_suffix(name)
        name = name[:MAX_NAME - len(suffix)] + suffix
    return name or UNNAMED


def checked_uploads(uploads: Sequence[tuple[str, Source]],
                    limits: Limits) -> list[tuple[str, Source]]:
    """The uploads under their display names, once each passes the upload limits
    (UploadRefused otherwise: nothing is stored)."""
    named = [(display_name(name), source) for name, source in uploads]
    check_request([(name, source_size(source)) for name, source in named], limits)
    for name, source in named:
        check_archive(name, source, limits)
    return named


def source_size(source: Source) -> int:
    """Bytes of an upload, without reading a file into memory."""
    return len(source) if isinstance(source, bytes) else Path(source).stat().st_size


def imports_root(data_dir: Path) -> Path:
    return Path(data_dir) / "imports"


def preview_folder(data_dir: Path, preview_id: str) -> Path:
    """The folder of one preview; the id must look like one (it becomes a path)."""
    if not PREVIEW_ID.match(preview_id):
        raise ValueError("not a preview id")
    return imports_root(data_dir) / preview_id


def stored_name(index: int, display: str) -> str:
    """The generated name of the index-th file (the suffix is an allowed one, checked)."""
    return f"{index + 1:02d}{name_suffix(display)}"


def stored_sources(folder: Path, names: Sequence[str]) -> list[ImportSource]:
    """The stored files of a preview, each with the name staff know it by."""
    return [ImportSource(folder / stored_name(i, n), n) for i, n in enumerate(names)]


def save_uploads(folder: Path, uploads: Sequence[tuple[str, Source]]) -> list[ImportSource]:
    """Write the uploads, (display name, content), into a new private folder (removed again
    if a write fails; an existing folder is never used)."""
    _private_dir(folder.parent, exist_ok=True)
    _private_dir(folder, exist_ok=False)
    try:
        for index, (name, source) in enumerate(uploads):
            _write_private(folder / stored_name(index, name), source)
    except BaseException:
        remove_folder(folder)
        raise
    return stored_sources(folder, [name for name, _source in uploads])


def remove_folder(folder: Path) -> bool:
    """Delete a preview's folder and files; True if there was one."""
    if not folder.is_dir():
        return False
    shutil.rmtree(folder)
    return True


def _private_dir(path: Path, exist_ok: bool) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=exist_ok)
    os.chmod(path, 0o700)  # mkdir's mode is reduced by the umask


def _write_private(path: Path, source: Source) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), 0o600)
        if isinstance(source, bytes):
            out.write(source)
        else:
            with open(source, "rb") as src:
                shutil.copyfileobj(src, out)
