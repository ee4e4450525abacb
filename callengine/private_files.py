"""Files with personal data, readable by their owner only (0600 files, 0700 folders).

Umasks differ between hosts, so modes are set explicitly, not left to them. Greetings are
played by Asterisk: where Asterisk runs as another user, `asterisk_group` (a setting) names
its group, and greetings get group read (0640 files, 0750 folders) for that group only.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

FILE_MODE, DIR_MODE = 0o600, 0o700
SHARED_FILE_MODE, SHARED_DIR_MODE = 0o640, 0o750


def private_dir(path: Path, group: str = "") -> Path:
    """Create a folder (and missing parents) that only its owner can enter, or, with a
    group, that this group may enter and read too (see share_with_asterisk)."""
    path = Path(path)
    missing = [p for p in (path, *path.parents) if not p.is_dir()]
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
        share_with_asterisk(folder, group)  # mkdir's mode is reduced by the umask
    return path


def private_output(path: Path) -> Path:
    """A file about to be written (an export): created 0600, or made 0600 if it exists."""
    create_private_file(path)
    return make_private(path)


def create_private_file(path: Path) -> Path:
    """Create an empty file readable by its owner only, unless it exists already."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass
    return Path(path)


def make_private(path: Path) -> Path:
    os.chmod(path, FILE_MODE)
    return Path(path)


def share_with_asterisk(path: Path, group: str = "") -> Path:
    """A greeting file or folder: owner only, or group-readable by Asterisk's group."""
    path = Path(path)
    folder = path.is_dir()
    if not group:
        os.chmod(path, DIR_MODE if folder else FILE_MODE)
        return path
    shutil.chown(path, group=group)
    os.chmod(path, SHARED_DIR_MODE if folder else SHARED_FILE_MODE)
    return path
