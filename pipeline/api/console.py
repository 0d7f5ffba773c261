"""What the web console shows and takes: the dashboard, audits searched and shown, the files a user may
download, a certificate's public fields, uploads into the inbox and what became of them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.api.workspace import looked_at, open_workspace
from pipeline.config import Config
from pipeline.errors import CertpipeError
from pipeline.workspace import Workspace

if TYPE_CHECKING:
    from pipeline.flow.console_queries import AuditQuery


def console_dashboard(workspace: Path | str | Workspace | None = None):
    """What the console's first page shows (``Dashboard``): the inbox's waiting files, today's
    outcomes by status, the newest rejections with their first problem, who holds the workspace,
    how many decisions wait and how much is due (``[decision] due_within_days``)."""
    from pipeline.flow.console_queries import dashboard

    ws = looked_at(workspace)
    try:
        within = open_workspace(ws)[1].decision.due_within_days
    except CertpipeError:  # a broken certpipe.toml: the defaults
        within = Config().decision.due_within_days
    return dashboard(ws, within=within)


def search_audits(query: AuditQuery | None = None, workspace: Path | str | Workspace | None = None, *,
                  after: str | None = None, limit: int = 50):
    """Audits matching ``query`` (``AuditQuery``: organisation, credit code, audit id, certificate
    number, standard, level, dates), highest audit id first, a page at a time: an ``AuditPage`` whose
    ``next_after`` is the ``after`` of the next page."""
    from pipeline.flow.console_queries import AuditQuery, search

    return search(looked_at(workspace), query or AuditQuery(), after, limit)


def audit_details(audit_id: str, workspace: Path | str | Workspace | None = None):
    """One audit (``AuditDetails``): organisation, certificate, the published scorecard, every input
    (revisions and rejections) and the files each may be downloaded as; None when unknown."""
    from pipeline.flow.console_queries import audit_details as details

    return details(looked_at(workspace), audit_id)


def download_path(input_id: int, name: str, workspace: Path | str | Workspace | None = None) -> Path | None:
    """The published file ``name`` of input ``input_id`` — only a file the ledger knows, directly in
    that input's folder inside the outbox; None for anything else."""
    from pipeline.flow.console_queries import download_path as path

    return path(looked_at(workspace), input_id, name)


def public_certificate(number: str, workspace: Path | str | Workspace | None = None):
    """A certificate's public fields (``PublicCertificate``) by its number; None when unknown."""
    from pipeline.flow.console_queries import public_certificate as public

    return public(looked_at(workspace), number)


def inbox_upload(name: str, workspace: Path | str | Workspace | None = None):
    """A file dropped into the inbox as it streams in (``InboxUpload``: ``write(chunk)`` … then
    ``commit()`` → its inbox name, or ``abort()``), hidden until complete and refused past
    ``[limits] max_file_mb``."""
    from pipeline.flow.uploads import InboxUpload

    ws, config = open_workspace(workspace)
    return InboxUpload(ws, name, int(config.limits.max_file_mb * 2**20))


def upload_outcomes(names: list[str], since: str, workspace: Path | str | Workspace | None = None) -> dict:
    """The recorded outcome (``InputRow``) of each inbox file name received at ``since`` (ISO time) or
    later; names not processed yet are absent."""
    from pipeline.flow.console_queries import upload_outcomes as outcomes

    return outcomes(looked_at(workspace), names, since)
