"""certpipe's public Python API: what the ``certpipe`` command does, as functions (the CLI and the
console call these and nothing deeper). Importable as ``from pipeline import score_file`` etc.;
``docs/python-api.md`` shows each in use, and ``docs/architecture.md`` explains the districts behind.

A ``workspace`` argument is a folder (``Path`` or ``str``), a ``Workspace``, or ``None`` for the
current folder; its ``certpipe.toml`` is read and checked (``ConfigError`` names every wrong key).
Errors are ``CertpipeError`` subclasses whose ``.message`` is a ``Message`` (key + parameters):
``err.render("en")`` gives the words."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.config import Config, load_config
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


# ---- the workspace ------------------------------------------------------------------------------
def open_workspace(workspace: Path | str | Workspace | None = None) -> tuple[Workspace, Config]:
    """The workspace and its checked configuration (``[paths]`` applied)."""
    if isinstance(workspace, Workspace):
        return workspace, load_config(workspace.config_file)
    root = Path(workspace or Path.cwd()).resolve()
    config = load_config(root / "certpipe.toml")
    return Workspace.configured(root, config), config


def _looked_at(workspace: Path | str | Workspace | None) -> Workspace:
    """The workspace for those who only look (``status``, ``ledger``): a broken certpipe.toml does not
    stop them; its ``[paths]`` are then the defaults."""
    if isinstance(workspace, Workspace):
        return workspace
    try:
        return open_workspace(workspace)[0]
    except CertpipeError:
        return Workspace(Path(workspace or Path.cwd()).resolve())


def _root(workspace: Path | str | Workspace | None) -> Path | None:
    if workspace is None:
        return None
    return workspace.root if isinstance(workspace, Workspace) else Path(workspace).resolve()


def init_workspace(directory: Path | str) -> Workspace:
    """Make an empty workspace with a commented certpipe.toml (an existing one is checked first)."""
    from pipeline.flow.setup import init_workspace as init

    return init(Path(directory))[0]


# ---- standards ----------------------------------------------------------------------------------
def load_standard(key: str, workspace: Path | str | Workspace | None = None) -> Standard:
    """A standard by key: the workspace's ``standards/<key>.yaml``, else the built-in one."""
    from pipeline.flow.standards import load_standard as load

    return load(key, _root(workspace))


def level_words(standard: str | None, level: str | None, lang: str = "zh",
                workspace: Path | str | Workspace | None = None) -> str:
    """A level's key in words (``★★★ 三星``, ``★★★ Three-star``) by its standard; what the ledger
    keeps when it cannot be put into words (a standard no longer known)."""
    if not level:
        return ""
    from pipeline.flow.standards import level_words as words

    return words(standard, level, lang, _root(workspace))


def list_standards(workspace: Path | str | Workspace | None = None) -> list[Standard]:
    from pipeline.flow.standards import all_standards

    return all_standards(_root(workspace))


def definition_files(workspace: Path | str | Workspace | None = None) -> dict[str, Path]:
    """Every definition file by key (the workspace's own override built-ins of the same key)."""
    from pipeline.flow.standards import definition_paths

    return definition_paths(_root(workspace))


def check_definition(path: Path | str) -> list[DefinitionProblem]:
    """Every problem of one definition file, each with its YAML path and line (``p.format(lang)``)."""
    from pipeline.flow.standards import check_file

    return check_file(Path(path))


# ---- workbooks ----------------------------------------------------------------------------------
def build_workbook(std: Standard, info: AuditInfo, path: Path | str, *, lang: str = "zh") -> Path:
    """Write the blank scoring workbook of one audit (atomically)."""
    from pipeline.excel.build import build_workbook as build

    return build(std, info, Path(path), lang=lang)


def new_workbook(key: str, org: str, *, audit_id: str | None = None, output: Path | str | None = None,
                 force: bool = False, lang: str = "zh", workspace: Path | str | Workspace | None = None,
                 credit_code: str = "", audit_type: str = "", certificate_no: str | None = None) -> tuple[Path, str]:
    """The blank workbook of one audit of standard ``key``: returns (path, audit id). The audit is
    recorded in the workspace's ledger with its organisation, and its id allocated there (the next
    free one, or ``audit_id`` unless the workspace gave it to another organisation). ``audit_type``:
    ``initial``, ``surveillance`` or ``recert``; the last two belong to ``certificate_no`` (whose
    organisation and standard they must have; ``org`` may then be empty)."""
    from pipeline.excel.generate import new_workbook as new
    from pipeline.flow.records import allocator, certificate_audit

    ws, _ = open_workspace(workspace)
    info = AuditInfo(audit_id=audit_id or "", org_name=org, org_credit_code=credit_code)
    if audit_type or certificate_no:
        info = certificate_audit(ws, key, info, audit_type or "initial", certificate_no, lang)
    with allocator(ws) as allocate:
        return new(load_standard(key, ws), info, lambda std, i, **kw: allocate(std, i, certificate_no, **kw),
                   output=Path(output) if output is not None else None, force=force, lang=lang)


def generate_schedule(schedule: Path | str, output: Path | str | None = None, *, force: bool = False,
                      again: bool = False, lang: str = "zh", workspace: Path | str | Workspace | None = None,
                      on_start: Callable[[int], None] | None = None,
                      on_row: Callable[[int], None] | None = None) -> ScheduleResult:
    """One blank workbook per row of a schedule (.xlsx/.csv) into ``output`` (default: current folder);
    returns a ``ScheduleResult`` (``made``, ``failures`` as (row, Message), ``existing`` as (row, audit
    id)). A row whose planned audit (organisation, standard, planned dates) was generated before is
    ``existing``, not made again, unless ``again``."""
    from pipeline.excel.generate import generate_schedule as generate
    from pipeline.flow.records import allocator

    ws, _ = open_workspace(workspace)
    with allocator(ws, planned_once=not again) as allocate:
        return generate(Path(schedule), list_standards(ws), Path(output or Path.cwd()), allocate, force=force,
                        lang=lang, on_start=on_start, on_row=on_row)


def validate_file(path: Path | str, *, workspace: Path | str | Workspace | None = None) -> Checked:
    """Every problem of a filled workbook (``Checked.problems``; ``Checked.audit`` when there is none).
    Never raises for a bad file; the size limits are the workspace's ``[limits]``."""
    from pipeline.flow.check_file import validate_file as check

    ws, config = open_workspace(workspace)
    return check(Path(path), workspace_root=ws.root, max_file_mb=config.limits.max_file_mb,
                 max_member_mb=config.limits.max_member_mb)


def score_file(path: Path | str, *, workspace: Path | str | Workspace | None = None) -> ScoreCard:
    """The ScoreCard of a filled workbook (``.total``, ``.level``, ``.parts``, ``.indicators``).
    Raises ``InvalidWorkbook`` (with ``.problems``) when the workbook has problems."""
    checked = validate_file(path, workspace=workspace)
    if not checked.ok or checked.audit is None or checked.standard is None:
        raise InvalidWorkbook(Path(path), checked.problems)
    return score(checked.standard, checked.audit.entries)


# ---- documents ----------------------------------------------------------------------------------
def render_documents(audit: Audit, std: Standard, card: ScoreCard, out_dir: Path | str, *, lang: str = "zh",
                     revision: int = 1, certificate: CertificateInfo | None = None,
                     workspace: Path | str | Workspace | None = None) -> list[Path]:
    """The Word report (and the certificate, when ``certificate`` is given and a level was reached)
    into ``out_dir``, from the workspace's templates or the built-in ones."""
    from pipeline.word.render import Renderer

    ws, config = open_workspace(workspace)
    return Renderer(config, workspace_templates=ws.templates).render(
        audit, std, card, Path(out_dir), lang=lang, revision=revision, certificate=certificate)


def template_files(workspace: Path | str | Workspace | None = None) -> list[tuple[Path, str | None]]:
    """Every Word template certpipe may use: (path, the standard key of its folder or None)."""
    from pipeline.word.template_check import default_templates

    return default_templates(_root(workspace))


def check_template(path: Path | str, lang: str = "zh", *, std_key: str | None = None,
                   workspace: Path | str | Workspace | None = None) -> list:
    """Every problem of a Word template (``TemplateProblem``), found by reading it and by rendering it
    with a sample audit of ``std_key``'s standard (default: one whose samples fill every variable)."""
    from pipeline.word.template_check import DEFAULT_STANDARD
    from pipeline.word.template_check import check_template as check

    try:
        std = load_standard(std_key or DEFAULT_STANDARD, workspace)
    except CertpipeError:
        std = load_standard(DEFAULT_STANDARD)
    return check(Path(path), std, lang)


# ---- the inbox ----------------------------------------------------------------------------------
def run_inbox(workspace: Path | str | Workspace | None = None, *, pdf: bool | None = None,
              workers: int | None = None, lang: str | None = None,
              on_start: Callable[[int], None] | None = None,
              on_done: Callable[[Outcome], None] | None = None) -> BatchResult:
    """Process everything in the inbox once (``certpipe run``); ``pdf``, ``workers`` and ``lang`` (of
    the documents) default to certpipe.toml. Returns every ``Outcome``."""
    from pipeline.flow.run import run_inbox as run

    ws, config = open_workspace(workspace)
    return run(ws, config, lang=lang or config.lang, pdf=config.run.pdf if pdf is None else pdf,
               workers=workers or config.run.workers, on_start=on_start, on_done=on_done)


def watch_inbox(workspace: Path | str | Workspace | None = None, *, stop: threading.Event,
                pdf: bool | None = None, settle: float | None = None, poll: bool | None = None,
                lang: str | None = None, on_ready: Callable[[], None] | None = None,
                on_outcome: Callable[[Outcome], None] | None = None,
                on_error: Callable[[Path, CertpipeError], None] | None = None) -> None:
    """Watch the inbox (``certpipe watch``) until ``stop`` is set: the backlog first, then each file
    once it has settled. Run it in a thread, or in the main thread inside ``stop_on_signals(stop)``."""
    from pipeline.flow.watch import watch_inbox as watch

    ws, config = open_workspace(workspace)
    watch(ws, config, stop, lang=lang or config.lang, pdf=pdf, settle=settle, poll=poll, on_ready=on_ready,
          on_outcome=on_outcome, on_error=on_error)


def stop_on_signals(stop: threading.Event):
    """A context manager: Ctrl-C and SIGTERM set ``stop`` (a second one interrupts at once)."""
    from pipeline.flow.watcher import stop_on_signals as on_signals

    return on_signals(stop)


def make_demo(directory: Path | str = "demo", *, lang: str = "zh", pdf: bool = False,
              on_samples: Callable[[Workspace, list[Path]], None] | None = None,
              on_start: Callable[[int], None] | None = None,
              on_done: Callable[[Outcome], None] | None = None) -> Demo:
    """``certpipe demo``: a workspace with filled sample audits of every built-in standard, processed.
    Returns a ``Demo`` (``workspace``, ``samples``, ``result``)."""
    from pipeline.flow.demo import make_demo as demo

    return demo(Path(directory), lang=lang, pdf=pdf, on_samples=on_samples, on_start=on_start, on_done=on_done)


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

    return strays(_looked_at(workspace))


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

    ws = _looked_at(workspace)
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

    ws = _looked_at(workspace)
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

    ws = _looked_at(workspace)
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
    ws = _looked_at(workspace)
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
    ws = _looked_at(workspace)
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
    ws = _looked_at(workspace)
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

    return make(_looked_at(workspace))


def rotate_keys(workspace: Path | str | Workspace | None = None):
    """A new signing key replaces the current one (``certpipe keys rotate``); the old public key stays
    trusted, marked retired. Returns ``(old, new)`` ``PublicKey``s."""
    from pipeline.flow.keys import rotate_keys as rotate

    return rotate(_looked_at(workspace))


def public_keys(workspace: Path | str | Workspace | None = None) -> list:
    """Every public key the workspace trusts, oldest first; the one it signs with now has
    ``retired is None`` (``certpipe keys show``)."""
    from pipeline.flow.keys import trusted_keys

    return sorted(trusted_keys(_looked_at(workspace)).values(), key=lambda k: (k.retired is None, k.created))


def unsigned_certificates(workspace: Path | str | Workspace | None = None) -> bool:
    """Whether certificates have been issued while the workspace has no signing key (``status`` warns)."""
    from pipeline.flow.keys import unsigned_warning

    return unsigned_warning(_looked_at(workspace))


def verify_certificate(text: str, workspace: Path | str | Workspace | None = None):
    """The verdict on a certificate (``certpipe verify``): ``text`` is a certificate number, a token, a
    verify link, or the path of a photo (.png/.jpg), .pdf or .docx. Returns a ``Verdict``: ``result``
    (``genuine``, ``not_in_force``, ``tampered``, ``forged``, ``unknown_key``, ``unsigned``,
    ``not_found``, ``unreadable``), ``status``, the signed ``claims``, the ``fields`` that differ,
    ``exit_code`` and ``to_json()``."""
    from pipeline.flow.verify import verify

    return verify(str(text), _looked_at(workspace))


def publish_register(dest: Path | str, workspace: Path | str | Workspace | None = None):
    """The public register written to the folder ``dest`` (``certpipe publish DIR``): an index page
    with search, a page and a JSON file per certificate, the public keys; only public fields. Returns
    ``Published`` (``dest``, ``count``, ``written``: files changed, ``seconds``)."""
    from pipeline.flow.site import publish_site

    ws, config = open_workspace(workspace)
    return publish_site(ws, config, Path(dest))


# --- standards: provenance, edits that keep field work ----------------------------------------------
__all__ += ["diff_standards", "export_standard", "import_standard", "migrate_workbook", "standard_overrides"]


def migrate_workbook(path: Path | str, output: Path | str | None = None, *, lang: str = "zh",
                     to: str | None = None, workspace: Path | str | Workspace | None = None):
    """Carry every entry of a workbook made from an earlier definition (cover, scores, notes,
    not-applicable marks, special counts) into a new workbook of the current definition, for the
    same audit; ``to`` names another standard (a new edition's key) instead of the workbook's own.
    ``output`` defaults to ``<name>-migrated.xlsx`` beside it and is never overwritten.
    Returns a ``Migrated`` (``path``, ``standard``, ``carried.counts``, ``carried.left``: what could
    not be carried, each with its old ``sheet!cell`` and why; ``carried.new_codes``: indicators to
    score)."""
    from pipeline.excel.intake import read_workbook
    from pipeline.excel.migrate_entries import Migrated, carry, write_migrated
    from pipeline.flow.standards import load_standard as load

    ws, config = open_workspace(workspace)
    source = Path(path)
    dest = Path(output) if output is not None else source.with_name(f"{source.stem}-migrated.xlsx")
    if dest.resolve() == source.resolve():
        raise CertpipeError("mig.same_file", {"path": source})
    if dest.exists():
        raise CertpipeError("mig.output_exists", {"path": dest})
    filled = read_workbook(source, max_file_mb=config.limits.max_file_mb, max_member_mb=config.limits.max_member_mb)
    key = filled.meta.get("standard_key", "")
    if not filled.has_meta or not key:
        raise CertpipeError("val.meta_missing")
    std = load(to or key, ws.root)
    carried = carry(filled, std, lang=lang)
    write_migrated(std, carried, dest, lang=lang)
    return Migrated(dest, std.key, carried)


def standard_overrides(workspace: Path | str | Workspace | None = None):
    """The workspace's definitions that override a built-in of the same key, each an ``Override``
    (``key``, ``path``, ``outstanding``: workbooks generated and not yet returned accepted, by the
    ledger; ``affected``: how many of them its scoring hash would reject)."""
    from pipeline.flow.ledger import Ledger
    from pipeline.flow.standards import overrides

    ws = _looked_at(workspace)
    if not ws.ledger.exists():
        return overrides(ws.root, lambda key: [])
    with Ledger(ws.ledger, readonly=True) as ledger:
        return overrides(ws.root, ledger.outstanding_audits)


def export_standard(key: str, output: Path | str, *, lang: str = "zh", force: bool = False,
                    workspace: Path | str | Workspace | None = None) -> Path:
    """A standard definition as an Excel workbook for authoring (``certpipe standards export``): a
    sheet each for the fields, parts, indicators, levels, bands, rules, errata and provenance, with
    dropdowns and number checks. ``output`` is not overwritten unless ``force``."""
    from pipeline.excel.standard_book import write_book

    dest = Path(output)
    if dest.exists() and not force:
        raise CertpipeError("book.output_exists", {"path": dest})
    return write_book(load_standard(key, workspace), dest, lang=lang)


def import_standard(path: Path | str, output: Path | str | None = None, *, force: bool = False,
                    workspace: Path | str | Workspace | None = None):
    """A definition workbook (made by ``export_standard``, edited in Excel) checked by the same
    checker as a YAML file and, when it has no problem, written as ``standards/<key>.yaml`` of the
    workspace (or ``output``; not overwritten unless ``force``). Returns an ``Imported``: ``path``
    (None when nothing was written), ``key`` and ``problems`` (each with ``sheet``, ``cell`` and
    ``format(lang)``)."""
    from pipeline.excel.standard_book import Imported, check_book

    ws = _looked_at(workspace)
    found = check_book(Path(path))
    if found.problems or found.text is None:
        return Imported(None, found.key, found.problems)
    dest = Path(output) if output is not None else ws.root / "standards" / f"{found.key}.yaml"
    if dest.exists() and not force:
        raise CertpipeError("book.output_exists", {"path": dest})
    from pipeline.atomic import write_bytes

    dest.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(dest, found.text.encode("utf-8"))
    return Imported(dest, found.key, [])


def diff_standards(a: str | Path, b: str | Path, *, workspace: Path | str | Workspace | None = None):
    """What changed from definition ``a`` to ``b`` (``certpipe standards diff``); each is a key or a
    definition file. Returns (standard a, standard b, changes): each change a ``Change`` with ``area``,
    ``where``, ``field``, ``kind``, ``old``, ``new`` and whether it touches ``scoring``."""
    from pipeline.core.standard_diff import diff
    from pipeline.flow.standards import load_file

    def one(ref: str | Path) -> Standard:
        path = Path(ref)
        return load_file(path) if path.suffix in (".yaml", ".yml") and path.is_file() else load_standard(
            str(ref), workspace)

    first, second = one(a), one(b)
    return first, second, diff(first, second)


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

    return UserStore(_looked_at(workspace).users)


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

    ws = _looked_at(workspace)
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

    return search(_looked_at(workspace), query or AuditQuery(), after, limit)


def audit_details(audit_id: str, workspace: Path | str | Workspace | None = None):
    """One audit (``AuditDetails``): organisation, certificate, the published scorecard, every input
    (revisions and rejections) and the files each may be downloaded as; None when unknown."""
    from pipeline.flow.console_queries import audit_details as details

    return details(_looked_at(workspace), audit_id)


def download_path(input_id: int, name: str, workspace: Path | str | Workspace | None = None) -> Path | None:
    """The published file ``name`` of input ``input_id`` — only a file the ledger knows, directly in
    that input's folder inside the outbox; None for anything else."""
    from pipeline.flow.console_queries import download_path as path

    return path(_looked_at(workspace), input_id, name)


def public_certificate(number: str, workspace: Path | str | Workspace | None = None):
    """A certificate's public fields (``PublicCertificate``) by its number; None when unknown."""
    from pipeline.flow.console_queries import public_certificate as public

    return public(_looked_at(workspace), number)


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

    return outcomes(_looked_at(workspace), names, since)


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
