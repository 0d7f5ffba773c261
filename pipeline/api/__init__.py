"""certpipe's public Python API: what the ``certpipe`` command does, as functions (the CLI and the
console call these and nothing deeper). Importable as ``from pipeline import score_file`` etc.;
``docs/python-api.md`` shows each in use, and ``docs/architecture.md`` explains the districts behind.

A ``workspace`` argument is a folder (``Path`` or ``str``), a ``Workspace``, or ``None`` for the
current folder; its ``certpipe.toml`` is read and checked (``ConfigError`` names every wrong key).
Errors are ``CertpipeError`` subclasses whose ``.message`` is a ``Message`` (key + parameters):
``err.render("en")`` gives the words."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.api.documents import check_template, render_documents, template_files
from pipeline.api.inbox import make_demo, run_inbox, stop_on_signals, watch_inbox
from pipeline.api.standards import (
    check_definition,
    definition_files,
    diff_standards,
    export_standard,
    import_standard,
    level_words,
    list_standards,
    load_standard,
    migrate_workbook,
    standard_overrides,
)
from pipeline.api.workbooks import build_workbook, generate_schedule, new_workbook, score_file, validate_file
from pipeline.api.workspace import init_workspace, looked_at, open_workspace
from pipeline.config import Config
from pipeline.core.audit import Audit, AuditInfo, Entries
from pipeline.core.certificates import CertificateInfo
from pipeline.core.definition import DefinitionProblem
from pipeline.core.scoring import ScoreCard, score
from pipeline.core.standard import Standard
from pipeline.errors import CertpipeError, InvalidWorkbook
from pipeline.i18n import Message
from pipeline.workspace import Workspace

if TYPE_CHECKING:
    from pipeline.excel.checks import Checked, Problem
    from pipeline.excel.generate import ScheduleResult
    from pipeline.flow.demo import Demo
    from pipeline.flow.job import Outcome
    from pipeline.flow.ledger import InputRow, Ledger
    from pipeline.flow.run import BatchResult

#: Types of the API that live in districts with heavier imports (or POSIX-only ones): loaded when
#: first named, so ``import pipeline.api`` stays cheap and loads everywhere.
_LAZY = {"Checked": "pipeline.excel.checks", "Problem": "pipeline.excel.checks",
         "ScheduleResult": "pipeline.excel.generate", "Demo": "pipeline.flow.demo", "Outcome": "pipeline.flow.job",
         "InputRow": "pipeline.flow.ledger", "Ledger": "pipeline.flow.ledger", "BatchResult": "pipeline.flow.run"}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "Audit",
    "AuditInfo",
    "BatchResult",
    "CertificateInfo",
    "CertpipeError",
    "Checked",
    "Config",
    "DefinitionProblem",
    "Demo",
    "Entries",
    "InputRow",
    "InvalidWorkbook",
    "Ledger",
    "Message",
    "Outcome",
    "Problem",
    "ScheduleResult",
    "ScoreCard",
    "Standard",
    "Workspace",
    "WorkspaceStatus",
    "build_workbook",
    "certificate",
    "certificates",
    "change_certificate",
    "check_definition",
    "check_template",
    "decide",
    "decisions",
    "definition_files",
    "due",
    "due_workbooks",
    "find",
    "generate_schedule",
    "inbox_strays",
    "init_workspace",
    "ledger_rows",
    "level_words",
    "list_standards",
    "load_standard",
    "make_demo",
    "new_workbook",
    "open_ledger",
    "open_workspace",
    "rebuild_ledger",
    "render_documents",
    "run_inbox",
    "score",
    "score_file",
    "set_full_name",
    "stop_on_signals",
    "template_files",
    "validate_file",
    "watch_inbox",
    "workspace_status",
]


# ---- the record ---------------------------------------------------------------------------------
def open_ledger(workspace: Path | str | Workspace | None = None) -> Ledger:
    """The workspace's ledger, read-only (``.rows()``, ``.certificates()``); close it, or use ``with``.
    Raises ``LedgerError`` when there is none yet."""
    from pipeline.flow.ledger import Ledger

    ws, _ = open_workspace(workspace)
    return Ledger(ws.ledger, readonly=True)


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


def rebuild_ledger(workspace: Path | str | Workspace | None = None):
    """The ledger made again from the outbox and the archive (``certpipe ledger rebuild``): every
    published revision, certificate and rejection, the counters past every number issued. The old
    ledger file is kept beside it. Returns a ``Rebuilt`` report."""
    from pipeline.flow.rebuild import rebuild_ledger as rebuild

    ws, config = open_workspace(workspace)
    return rebuild(ws, config)


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


# ---- decisions and the life of certificates -----------------------------------------------------
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


# --- signed certificates: keys, verification, the public register ---
__all__ += [
    "init_keys",
    "public_keys",
    "publish_register",
    "rotate_keys",
    "unsigned_certificates",
    "verify_certificate",
]


def init_keys(workspace: Path | str | Workspace | None = None):
    """A new Ed25519 signing key for the workspace (``certpipe keys init``); ``CertpipeError`` when it
    has one. Returns its ``PublicKey`` (``key_id``, ``public``, ``created``); the private key is
    written owner-only to ``.certpipe/keys/signing.key`` and never returned."""
    from pipeline.flow.keys import init_keys as make

    return make(looked_at(workspace))


def rotate_keys(workspace: Path | str | Workspace | None = None):
    """A new signing key replaces the current one (``certpipe keys rotate``); the old public key stays
    trusted, marked retired. Returns ``(old, new)`` ``PublicKey``s."""
    from pipeline.flow.keys import rotate_keys as rotate

    return rotate(looked_at(workspace))


def public_keys(workspace: Path | str | Workspace | None = None) -> list:
    """Every public key the workspace trusts, oldest first; the one it signs with now has
    ``retired is None`` (``certpipe keys show``)."""
    from pipeline.flow.keys import trusted_keys

    return sorted(trusted_keys(looked_at(workspace)).values(), key=lambda k: (k.retired is None, k.created))


def unsigned_certificates(workspace: Path | str | Workspace | None = None) -> bool:
    """Whether certificates have been issued while the workspace has no signing key (``status`` warns)."""
    from pipeline.flow.keys import unsigned_warning

    return unsigned_warning(looked_at(workspace))


def verify_certificate(text: str, workspace: Path | str | Workspace | None = None):
    """The verdict on a certificate (``certpipe verify``): ``text`` is a certificate number, a token, a
    verify link, or the path of a photo (.png/.jpg), .pdf or .docx. Returns a ``Verdict``: ``result``
    (``genuine``, ``not_in_force``, ``tampered``, ``forged``, ``unknown_key``, ``unsigned``,
    ``not_found``, ``unreadable``), ``status``, the signed ``claims``, the ``fields`` that differ,
    ``exit_code`` and ``to_json()``."""
    from pipeline.flow.verify import verify

    return verify(str(text), looked_at(workspace))


def publish_register(dest: Path | str, workspace: Path | str | Workspace | None = None):
    """The public register written to the folder ``dest`` (``certpipe publish DIR``): an index page
    with search, a page and a JSON file per certificate, the public keys; only public fields. Returns
    ``Published`` (``dest``, ``count``, ``written``: files changed, ``seconds``)."""
    from pipeline.flow.site import publish_site

    ws, config = open_workspace(workspace)
    return publish_site(ws, config, Path(dest))


# --- standards: provenance, edits that keep field work ----------------------------------------------
__all__ += ["diff_standards", "export_standard", "import_standard", "migrate_workbook", "standard_overrides"]


# --- the web console ---
if TYPE_CHECKING:
    from pipeline.flow.console_queries import AuditQuery

_LAZY["AuditQuery"] = "pipeline.flow.console_queries"
__all__ += [
    "AuditQuery",
    "add_user",
    "audit_details",
    "console_dashboard",
    "disable_user",
    "download_path",
    "inbox_upload",
    "list_users",
    "open_users",
    "public_certificate",
    "search_audits",
    "set_password",
    "upload_outcomes",
]


def open_users(workspace: Path | str | Workspace | None = None):
    """The workspace's console users, sessions and audit trail (``.certpipe/users.sqlite``, made on
    first use): a ``UserStore``; close it, or use ``with``."""
    from pipeline.flow.users import UserStore

    return UserStore(looked_at(workspace).users)


def add_user(name: str, role: str, password: str, workspace: Path | str | Workspace | None = None, *,
             by: str = "", full_name: str = ""):
    """A new console user (``role``: clerk | reviewer | admin); the password is kept as an argon2 hash;
    ``full_name`` as workbooks name auditors (a reviewer decides in it). Returns the ``User``."""
    with open_users(workspace) as users:
        return users.add(name, role, password, by=by, full_name=full_name)


def set_full_name(name: str, full_name: str, workspace: Path | str | Workspace | None = None, *, by: str = "") -> None:
    """A console user's full name, as workbooks name auditors (``certpipe users name``)."""
    with open_users(workspace) as users:
        users.set_full_name(name, full_name, by=by)


def set_password(name: str, password: str, workspace: Path | str | Workspace | None = None, *,
                 by: str = "") -> None:
    """A user's new password; their open sessions end."""
    with open_users(workspace) as users:
        users.set_password(name, password, by=by)


def disable_user(name: str, workspace: Path | str | Workspace | None = None, *, by: str = "") -> None:
    """A user who may no longer log in; their open sessions end (the user stays in the audit trail)."""
    with open_users(workspace) as users:
        users.disable(name, by=by)


def list_users(workspace: Path | str | Workspace | None = None) -> list:
    """Every console user (``User``: name, role, disabled, created_at, changed_at), by name."""
    with open_users(workspace) as users:
        return users.users()


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


# --- the records at scale: many certificates changed at once ---
__all__ += ["change_certificates"]


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
