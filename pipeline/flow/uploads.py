"""A workbook uploaded through the web console, dropped into the inbox the way a careful copy is: written
under a hidden name the inbox ignores (``.upload-….part``), counted as it streams in (refused the
moment it passes the workspace's ``[limits] max_file_mb``, before it is read whole), synced, then
renamed to its final name without replacing a file of that name. The watcher (or the next ``run``)
then takes it like any other file."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from pipeline.errors import CertpipeError
from pipeline.filenames import safe_name
from pipeline.flow.inbox import WORKBOOK_SUFFIXES, name_counts
from pipeline.workspace import Workspace


def upload_name(name: str) -> str:
    """The inbox name of an uploaded file: its last path part made safe (``safe_name``), its suffix
    kept when it is a workbook's. Raises ``CertpipeError`` (``web.upload_type``) for anything else."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = base.rpartition(".")
    suffix = suffix.lower()
    if not dot or f".{suffix}" not in WORKBOOK_SUFFIXES:
        raise CertpipeError("web.upload_type", {"suffixes": ", ".join(sorted(WORKBOOK_SUFFIXES))})
    safe = f"{safe_name(stem, 'upload')}.{suffix}"
    if not name_counts(safe):
        raise CertpipeError("web.upload_type", {"suffixes": ", ".join(sorted(WORKBOOK_SUFFIXES))})
    return safe


class InboxUpload:
    """``write`` chunks, then ``commit`` (returns the inbox name) or ``abort``. Raises
    ``CertpipeError`` (``web.upload_too_large``) from ``write`` as soon as the size passes the cap, the
    partial file already removed."""

    def __init__(self, ws: Workspace, name: str, max_bytes: int) -> None:
        self.ws, self.name, self.max_bytes = ws, upload_name(name), max_bytes
        self.size = 0
        ws.inbox.mkdir(parents=True, exist_ok=True)
        self.temp = ws.inbox / f".upload-{secrets.token_hex(8)}.part"
        self._fh = open(self.temp, "xb")  # noqa: SIM115 - closed by commit or abort

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            self.abort()
            raise CertpipeError("web.upload_too_large", {"mb": f"{self.max_bytes / 2**20:g}"})
        self._fh.write(chunk)

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self._fh.close()
        with contextlib.suppress(OSError):
            self.temp.unlink()

    def commit(self) -> str:
        """The file under its final name (``name``, else ``name-2`` …, never replacing one)."""
        if self.size == 0:
            self.abort()
            raise CertpipeError("web.upload_empty", {})
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        stem, suffix = os.path.splitext(self.name)
        for n in range(1, 1000):
            candidate = self.name if n == 1 else f"{stem}-{n}{suffix}"
            if _place(self.temp, self.ws.inbox / candidate):
                return candidate
        self.abort()
        raise CertpipeError("web.upload_busy", {"name": self.name})


def _place(temp: Path, target: Path) -> bool:
    """Rename ``temp`` to ``target`` unless ``target`` exists (a hard link where the system has them:
    atomic and never replacing; else a rename, which Windows refuses onto an existing file)."""
    if target.exists() or target.is_symlink():
        return False
    if hasattr(os, "link"):
        try:
            os.link(temp, target)
        except FileExistsError:
            return False
        except OSError:
            pass  # a file system without hard links: rename instead
        else:
            temp.unlink()
            return True
    try:
        if os.name == "nt":
            os.rename(temp, target)
        else:
            if target.exists():
                return False
            os.rename(temp, target)
    except FileExistsError:
        return False
    return True
