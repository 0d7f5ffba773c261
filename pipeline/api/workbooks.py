"""Workbooks: the blank workbook of one audit or of every row of a schedule; a filled one validated and
scored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.api.standards import list_standards, load_standard
from pipeline.api.workspace import open_workspace
from pipeline.core.audit import AuditInfo
from pipeline.core.scoring import ScoreCard, score
from pipeline.core.standard import Standard
from pipeline.errors import InvalidWorkbook
from pipeline.workspace import Workspace

if TYPE_CHECKING:
    from pipeline.excel.checks import Checked
    from pipeline.excel.generate import ScheduleResult


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
