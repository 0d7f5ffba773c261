"""``outbox/register.xlsx``: every certificate the workspace ever issued with its status today (in
force, suspended, withdrawn, cancelled, expired, superseded), and a second sheet with every change of
each (who, when, why); rewritten atomically after each batch and each change.

A real spreadsheet: numbers and dates are typed (sorting and date filters work), the header is
frozen, filtered and repeated on every printed page, pages are landscape and one page wide. Every
text cell is written as a string, never as a formula, whatever it starts with (``=``, ``+``, ``-``,
``@``): an organisation called ``=HYPERLINK(...)`` stays text."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from pipeline.atomic import write_bytes
from pipeline.errors import CertpipeError
from pipeline.flow import certs
from pipeline.flow.ledger import Ledger
from pipeline.flow.standards import level_words
from pipeline.i18n import t
from pipeline.workspace import Workspace

COLUMNS = ("number", "organisation", "credit_code", "standard", "edition", "scope", "audit_type", "level", "total",
           "status", "issue_date", "expiry_date", "last_audit", "surveillance_due", "suspended_until", "audit_id",
           "provisional")
HISTORY = ("number", "organisation", "when", "action", "status_after", "level", "by", "reason", "audit_id", "until")
DATES = {"issue_date", "expiry_date", "last_audit", "surveillance_due", "suspended_until"}
TIMES = {"when"}  # a change's day and minute: the order of a day's changes shows
HEADER_FILL = "DDEBF7"
WIDTHS = {"number": 24, "organisation": 34, "credit_code": 21, "standard": 16, "scope": 30, "level": 12,
          "audit_id": 20, "reason": 30, "by": 12, "action": 12, "status": 10, "status_after": 10}


def _last_audits(ledger: Ledger) -> dict[str, str]:
    """{certificate number: the day of its last accepted audit result (issue, revision, surveillance)}."""
    return dict(ledger.db.execute(
        "SELECT number, MAX(at) FROM certificate_events WHERE action IN ('issue', 'revise', 'maintain') "
        "GROUP BY number"))


def write_register(ledger: Ledger, path: Path, *, lang: str = "zh",
                   level_words: Callable[[str | None, str], str] = lambda standard, level: level,
                   today: date | None = None) -> int:
    """Write the register of every certificate and its history; returns the number of certificates.
    Written as sheet XML (``excel/tables_xlsx.py``): 8,000 certificates in a fraction of a second.
    The ledger keeps a level by its key; ``level_words(standard key, level key)`` puts it into words."""
    from pipeline.excel.tables_xlsx import DATE, DATETIME, NUMBER, TEXT, Column, Table, tables_xlsx

    rows = certs.certificate_rows(ledger.db, today=today or date.today())
    history = certs.events(ledger.db)
    last = _last_audits(ledger)
    names, standards, register = {}, {}, []
    for row in rows:
        d = row.details
        names[row.number], standards[row.number] = row.organisation, row.standard
        values = {**d, "number": row.number, "organisation": row.organisation, "scope": d.get("scope"),
                  "audit_type": d.get("audit_type"),
                  "level": level_words(row.standard, row.level) if row.level else d.get("level_label"),
                  "status": t(f"cert.status.{row.status}", lang), "issue_date": row.issued_on,
                  "expiry_date": row.expires_on, "last_audit": last.get(row.number),
                  "surveillance_due": row.surveillance_due if row.status in ("issued", "suspended") else None,
                  "suspended_until": row.suspended_until if row.status == "suspended" else None,
                  "audit_id": row.audit_id,
                  "provisional": t("register.yes", lang) if d.get("provisional") else ""}
        register.append([values.get(k) for k in COLUMNS])
    changes = []
    for e in history:
        values = {"number": e.number, "organisation": names.get(e.number, ""), "when": e.at,
                  "action": t(f"cert.action.{e.action}", lang), "status_after": t(f"cert.status.{e.status}", lang),
                  "level": level_words(standards.get(e.number), e.level) if e.level else "",
                  "by": t(f"cert.by.{e.by}", lang) if e.by in (certs.AUTO, certs.SYSTEM) else e.by,
                  "reason": e.reason, "audit_id": e.audit_id, "until": e.until}
        changes.append([values.get(k) for k in HISTORY])

    def columns(keys: tuple[str, ...]) -> list[Column]:
        return [Column(t(f"register.{k}", lang), WIDTHS.get(k, 13),
                       DATE if k in DATES else DATETIME if k in TIMES else NUMBER if k == "total" else TEXT)
                for k in keys]

    write_bytes(path, tables_xlsx([Table(t("register.sheet", lang), columns(COLUMNS), register),
                                   Table(t("register.history_sheet", lang), columns(HISTORY), changes)],
                                  header_fill=HEADER_FILL))
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
