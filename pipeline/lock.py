"""One driver per workspace: ``run`` and ``watch`` take an exclusive lock on ``.certpipe/lock``.

The lock is the operating system's, taken through portalocker (``flock`` on Linux and macOS,
``msvcrt.locking`` on Windows): certpipe itself imports neither, so the same code runs everywhere. An
operating-system lock is released when its holder dies, however it dies: a lock left by a killed
driver is never stale. Who holds it is written beside it in ``.certpipe/lock.info``, when it can be:
on a full disk the lock still holds, only its holder is unknown (``?``); a ``lock.info`` left by a
dead holder is not read, since the lock itself is free."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import portalocker

from pipeline.errors import CertpipeError, WorkspaceBusy
from pipeline.workspace import Workspace

#: How often a waiting ``file_lock`` tries again. Waiting by polling works the same on every system
#: (Windows' own blocking lock gives up after ten seconds).
_WAIT_STEP = 0.02

#: Seconds a driver keeps trying before it says the workspace is busy: ``status`` and the console ask
#: who holds it by taking the lock for an instant (``holder``), which must not turn a driver away.
PROBE_WAIT = 1.0


def _try_lock(fh: IO) -> bool:
    """The exclusive lock on ``fh`` without waiting; False when another open file holds it."""
    try:
        fh.seek(0)  # Windows locks a byte range from the file's position: always the first byte
        portalocker.lock(fh, portalocker.LockFlags.EXCLUSIVE | portalocker.LockFlags.NON_BLOCKING)
    except (portalocker.exceptions.LockException, OSError):
        return False
    return True


def _unlock(fh: IO) -> None:
    with contextlib.suppress(portalocker.exceptions.LockException, OSError):  # closing releases it anyway
        fh.seek(0)
        portalocker.unlock(fh)


def _wait_lock(fh: IO) -> None:
    while not _try_lock(fh):
        time.sleep(_WAIT_STEP)


def _who(ws: Workspace) -> str:
    try:
        return (ws.lock_info).read_text(encoding="utf-8").strip() or "?"
    except OSError:
        return "?"


def holder(ws: Workspace) -> str | None:
    """Who holds the workspace (``pid 123 watch``), or None when it is free."""
    path = ws.lock_file
    if not path.exists():
        return None
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below; read-only is enough to ask (a read-only disk too)
    except OSError:
        return None
    with fh:
        if not _try_lock(fh):
            return _who(ws)
        _unlock(fh)
    return None


@contextmanager
def workspace_lock(ws: Workspace, what: str) -> Iterator[None]:
    """Hold the workspace for the block (``what``: ``run``, ``watch``). Raises ``WorkspaceBusy`` when
    another driver holds it, a ``CertpipeError`` (``err.lock_open``) when the lock file cannot be
    made (disk full, read-only, no permission)."""
    try:
        ws.state.mkdir(parents=True, exist_ok=True)
        fh = open(ws.lock_file, "a+b")  # noqa: SIM115 - held for the whole block
    except OSError as exc:
        raise CertpipeError("err.lock_open", {"path": ws.lock_file, "detail": exc.strerror or exc}) from exc
    try:
        deadline = time.monotonic() + PROBE_WAIT
        while not _try_lock(fh):
            if time.monotonic() >= deadline:
                raise WorkspaceBusy(key="err.workspace_busy", params={"other": _who(ws), "root": ws.root})
            time.sleep(_WAIT_STEP)
        _say_who(ws, f"pid {os.getpid()} {what}")
        yield
    finally:
        fh.close()


def _say_who(ws: Workspace, who: str) -> None:
    """Write who holds the workspace, best effort: only ``status`` and a refused second driver read
    it; a full disk must not stop the driver that holds the lock (they then say ``?``)."""
    try:
        ws.lock_info.write_text(who, encoding="utf-8")
    except OSError:
        with contextlib.suppress(OSError):  # not a stale holder's name: better unknown than wrong
            ws.lock_info.unlink(missing_ok=True)


def hold(path: Path) -> IO | None:
    """``path`` opened and locked without waiting (made if missing): the open file, whose lock lasts
    until it is closed or the process ends; ``None`` when another process holds it."""
    fh = open(path, "a+b")  # noqa: SIM115 - the caller keeps it open
    if _try_lock(fh):
        return fh
    fh.close()
    return None


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Wait for, then hold, an exclusive lock on ``path`` (made if missing): serialises workers
    publishing to the same destination."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        _wait_lock(fh)
        try:
            yield
        finally:
            _unlock(fh)
