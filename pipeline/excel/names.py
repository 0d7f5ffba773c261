"""The workbook contract shared by the builder, the reader and the filler: defined names, the
``_meta`` keys, the column roles of a scoring sheet and the marks that mean "not applicable".

No openpyxl here: the reader imports this module and must stay light."""

from __future__ import annotations

import re
import unicodedata

FORMAT_VERSION = "1"
META_SHEET = "_meta"
LISTS_SHEET = "_lists"

REQUIRED_COVER = ("audit_id", "org_name", "org_address", "scope", "audit_type", "audit_start",
                  "audit_end", "lead_auditor")
SPECIAL_DEDUCTIONS = "special_deductions"
SPECIAL_BONUS = "special_bonus"

# _meta keys (column A of the very hidden sheet; the value is in column B).
META_KEYS = ("format_version", "standard_key", "edition", "fingerprint", "audit_id", "generated_at",
             "lang", "sheets", "columns", "first_row", "text_fingerprint")

# Column roles of a scoring sheet, in the order they appear. ``band`` only for standards with bands,
# ``na`` only when some indicator allows not-applicable; ``appl`` is a hidden helper (applicable max).
ROLES = ("code", "title", "requirement", "max", "score", "band", "na", "note", "points", "rate", "appl")

# What an auditor may put in a not-applicable cell: the dropdown offers the first of each language.
NA_MARKS = frozenset({"不适用", "n/a", "na", "是", "yes", "y", "x", "✓", "√", "✔", "true"})
NA_CLEAR = frozenset({"", "否", "适用", "no", "n", "false"})

_NAME_SAFE = re.compile(r"[^0-9A-Za-z_]")


def _suffix(code: str) -> str:
    return _NAME_SAFE.sub("_", code.replace(".", "_"))


def score_name(code: str) -> str:
    """``4.1`` → ``score_4_1``; ``A.1`` → ``score_A_1``."""
    return f"score_{_suffix(code)}"


def note_name(code: str) -> str:
    return f"note_{_suffix(code)}"


def na_name(code: str) -> str:
    return f"na_{_suffix(code)}"


def roles_for(has_bands: bool, has_na: bool) -> dict[str, str]:
    """The column letter of every role used by a standard's scoring sheets."""
    used = [r for r in ROLES if (r != "band" or has_bands) and (r != "na" or has_na)]
    return {role: chr(ord("A") + i) for i, role in enumerate(used)}


def encode_columns(columns: dict[str, str]) -> str:
    return ";".join(f"{role}={letter}" for role, letter in columns.items())


def decode_columns(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in (text or "").split(";"):
        role, _, letter = item.partition("=")
        letter = letter.strip().upper()
        if role and re.fullmatch(r"[A-Z]{1,3}", letter):  # an edited _meta may hold anything
            out[role.strip()] = letter
    return out


def na_state(value: object) -> bool | None:
    """True for a not-applicable mark, False for an empty/cleared cell, None for anything else."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    if text in NA_MARKS:
        return True
    if text in NA_CLEAR:
        return False
    return None
