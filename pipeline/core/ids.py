"""Audit ids: readable (``GBT27922-2025-007``), unique within a set of ids, and safe as a file and
folder name (they name the outputs)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from pipeline.core.standard import Standard

_SAFE_ID = re.compile(r"^[0-9A-Za-z\u4e00-\u9fff][0-9A-Za-z\u4e00-\u9fff._-]{0,63}$")


def short_code(std: Standard) -> str:
    """``GB/T 27922-2011`` → ``GBT27922``; a code without Latin letters falls back to the key's initials."""
    code = std.code
    if code.endswith("-" + std.edition):
        code = code[: -len(std.edition) - 1]
    ascii_part = re.sub(r"[^0-9A-Za-z]", "", code).upper()
    if ascii_part:
        return ascii_part
    key = std.key.removesuffix("-" + std.edition)
    return "".join(word[0] for word in re.split(r"[-_]", key) if word).upper() or "AUDIT"


def valid_audit_id(audit_id: str) -> bool:
    """An id is used as a file and folder name: letters, digits, ``. _ -``, Chinese; no spaces."""
    return bool(_SAFE_ID.match(audit_id or ""))


def allocate_audit_id(std: Standard, taken: Iterable[str], *, year: int | None = None) -> str:
    """The next free id ``<SHORT>-<year>-<NNN>`` (e.g. ``GBT27922-2025-007``) after every id in ``taken``."""
    year = year or datetime.now().year
    prefix = f"{short_code(std)}-{year}-"
    pattern = re.compile(re.escape(prefix) + r"(\d+)")
    used = [int(m.group(1)) for name in taken if (m := pattern.match(name))]
    return f"{prefix}{(max(used) + 1 if used else 1):03d}"
