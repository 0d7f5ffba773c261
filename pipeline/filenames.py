"""File and folder names made from user text (audit ids, organisation names, uploaded file names):
safe on Windows, macOS and Linux, and never two texts in one name."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
#: Windows' device names: reserved with any extension (``con.txt``) and spaces before it (``CON .txt``).
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$",
             *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
MAX_NAME = 80
#: At most this many bytes of UTF-8, the short hash included: Linux allows 255 bytes in a name and
#: certpipe adds suffixes such as ``-certificate.docx`` (80 Chinese characters are 240 bytes).
MAX_BYTES = 200
_HASH = 9  # "-" and 8 hex digits


def safe_name(text: str, fallback: str = "audit") -> str:
    """A file name from user text that is safe on Windows, macOS and Linux: no separators, no
    reserved names, no leading dots, at most ``MAX_NAME`` characters and about ``MAX_BYTES`` bytes. A
    changed name gets a short hash of the original so two different texts never meet in one name."""
    name = unicodedata.normalize("NFKC", text)
    name = _UNSAFE.sub("_", name).strip(" ._")
    name = name[:MAX_NAME].rstrip(" ._")
    while len(name.encode("utf-8", "surrogatepass")) > MAX_BYTES - _HASH:
        name = name[:-1].rstrip(" ._")
    if not name or reserved(name):
        name = f"{fallback}_{name}" if name else fallback
    if name != text:
        name = f"{name}-{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
    return name


def reserved(name: str) -> bool:
    """Whether Windows takes ``name`` for a device (``NUL``, ``com1.xlsx``, ``CON .txt``)."""
    return unicodedata.normalize("NFKC", name).split(".")[0].rstrip(" ").upper() in _RESERVED
