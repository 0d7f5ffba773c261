"""Exact numbers as people read them."""

from __future__ import annotations

from decimal import Decimal


def plain(value: Decimal) -> str:
    """``12.50`` → ``12.5``, ``1E+2`` → ``100``: exact, no trailing zeros, no exponent."""
    return f"{value.normalize():f}"


def tidy(value: Decimal) -> Decimal:
    """The same number without trailing zeros: ``70.0`` → ``70``, ``95.50`` → ``95.5``."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()
