"""The unified social credit code of GB 32100-2015: 18 characters from a 31-character alphabet
(digits and capitals without I, O, S, V, Z); the last is a check character (weighted sum mod 31)."""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}


def check_character(first17: str) -> str:
    """The check character for the first 17 characters (which must be in the alphabet)."""
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """None for a valid code; otherwise ``"length"``, ``"chars"`` or ``"check"`` (what is wrong)."""
    if len(code) != 18:
        return "length"
    if any(ch not in _VALUE for ch in code):
        return "chars"
    if check_character(code[:17]) != code[17]:
        return "check"
    return None
