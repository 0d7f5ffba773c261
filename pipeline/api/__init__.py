"""certpipe's public Python API: what the ``certpipe`` command does, as functions (the CLI and the
console call these and nothing deeper). Importable as ``from pipeline import score_file`` etc.;
``docs/python-api.md`` shows each in use, and ``docs/architecture.md`` explains the districts behind.

A ``workspace`` argument is a folder (``Path`` or ``str``), a ``Workspace``, or ``None`` for the
current folder; its ``certpipe.toml`` is read and checked (``ConfigError`` names every wrong key).
Errors are ``CertpipeError`` subclasses whose ``.message`` is a ``Message`` (key + parameters):
``err.render("en")`` gives the words."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.api.documents import check_template, render_documents, template_files
from pipeline.api.inbox import make_demo, run_inbox, stop_on_signals, watch_inbox
from pipeline.api.lifecycle import (
    certificate,
    certificates,
    change_certificate,
    change_certificates,
    decide,
    decisions,
    due,
    due_workbooks,
)
from pipeline.api.records import FIND_LIMIT as FIND_LIMIT  # not in __all__: the CLI's limit of `find`
from pipeline.api.records import find, ledger_rows, open_ledger, rebuild_ledger
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
from pipeline.api.status import WorkspaceStatus, inbox_strays, workspace_status
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


