"""What ``certpipe status`` shows of a workspace, and the inbox's strays."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.api.workspace import looked_at, open_workspace
from pipeline.config import Config
from pipeline.errors import CertpipeError
from pipeline.workspace import Workspace


@dataclass
class WorkspaceStatus:
    """What ``certpipe status`` shows."""

    workspace: Workspace
    waiting: list[str] = field(default_factory=list)
    rows: list = field(default_factory=list)  # InputRow
    held_by: str | None = None
    not_files: list[str] = field(default_factory=list)  # entries named like workbooks that are no files
    ledger_lost: int = 0  # published audits beside a missing or empty ledger (run and watch refuse)
    register_behind: bool = False
    decisions: int = 0  # certification decisions waiting
    due: dict = field(default_factory=dict)  # what is due within [decision] due_within_days, by kind
    certificates: dict = field(default_factory=dict)  # certificates by status today
    issuer: list = field(default_factory=list)  # what [issuer] lacks for certificates a body can sign (Message)
    strays: list[str] = field(default_factory=list)  # files in the inbox that are no spreadsheet (left alone)


def inbox_strays(workspace: Path | str | Workspace | None = None) -> list[str]:
    """Files in the inbox that are no spreadsheet, which no run takes (``notes.txt``), by name."""
    from pipeline.flow.inbox import strays

    return strays(looked_at(workspace))


def workspace_status(workspace: Path | str | Workspace | None = None) -> WorkspaceStatus:
    """The inbox's waiting files, every ledger row, and who holds the workspace (never raises for a
    missing inbox or ledger)."""
    from datetime import date

    from pipeline.flow.certs import certificate_rows
    from pipeline.flow.decisions import queue
    from pipeline.flow.due import due as what_is_due
    from pipeline.flow.guard import published_folders
    from pipeline.flow.inbox import scan, strays
    from pipeline.flow.ledger import Ledger
    from pipeline.flow.register import register_behind
    from pipeline.lock import holder

    ws = looked_at(workspace)
    from pipeline.word.render import issuer_problems

    try:
        config = open_workspace(ws)[1]
    except CertpipeError:  # a broken certpipe.toml: status says so, and still counts
        config = Config()
    within = config.decision.due_within_days
    rows: list = []
    behind, waiting_decisions, due_by_kind, by_status = False, 0, {}, {}
    if ws.ledger.exists() and ws.ledger.stat().st_size:
        with Ledger(ws.ledger, readonly=True) as ledger:
            rows = ledger.rows()
            behind = register_behind(ws, ledger)
            waiting_decisions = len(queue(ledger))
            for item in what_is_due(ledger, within=within, today=date.today()):
                due_by_kind[item.kind] = due_by_kind.get(item.kind, 0) + 1
            for cert in certificate_rows(ledger.db, today=date.today()):
                by_status[cert.status] = by_status.get(cert.status, 0) + 1
    files, others = scan(ws)
    lost = 0 if rows else len(published_folders(ws.outbox))
    return WorkspaceStatus(ws, [p.name for p in files], rows, holder(ws), [p.name for p, _ in others], lost, behind,
                           waiting_decisions, due_by_kind, by_status, issuer_problems(ws.root, config.issuer),
                           strays(ws))
