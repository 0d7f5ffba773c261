"""Where the built-in standards and templates are, whatever the install.

A wheel carries them in ``pipeline/_builtin/``; a source checkout or an editable install reads
them from the repository's top-level ``standards/`` and ``templates/``."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def builtin_dir(kind: str) -> Path:
    """The folder of built-in ``standards`` or ``templates``."""
    packaged = _PACKAGE / "_builtin" / kind
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / kind
