"""The record: the ledger opened, its rows, found by name, number or id, made again from the outbox."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.api.workspace import looked_at, open_workspace
from pipeline.workspace import Workspace

if TYPE_CHECKING:
    from pipeline.flow.ledger import InputRow, Ledger


def open_ledger(workspace: Path | str | Workspace | None = None) -> Ledger:
    """The workspace's ledger, read-only (``.rows()``, ``.certificates()``); close it, or use ``with``.
    Raises ``LedgerError`` when there is none yet."""
    from pipeline.flow.ledger import Ledger

    ws, _ = open_workspace(workspace)
    return Ledger(ws.ledger, readonly=True)

#: ``find`` gives at most this many organisations: a search that matches more says so.
FIND_LIMIT = 50


def find(text: str, workspace: Path | str | Workspace | None = None) -> list:
    """Everything the ledger knows under an organisation's name (or part of it), a credit code, an
    audit id or a certificate number (``certpipe find``): ``FoundOrganisation`` each with its audits,
    their certificates (in force or not) and inputs. None without a ledger."""
    from pipeline.flow.find import find as search
    from pipeline.flow.ledger import Ledger

    ws = looked_at(workspace)
    if not ws.ledger.exists():
        return []
    with Ledger(ws.ledger, readonly=True) as ledger:
        return search(ledger, text)


def rebuild_ledger(workspace: Path | str | Workspace | None = None, *, force: bool = False):
    """The ledger made again from the outbox and the archive (``certpipe ledger rebuild``): every
    published revision, certificate and rejection, the counters past every number issued, the
    decisions waiting and taken. The old ledger file is kept beside it. A sound ledger is replaced
    only with ``force`` (else ``CertpipeError`` says what it would drop). Returns a ``Rebuilt`` report."""
    from pipeline.flow.rebuild import rebuild_ledger as rebuild

    ws, config = open_workspace(workspace)
    return rebuild(ws, config, force=force)


def ledger_rows(workspace: Path | str | Workspace | None = None, status: str | None = None, *,
                audit_id: str | None = None, organisation: str | None = None, standard: str | None = None,
                since: str | None = None, until: str | None = None) -> list[InputRow]:
    """Every input the ledger knows, oldest first; of one ``status``, ``audit_id``, ``standard``,
    organisation (part of its name, or its credit code), received ``since`` / ``until`` (ISO dates).
    A rejection a later submission made good is ``resolved``. None without a ledger."""
    from pipeline.flow.ledger import Ledger

    ws = looked_at(workspace)
    if not ws.ledger.exists():
        return []
    with Ledger(ws.ledger, readonly=True) as ledger:
        return ledger.rows(status, audit_id=audit_id, organisation=organisation, standard=standard, since=since,
                           until=until)
