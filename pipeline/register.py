"""``outbox/register.xlsx``: every certificate in force, rewritten atomically after each batch (one
whose audit was re-submitted and no longer reaches a level is left out; the ledger keeps it).

Every text cell is written as a string, never as a formula, whatever it starts with (``=``, ``+``,
``-``, ``@``): an organisation called ``=HYPERLINK(...)`` stays text."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from pipeline.atomic import save_workbook
from pipeline.i18n import t
from pipeline.ledger import Ledger

COLUMNS = ("number", "organisation", "credit_code", "standard", "edition", "level", "total", "issue_date",
           "expiry_date", "surveillance_due", "audit_id", "provisional")
WIDTHS = {"number": 24, "organisation": 36, "credit_code": 22, "standard": 20, "level": 14, "audit_id": 24}


def _text_cell(ws, row: int, col: int, value: object) -> None:
    cell = ws.cell(row=row, column=col)
    cell.value = "" if value is None else str(value)
    cell.data_type = "s"  # a string, even when it looks like a formula


def write_register(ledger: Ledger, path: Path, *, lang: str = "zh") -> int:
    """Write the register of every certificate; returns the number of rows."""
    wb = Workbook()
    ws = wb.active
    ws.title = t("register.sheet", lang)
    bold = Font(bold=True)
    for col, key in enumerate(COLUMNS, 1):
        cell = ws.cell(row=1, column=col, value=t(f"register.{key}", lang))
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(col)].width = WIDTHS.get(key, 13)
    # a certificate stands while the newest accepted revision of its audit still carries it
    current = {row.audit_id: row.certificate_no for row in ledger.latest_done()}
    rows = [(number, details) for number, details in ledger.certificates()
            if current.get(details.get("audit_id")) == number]
    for r, (number, details) in enumerate(rows, 2):
        values = {**details, "number": number,
                  "provisional": t("register.yes", lang) if details.get("provisional") else ""}
        for col, key in enumerate(COLUMNS, 1):
            _text_cell(ws, r, col, values.get(key))
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(1, len(rows) + 1)}"
    save_workbook(wb, path)
    return len(rows)
