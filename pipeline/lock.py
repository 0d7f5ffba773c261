"""One driver per workspace: ``run`` and ``watch`` take an exclusive lock on ``.certpipe/lock``."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from pipeline.errors import WorkspaceBusy
from pipeline.workspace import Workspace


def holder(ws: Workspace) -> str | None:
    """The pid text of the process holding the workspace, or None when it is free."""
    path = ws.state / "lock"
    if not path.exists():
        return None
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            return fh.read().strip() or "?"
        fcntl.flock(fh, fcntl.LOCK_UN)
    return None


@contextmanager
def workspace_lock(ws: Workspace, what: str) -> Iterator[None]:
    ws.state.mkdir(parents=True, exist_ok=True)
    fh = open(ws.state / "lock", "a+")  # noqa: SIM115 - held for the whole block
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            other = fh.read().strip()
            raise WorkspaceBusy(key="err.workspace_busy", params={"other": other, "root": ws.root}) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} {what}")
        fh.flush()
        yield
    finally:
        fh.close()
