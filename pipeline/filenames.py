"""File and folder names made from user text (audit ids, organisation names, uploaded file names):
safe on Windows, macOS and Linux, and never two texts in one name."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
MAX_NAME = 80


def safe_name(text: str, fallback: str = "audit") -> str:
    """A file name from user text that is safe on Windows, macOS and Linux: no separators, no
    reserved names, no leading dots, at most ``MAX_NAME`` characters. A changed name gets a short hash
    of the original so two different texts never meet in one name."""
    name = unicodedata.normalize("NFKC", text)
    name = _UNSAFE.sub("_", name).strip(" ._")
    name = name[:MAX_NAME].rstrip(" ._")
    if not name or name.split(".")[0].upper() in _RESERVED:
        name = f"{fallback}_{name}" if name else fallback
    if name != text:
        name = f"{name}-{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
    return name
