"""Build the blank scoring workbook of one audit (the contract: ``excel/names.py`` and
docs/architecture.md "The workbook"). ``build_workbook`` picks the way itself: the prepared template
patched per audit (``excel/fast.py``, ~1 ms) where it can write every value exactly as openpyxl would,
else the openpyxl build (``excel/builder.py``, 50-110 ms)."""

from __future__ import annotations

from pathlib import Path

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from pipeline.atomic import save_workbook, write_bytes
from pipeline.core.audit import COVER_FIELDS, AuditInfo
from pipeline.core.standard import Standard
from pipeline.errors import CertpipeError
from pipeline.excel.builder import Builder
from pipeline.excel.fast import workbook_bytes


def build_workbook(std: Standard, info: AuditInfo, path: Path, *, lang: str = "zh", fast: bool = True) -> Path:
    """Write the blank workbook of one audit to ``path`` (atomically: a temp file renamed).

    ``fast``: patch a template prepared once per standard and language (``excel/fast.py``); the
    result is the workbook openpyxl would write. Values it cannot patch exactly are built by openpyxl.
    A cover value no worksheet can hold (a control character) is a ``CertpipeError`` naming it."""
    for name in COVER_FIELDS:
        value = getattr(info, name)
        if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
            raise CertpipeError(key="wb.illegal_char", params={"field": name, "value": repr(value)[:80]})
    blob = workbook_bytes(std, info, lang) if fast else None
    if blob is not None:
        return write_bytes(path, blob)
    return save_workbook(Builder(std, info, lang).build(), path)
