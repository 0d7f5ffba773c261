"""File systems a test mounts itself (a tiny tmpfs to fill, a read-only bind mount): skipped where
nothing can be mounted (not root, no mount command)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest


@contextlib.contextmanager
def mounted(target: Path, *options: str, source: str = "tmpfs"):
    """``mount OPTIONS SOURCE TARGET`` for the block; lazily unmounted after."""
    target.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting needs root")
    done = subprocess.run(["mount", *options, source, str(target)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here: {done.stderr.strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def tmpfs(target: Path):
    """A 4 MB tmpfs at ``target``."""
    return mounted(target, "-t", "tmpfs", "-o", "size=4m")
