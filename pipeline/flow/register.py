"""``outbox/register.xlsx``: every certificate in force, rewritten atomically after each batch (one
whose audit was re-submitted and no longer reaches a level is left out; the ledger keeps it).

Every text cell is written as a string, never as a formula, whatever it starts with (``=``, ``+``,
``-``, ``@``): an organisation called ``=HYPERLINK(...)`` stays text."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from pipeline.atomic import save_workbook
from pipeline.errors import CertpipeError
from pipeline.flow.ledger import Ledger
from pipeline.flow.standards import level_words
from pipeline.i18n import t
from pipeline.workspace import Workspace

COLUMNS = ("number", "organisation", "credit_code", "standard", "edition", "level", "total", "issue_date",
           "expiry_date", "surveillance_due", "audit_id", "provisional")
HEADER_FILL = "DDEBF7"
WIDTHS = {"number": 24, "organisation": 36, "credit_code": 22, "standard": 20, "level": 14, "audit_id": 24}


def _text(ws, value: object):
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value="" if value is None else str(value))
    cell.data_type = "s"  # a string, even when it looks like a formula
    return cell


def write_register(ledger: Ledger, path: Path, *, lang: str = "zh",
                   level_words: Callable[[str | None, str], str] = lambda standard, level: level) -> int:
    """Write the register of every certificate in force; returns the number of rows. Streamed
    (openpyxl write-only): thousands of certificates take a fraction of a second. The ledger keeps a
    level by its key; ``level_words(standard key, level key)`` puts it into words. openpyxl is imported
    here, not with the module: ~0.25 s that a run pays once, at its end, while the workers start."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(t("register.sheet", lang))
    for col, key in enumerate(COLUMNS, 1):
        ws.column_dimensions[get_column_letter(col)].width = WIDTHS.get(key, 13)
    # a certificate stands while the newest accepted revision of its audit still carries it
    current = {row.audit_id: row.certificate_no for row in ledger.latest_done()}
    rows = [(number, details) for number, details in ledger.certificates()
            if current.get(details.get("audit_id")) == number]
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(1, len(rows) + 1)}"
    header = []
    for key in COLUMNS:
        cell = _text(ws, t(f"register.{key}", lang))
        cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        header.append(cell)
    ws.append(header)
    for number, details in rows:
        level = details.get("level")
        values = {**details, "number": number,
                  "level": level_words(details.get("standard_key"), level) if level else details.get("level_label"),
                  "provisional": t("register.yes", lang) if details.get("provisional") else ""}
        ws.append([_text(ws, values.get(key)) for key in COLUMNS])
    save_workbook(wb, path)
    return len(rows)


def refresh_register(ws: Workspace, lang: str) -> int:
    """Rewrite ``register.xlsx`` from the ledger; returns its rows. A register that cannot be written
    (disk full, read-only outbox) is a ``CertpipeError`` saying so: the ledger keeps everything, and
    the next run or watch writes it (``register_behind``)."""
    ledger = Ledger(ws.ledger)
    try:
        words = functools.cache(lambda standard, level: level_words(standard, level, lang, ws.root))
        return write_register(ledger, ws.register, lang=lang, level_words=words)
    except OSError as exc:
        raise CertpipeError("register.not_written", {"path": ws.shown(ws.register),
                                                     "detail": exc.strerror or exc}) from exc
    finally:
        ledger.close()


def register_behind(ws: Workspace, ledger: Ledger) -> bool:
    """Whether ``register.xlsx`` is missing or older than the newest outcome the ledger recorded
    (a driver stopped between the two)."""
    last = ledger.last_finished()
    if last is None:
        return False
    try:
        written = ws.register.stat().st_mtime
    except FileNotFoundError:
        return True
    return written < datetime.fromisoformat(last).timestamp() - 1  # (its stamp is to the second)
