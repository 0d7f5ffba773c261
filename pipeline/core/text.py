"""Text from users made storable: what Word, Excel and the register can hold."""

from __future__ import annotations

import re

_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def clean(text: object) -> str:
    """A value as text Word can store: line breaks normalised, control characters removed."""
    s = "" if text is None else str(text)
    s = s.replace("\r\n", "\n").replace("\r", "\n").replace("\x0b", "\n")
    return _BAD_CHARS.sub("", s)
