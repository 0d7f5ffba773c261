"""The ledger goes with the outbox: a missing or empty ledger beside published audits is refused,
so that audit ids and certificate numbers never start again from 1 (``certpipe ledger rebuild``
makes it again from the outbox and the archive)."""

from __future__ import annotations

from pathlib import Path

from pipeline.atomic import append_lines
from pipeline.errors import LedgerError
from pipeline.flow.ledger import Ledger
from pipeline.workspace import Workspace


def published_folders(outbox: Path) -> list[Path]:
    """The outbox folders of accepted audits (not ``_rejected``, not hidden staging)."""
    if not outbox.is_dir():
        return []
    return sorted(p for p in outbox.iterdir()
                  if p.is_dir() and not p.name.startswith((".", "_")) and (p / ".sha256").is_file())


def refuse_lost_ledger(ws: Workspace) -> None:
    """A missing or empty ledger beside published audits is a ``LedgerError`` (see ``prepare``)."""
    missing = not ws.ledger.exists() or ws.ledger.stat().st_size == 0
    if not missing:
        with Ledger(ws.ledger) as ledger:
            missing = ledger.is_empty()
    if missing:
        published = published_folders(ws.outbox)
        if published:
            raise LedgerError("err.ledger_lost", {"path": ws.shown(ws.ledger), "count": len(published),
                                                  "outbox": ws.shown(ws.outbox)})
    issued = journal_numbers(ws)
    if issued:
        with Ledger(ws.ledger) as ledger:
            unknown = sorted(issued - ledger.certificate_numbers())
        if unknown:
            raise LedgerError("err.ledger_behind", {"path": ws.shown(ws.ledger), "count": len(unknown),
                                                    "example": unknown[-1]})


def journal_numbers(ws: Workspace) -> set[str]:
    """The certificate numbers the journal says were issued (``Workspace.number_journal``)."""
    try:
        text = ws.number_journal.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return set()
    return {line.strip() for line in text.splitlines() if line.strip()}


def note_numbers(ws: Workspace, numbers: list[str]) -> None:
    """Add numbers the ledger has just committed to the journal, on disk when this returns."""
    append_lines(ws.number_journal, numbers)
