"""Workspaces for tests: one with its folders, filled workbooks dropped into its inbox, a run, and the
``certpipe`` command run as a user runs it (a new process)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from pipeline.config import Config
from pipeline.core.audit import Audit
from pipeline.excel.build import build_workbook
from pipeline.excel.fill import fill_audit
from pipeline.excel.samples import entries_for, samples
from pipeline.flow.records import allocator
from pipeline.flow.run import run_inbox
from pipeline.flow.standards import load_standard
from pipeline.workspace import Workspace


def make_ws(tmp_path: Path) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    for folder in (ws.inbox, ws.outbox, ws.archive):
        folder.mkdir(parents=True)
    return ws


def record(ws: Workspace, audit: Audit, std=None) -> None:
    """Record ``audit`` in ``ws``'s ledger as ``certpipe new`` does when it generates the workbook (a
    workbook the workspace did not generate is refused by default)."""
    with allocator(ws) as allocate:
        allocate(std or load_standard(audit.standard_key), audit.info)


def workbook(ws: Workspace, name: str, audit: Audit) -> Path:
    """A filled workbook of ``audit`` dropped into the inbox, its audit recorded by the workspace."""
    std = load_standard(audit.standard_key)
    record(ws, audit, std)
    blank = build_workbook(std, audit.info, ws.root / f"blank-{name}")
    target = ws.inbox / name
    fill_audit(blank, target, audit)
    blank.unlink()
    return target


def sample_audit(key: str = "gbt27922-2011", audit_id: str = "T-2026-001", target: str = "88",
                 org: str = "测试服务有限公司") -> Audit:
    std = load_standard(key)
    base = samples([std])[0].audit
    # held today: a surveillance of a certificate issued today may not have ended before it
    info = replace(base.info, audit_id=audit_id, org_name=org, audit_start=date.today(), audit_end=date.today())
    return Audit(key, std.edition, info, entries_for(std, Decimal(target)), {std.leaves[0].code: "查阅记录"})


def run(ws: Workspace, workers: int = 1):
    """``run`` as the tests drive it: the files they drop are complete, so no settle time."""
    return run_inbox(ws, Config(), workers=workers, settle=0)


def certpipe(ws: Workspace, *args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    """``certpipe -W <ws> ARGS`` in a new process, output wide enough not to wrap."""
    return subprocess.run([sys.executable, "-m", "pipeline", "-W", str(ws.root), *args], capture_output=True,
                          text=True, timeout=600, env={**QUICK, **(env or {})}, **kw)


#: The environment of a command run by a test: wide output; the files a test drops are complete, so
#: ``run`` needs no settle time (the tests of the settle rule set it themselves).
QUICK = {**os.environ, "COLUMNS": "200", "CERTPIPE_WATCH_SETTLE_SECONDS": "0"}
