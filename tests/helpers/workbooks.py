"""Shared helpers of the workbook tests: blank workbooks, complete valid entries, openpyxl edits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal as D
from pathlib import Path

from openpyxl import load_workbook

from pipeline.core.audit import AuditInfo
from pipeline.core.standard import Standard
from pipeline.excel.names import score_name
from tests.helpers.paths import FIXTURES

WORKBOOKS = FIXTURES / "workbooks"


def info(audit_id: str = "T-2025-001") -> AuditInfo:
    return AuditInfo(audit_id=audit_id, org_name="测试电器有限公司", org_address="北京市海淀区中关村大街 1 号",
                     org_credit_code="91350100M000100Y43", scope="家用电器售后服务", audit_type="初次认证",
                     audit_start=date(2025, 3, 18), audit_end=date(2025, 3, 19), lead_auditor="王芳",
                     auditors="李强")


def full_scores(std: Standard) -> dict[str, object]:
    """Every leaf at its maximum (or 100 %): a complete, valid set of entries."""
    top = D(100) if std.input.mode == "percent" else None
    return {score_name(leaf.code): top if top is not None else leaf.max for leaf in std.leaves}


def edit(src: Path, dest: Path, change: Callable) -> Path:
    """Open ``src`` with openpyxl, let ``change(wb)`` tamper with it, save as ``dest``."""
    wb = load_workbook(src)
    change(wb)
    wb.save(dest)
    return dest
