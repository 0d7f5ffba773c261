"""Reading a cell's value as what it should be: a number, a count, a date, a text. Strict: text that
clearly is a number (``"8"``, full-width ``"８"``) is a number; ``"8分"`` or ``"八"`` is not, and is
never guessed at."""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def _integral(value: Decimal) -> Decimal:
    return value.to_integral_value() if value == value.to_integral_value() else value


def parse_number(value: object) -> tuple[Decimal | None, str]:
    """(the exact number, "") or (None, why): ``bool``, a date, or text that is not plainly a number."""
    if isinstance(value, bool) or value is None:
        return None, "type"
    if isinstance(value, int):
        return Decimal(value), ""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None, "type"
        return _integral(Decimal(repr(value))), ""  # the shortest decimal that round-trips: what was typed
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        if _NUMBER.match(text):
            try:
                return _integral(Decimal(text)), ""
            except InvalidOperation:
                return None, "text"
        return None, "text"
    return None, "type"


def parse_count(value: object) -> int | None:
    """A whole number of items; an empty cell is 0. None for anything else (7.5, "两", a date)."""
    if value is None:
        return 0
    number, _ = parse_number(value)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


def parse_date(value: object) -> date | None:
    """A date cell, or text written as a date (``2025-03-18``, ``2025/3/18``, ``2025年3月18日``)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        m = _DATE.match(unicodedata.normalize("NFKC", value).strip())
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return None
    return None


def text_of(value: object) -> str:
    """A cell as text: a whole float without ``.0``, a date as ISO, text stripped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()
