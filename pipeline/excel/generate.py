"""Blank workbooks for audits: one (``new_workbook``), or one per row of a schedule
(``generate_schedule``). Audit ids come from ``allocate(standard, cover) -> audit id``, which the
caller provides: the workspace's records (``flow/records.py``), never a folder listing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.core.audit import AuditInfo
from pipeline.core.standard import Standard
from pipeline.errors import AuditExists, CertpipeError
from pipeline.excel.build import build_workbook
from pipeline.excel.schedule import read_schedule
from pipeline.i18n import Message, msg

Allocate = Callable[..., str]  # (standard, cover, *, check=None) -> audit id: check(id) may refuse it first



def new_workbook(std: Standard, info: AuditInfo, allocate: Allocate, *, output: Path | None = None,
                 force: bool = False, lang: str = "zh", cwd: Path | None = None) -> tuple[Path, str]:
    """The blank workbook of one audit; returns (path, audit id). ``output``: a file, or a folder to
    put ``<audit id>.xlsx`` in (default: ``cwd``, else the current folder). Refuses to overwrite
    a file unless ``force`` (a given output file is checked before an id is allocated)."""
    into_folder = output is not None and output.is_dir()
    folder = output if into_folder else (output.parent if output is not None else (cwd or Path.cwd()))
    if output is not None and not into_folder and output.exists() and not force:
        raise CertpipeError("wbcli.exists", {"path": output})
    def path_of(audit_id: str) -> Path:
        return folder / f"{audit_id}.xlsx" if into_folder or output is None else output

    def refuse_taken(audit_id: str) -> None:  # before the id is recorded: a refusal consumes no id
        if path_of(audit_id).exists() and not force:
            raise CertpipeError("wbcli.exists", {"path": path_of(audit_id)})

    audit_id = allocate(std, info, check=refuse_taken)
    path = path_of(audit_id)
    build_workbook(std, replace(info, audit_id=audit_id), path, lang=lang)
    return path, audit_id


@dataclass
class ScheduleResult:
    folder: Path
    total: int = 0
    made: list[Path] = field(default_factory=list)
    failures: list[tuple[int, Message]] = field(default_factory=list)  # (row number, why)
    existing: list[tuple[int, str]] = field(default_factory=list)  # (row number, audit id) generated before
    notes: list[tuple[int, Message]] = field(default_factory=list)  # (row number, what was read otherwise)


def generate_schedule(schedule: Path, standards: Iterable[Standard], folder: Path, allocate: Allocate, *,
                      force: bool = False, lang: str = "zh", on_start: Callable[[int], None] | None = None,
                      on_row: Callable[[int], None] | None = None) -> ScheduleResult:
    """One workbook per usable row of ``schedule`` into ``folder``; a bad row fails alone (its
    problems are in ``failures``), the others are made. Raises ``CertpipeError`` when the schedule
    cannot be read at all."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = read_schedule(schedule, standards)
    result = ScheduleResult(folder, total=len(rows))
    if on_start:
        on_start(len(rows))
    for row in rows:
        if on_row:
            on_row(row.row)
        result.notes += [(row.row, note) for note in row.notes]
        if row.problems or row.info is None or row.standard is None:
            result.failures += [(row.row, p) for p in row.problems]
            continue
        if row.info.audit_id and (folder / f"{row.info.audit_id}.xlsx").exists() and not force:
            result.failures.append((row.row, msg("wbcli.exists", path=folder / f"{row.info.audit_id}.xlsx")))
            continue
        try:
            info = replace(row.info, audit_id=allocate(row.standard, row.info))
        except AuditExists as exc:  # this planned audit was generated before (a schedule run again)
            result.existing.append((row.row, exc.audit_id))
            continue
        except CertpipeError as exc:  # an audit id given in the row that belongs to another organisation
            result.failures.append((row.row, exc.message))
            continue
        path = folder / f"{info.audit_id}.xlsx"
        if path.exists() and not force:
            result.failures.append((row.row, msg("wbcli.exists", path=path)))
            continue
        try:
            build_workbook(row.standard, info, path, lang=lang)
        except CertpipeError as exc:  # a control character in a cell: that row fails
            result.failures.append((row.row, exc.message))
            continue
        except OSError as exc:
            result.failures.append((row.row, msg("err.os", detail=exc)))
            continue
        result.made.append(path)
    return result
