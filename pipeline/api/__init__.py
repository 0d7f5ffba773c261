"""certpipe's public Python API: what the ``certpipe`` command does, as functions (the CLI and the
console call these and nothing deeper). Importable as ``from pipeline import score_file`` etc.;
``docs/python-api.md`` shows each in use, and ``docs/architecture.md`` explains the districts behind.

A ``workspace`` argument is a folder (``Path`` or ``str``), a ``Workspace``, or ``None`` for the
current folder; its ``certpipe.toml`` is read and checked (``ConfigError`` names every wrong key).
Errors are ``CertpipeError`` subclasses whose ``.message`` is a ``Message`` (key + parameters):
``err.render("en")`` gives the words.

The functions live in modules by area, each importing its districts inside its functions:
``workspace``, ``standards``, ``workbooks``, ``documents``, ``inbox``, ``records``, ``status``,
``lifecycle`` (decisions and certificates), ``signing``, ``users`` and ``console``; this package
hands out every name of ``__all__`` (``from pipeline.api import score_file``). A new area is a new
module here, its names imported below and added at the end of ``__all__``."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from pipeline.api.console import (
    audit_details,
    console_dashboard,
    download_path,
    inbox_upload,
    public_certificate,
    search_audits,
    upload_outcomes,
)
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
from pipeline.api.signing import (
    init_keys,
    public_keys,
    publish_register,
    rotate_keys,
    unsigned_certificates,
    verify_certificate,
)
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
from pipeline.api.users import add_user, disable_user, list_users, open_users, set_full_name, set_password
from pipeline.api.workbooks import build_workbook, generate_schedule, new_workbook, score_file, validate_file
from pipeline.api.workspace import init_workspace, open_workspace
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
    from pipeline.flow.console_queries import AuditQuery
    from pipeline.flow.demo import Demo
    from pipeline.flow.job import Outcome
    from pipeline.flow.ledger import InputRow, Ledger
    from pipeline.flow.run import BatchResult

#: Types of the API that live in districts with heavier imports (or POSIX-only ones): loaded when
#: first named, so ``import pipeline.api`` stays cheap and loads everywhere.
_LAZY = {"Checked": "pipeline.excel.checks", "Problem": "pipeline.excel.checks",
         "ScheduleResult": "pipeline.excel.generate", "Demo": "pipeline.flow.demo", "Outcome": "pipeline.flow.job",
         "InputRow": "pipeline.flow.ledger", "Ledger": "pipeline.flow.ledger", "BatchResult": "pipeline.flow.run",
         "AuditQuery": "pipeline.flow.console_queries"}


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


# --- signed certificates: keys, verification, the public register (signing.py) ---
__all__ += [
    "init_keys",
    "public_keys",
    "publish_register",
    "rotate_keys",
    "unsigned_certificates",
    "verify_certificate",
]

# --- standards: provenance, edits that keep field work (standards.py) ---
__all__ += ["diff_standards", "export_standard", "import_standard", "migrate_workbook", "standard_overrides"]

# --- the web console (users.py, console.py) ---
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

# --- the records at scale: many certificates changed at once (lifecycle.py) ---
__all__ += ["change_certificates"]
