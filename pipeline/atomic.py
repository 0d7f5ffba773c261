"""Writing a file so that nobody ever sees it half-written: a temporary file in the same folder,
flushed, then renamed over the target. Files and folders get the permissions the umask gives
(``mkstemp``/``mkdtemp`` alone would make them owner-only)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # openpyxl is imported by whoever makes a workbook, not by everyone who writes a file
    from openpyxl import Workbook

_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK
DIR_MODE = 0o777 & ~_UMASK


def _replace(path: Path, write: Callable[[str], None]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".~certpipe-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, FILE_MODE)  # (os.fchmod exists on Windows only from Python 3.13)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_workbook(wb: Workbook, path: Path) -> Path:
    return _replace(path, wb.save)


def write_bytes(path: Path, data: bytes) -> Path:
    return _replace(path, lambda tmp: Path(tmp).write_bytes(data))


def make_temp_dir(parent: Path) -> Path:
    """A new private-named folder under ``parent`` with ordinary permissions."""
    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=parent))
    folder.chmod(DIR_MODE)
    return folder


def append_lines(path: Path, lines: list[str]) -> None:
    """Add whole lines to an append-only journal, on disk when this returns (a line cut short by a
    crash is the only thing a reader may meet: readers skip it)."""
    if not lines:
        return
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("".join(f"{line}\n" for line in lines))
        fh.flush()
        os.fsync(fh.fileno())
