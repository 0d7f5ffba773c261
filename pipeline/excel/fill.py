"""Fill a blank scoring workbook programmatically, through its defined names — what an auditor's own
tools can do too. Used by the tests and by ``certpipe demo`` to write sample audits."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook

from pipeline.atomic import save_workbook
from pipeline.core.audit import COVER_FIELDS, Audit
from pipeline.excel.names import SPECIAL_BONUS, SPECIAL_DEDUCTIONS, na_name, note_name, score_name
from pipeline.excel.style import regrow_rows
from pipeline.i18n import t


def _cell_value(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def fill_workbook(src: Path, dest: Path, values: Mapping[str, object]) -> None:
    """Copy ``src`` to ``dest`` with each defined name in ``values`` set (``None`` clears the cell).
    Text is written as text, even when it starts with ``=``. An unknown name raises ``KeyError``;
    nothing else of the workbook changes."""
    wb = load_workbook(src)
    for name, value in values.items():
        dn = wb.defined_names.get(name)
        if dn is None:
            raise KeyError(f"{Path(src).name}: no defined name {name!r}")
        (sheet, ref), = list(dn.destinations)
        cell = wb[sheet][ref.replace("$", "")]
        cell.value = _cell_value(value)
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"  # data, not a formula: an organisation may be called "=1+1"
    regrow_rows(wb)  # (openpyxl wrote every row with a height as fixed: longer evidence would be cut off)
    save_workbook(wb, dest)


def audit_values(audit: Audit, *, lang: str = "zh") -> dict[str, object]:
    """The defined-name values that record ``audit`` in a workbook."""
    values: dict[str, object] = {}
    for field in COVER_FIELDS:
        value = getattr(audit.info, field)
        if value not in (None, ""):
            values[field] = value
    for code, value in audit.entries.scores.items():
        values[score_name(code)] = value
    for code in audit.entries.not_applicable:
        values[na_name(code)] = t("wb.na_mark", lang)
    for code, note in audit.notes.items():
        values[note_name(code)] = note
    if audit.entries.deductions:
        values[SPECIAL_DEDUCTIONS] = audit.entries.deductions
    if audit.entries.bonus:
        values[SPECIAL_BONUS] = audit.entries.bonus
    return values


def fill_audit(src: Path, dest: Path, audit: Audit, *, lang: str = "zh") -> None:
    """Write ``audit`` (cover, scores, not-applicable marks, notes, special counts) into a copy of ``src``."""
    fill_workbook(src, dest, audit_values(audit, lang=lang))
