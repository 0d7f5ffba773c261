"""The user's cache folder for certpipe: what is worth keeping between runs and can be made again
(chart layouts, LibreOffice profiles). Anything in it may be deleted at any time."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def cache_dir() -> Path | None:
    """``$XDG_CACHE_HOME/certpipe`` or ``~/.cache/certpipe`` (Linux), ``%LOCALAPPDATA%\\certpipe``
    (Windows), ``~/Library/Caches/certpipe`` (macOS); ``None`` for a user without a home folder (a
    container running as an arbitrary user id): nothing is then kept."""
    try:
        if os.name == "nt":
            base = os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local"
        elif sys.platform == "darwin":
            base = Path.home() / "Library" / "Caches"
        else:
            base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    except RuntimeError:  # Path.home(): no HOME and no entry in the password database
        return None
    return Path(base) / "certpipe"
