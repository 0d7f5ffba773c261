"""Checking one workbook file: read it (``excel/intake.py``), find its standard in the workspace
(``flow/standards.py``), check it (``excel/checks.py``). Never raises for a bad file: an unreadable
one is a problem without a cell."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pipeline.config import Limits
from pipeline.errors import WorkbookError
from pipeline.excel.checks import Checked, Problem, check, check_meta
from pipeline.excel.intake import read_workbook
from pipeline.flow.standards import load_standard

_LIMITS = Limits()


def validate_file(path: Path, *, workspace_root: Path | None = None, max_file_mb: float = _LIMITS.max_file_mb,
                  max_member_mb: float = _LIMITS.max_member_mb, today: date | None = None) -> Checked:
    """Read and check one workbook, as of ``today`` (default the day it is: an audit that ends later
    is not finished). Never raises for a bad file."""
    path = Path(path)
    try:
        filled = read_workbook(path, max_file_mb=max_file_mb, max_member_mb=max_member_mb)
    except WorkbookError as exc:
        return Checked(path, [Problem(exc.key, exc.params, sheet=exc.sheet, cell=exc.cell)])
    problems, std = check_meta(filled, lambda key: load_standard(key, workspace_root))
    if problems or std is None:
        return Checked(path, problems, None, std)
    problems, audit = check(filled, std, today=today or date.today())
    return Checked(path, problems, audit, std, filled.cell("audit_id"), filled.cell("audit_type"),
                   filled.cell("audit_end"))
