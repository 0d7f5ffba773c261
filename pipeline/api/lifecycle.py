"""Decisions and the life of certificates: the decision queue, decisions taken, certificates listed and
changed (one or many at once), what is due. Every command that changes certificates catches up first
and refreshes the registers after."""

from __future__ import annotations

from pathlib import Path

from pipeline.api.workspace import looked_at, open_workspace
from pipeline.config import Config
from pipeline.errors import CertpipeError
from pipeline.workspace import Workspace


def _catch_up(ws: Workspace, config: Config) -> None:
    """What every command that changes certificates does first: expiry applied, and the changes a
    crash left unwritten outside the ledger written (``flow/decisions.catch_up``)."""
    from pipeline.flow.decisions import catch_up
    from pipeline.flow.guard import refuse_lost_ledger
    from pipeline.flow.ledger import Ledger

    refuse_lost_ledger(ws)
    with Ledger(ws.ledger) as ledger:
        catch_up(ws, config, ledger)


def _catch_up_if_possible(workspace: Path | str | Workspace | None) -> None:
    """What the listing commands do first: ``_catch_up`` where the workspace can be written (a
    read-only copy, a broken certpipe.toml or a lost ledger: they still list what the ledger holds)."""
    try:
        ws, config = open_workspace(workspace)
        if ws.ledger.exists():
            _catch_up(ws, config)
    except (CertpipeError, OSError):
        pass


def decisions(workspace: Path | str | Workspace | None = None, *, status: str = "pending") -> list:
    """The certification decisions of ``status`` (default the queue: ``pending``), oldest first:
    ``Decision`` (``audit_id``, ``kind``: issue | revision | surveillance, ``level``, ``number``,
    ``auditors`` who may not decide). None without a ledger."""
    from pipeline.flow.decisions import queue
    from pipeline.flow.ledger import Ledger

    _catch_up_if_possible(workspace)
    ws = looked_at(workspace)
    if not ws.ledger.exists():
        return []
    with Ledger(ws.ledger, readonly=True) as ledger:
        return queue(ledger, status=status)


def decide(audit_id: str, *, approve: bool, by: str, reason: str = "",
           workspace: Path | str | Workspace | None = None):
    """Take the audit's waiting certification decision (``certpipe decide``). ``by`` may not be the
    lead auditor or an auditor of the audit. Approving a new certificate issues it today (its
    document is written beside the report); approving a level change gives the certificate the new
    level; refusing leaves every certificate as it was. Returns the ``Decision``."""
    from pipeline.flow.decisions import decide as take

    ws, config = open_workspace(workspace)
    _catch_up(ws, config)
    decision = take(ws, config, audit_id, approve=approve, by=by, reason=reason)
    _after_change(ws, config)
    return decision


def certificates(workspace: Path | str | Workspace | None = None, *, status: str | None = None) -> list:
    """Every certificate the workspace issued (or those of ``status``), oldest first, each a
    ``CertificateRow`` with its status as of today (``core.lifecycle.STATUSES``)."""
    from datetime import date

    from pipeline.flow.certs import certificate_rows
    from pipeline.flow.ledger import Ledger

    _catch_up_if_possible(workspace)
    ws = looked_at(workspace)
    if not ws.ledger.exists():
        return []
    with Ledger(ws.ledger, readonly=True) as ledger:
        return certificate_rows(ledger.db, status=status, today=date.today())


def certificate(number: str, workspace: Path | str | Workspace | None = None) -> tuple:
    """One certificate and its history: (``CertificateRow``, [``Event``]). ``CertpipeError`` when unknown."""
    from datetime import date

    from pipeline.flow.certs import certificate as held
    from pipeline.flow.certs import events
    from pipeline.flow.ledger import Ledger

    _catch_up_if_possible(workspace)
    ws = looked_at(workspace)
    if not ws.ledger.exists():
        raise CertpipeError("cert.unknown", {"number": number})
    with Ledger(ws.ledger, readonly=True) as ledger:
        row = held(ledger.db, number, today=date.today())
        if row is None:
            raise CertpipeError("cert.unknown", {"number": number})
        return row, events(ledger.db, number)


def change_certificate(number: str, action: str, *, by: str, reason: str, until=None,
                       workspace: Path | str | Workspace | None = None):
    """``suspend`` (until ``until``, a date, default six months), ``restore``, ``withdraw`` or
    ``cancel`` a certificate, kept with who and why; an illegal change is refused naming the allowed
    ones. Its notice, ``status.json`` and the register follow. Returns the change (``Event``)."""
    from pipeline.flow.decisions import change_certificate as change

    ws, config = open_workspace(workspace)
    _catch_up(ws, config)
    event = change(ws, config, number, action, by=by, reason=reason, until=until)
    _after_change(ws, config)
    return event


def _after_change(ws: Workspace, config: Config) -> None:
    """The register, and the public register when ``[publish] dir`` is set, after a certificate changed."""
    from pipeline.flow.register import refresh_register

    refresh_register(ws, config.lang)
    if config.publish.dir:  # a failure is logged; the change stands
        from pipeline.flow.site import publish_after_batch

        publish_after_batch(ws, config, config.lang)


def due(within_days: int | None = None, workspace: Path | str | Workspace | None = None, *, today=None) -> list:
    """What is due within ``within_days`` (default ``[decision] due_within_days``) and overdue, most
    urgent first: ``DueItem`` (``kind``: surveillance | recertification | suspension_overdue)."""
    from datetime import date

    from pipeline.flow.due import due as what_is_due
    from pipeline.flow.ledger import Ledger

    ws, config = open_workspace(workspace)
    _catch_up_if_possible(ws)
    if not ws.ledger.exists():
        return []
    with Ledger(ws.ledger, readonly=True) as ledger:
        return what_is_due(ledger, within=within_days or config.decision.due_within_days,
                           today=today or date.today())


def due_workbooks(folder: Path | str, within_days: int | None = None,
                  workspace: Path | str | Workspace | None = None, *, lang: str = "zh") -> list:
    """The workbooks of the surveillance and recertification audits due (``due``) that have none
    generated yet, into ``folder``, each recorded with its certificate: [(``DueItem``, path)]."""
    from pipeline.flow.due import due_workbooks as make

    ws, _ = open_workspace(workspace)
    return make(ws, due(within_days, ws), Path(folder), lang=lang)


# --- the records at scale: many certificates changed at once ---
def change_certificates(numbers: list[str], action: str, *, by: str, reason: str, until=None,
                        workspace: Path | str | Workspace | None = None) -> list:
    """``change_certificate`` for many certificates at once, for the same reason (a standard withdrawn,
    a body's accreditation suspended): every one changed in one transaction, or none — the first that
    may not be changed so is refused by its number. Their notices and ``status.json`` follow, then
    the register and the public register once. Returns the changes (``Event``), in the order given."""
    from pipeline.flow.decisions import change_certificates as change

    ws, config = open_workspace(workspace)
    _catch_up(ws, config)
    events = change(ws, config, list(numbers), action, by=by, reason=reason, until=until)
    _after_change(ws, config)
    return events
