"""``certpipe watch`` for real: a subprocess watching a workspace, files dropped in, SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline.excel.fill import fill_workbook
from pipeline.excel.names import score_name
from pipeline.flow.ledger import Ledger
from pipeline.flow.standards import load_standard
from pipeline.workspace import Workspace
from tests.helpers.workspace import make_ws, sample_audit, workbook

pytestmark = pytest.mark.slow


def _wait(condition, timeout: float = 60.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _start(ws: Workspace) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline", "-W", str(ws.root), "watch", "--settle", "0.2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())


def test_watch_processes_drops_and_stops_cleanly_on_sigterm(tmp_path: Path):
    ws = make_ws(tmp_path)
    drafts = make_ws(tmp_path / "drafts")  # workbooks are made here, then copied in
    ws.state.mkdir(parents=True, exist_ok=True)
    (drafts.root / ".certpipe").symlink_to(ws.state)  # ... for this workspace: it records their audits
    backlog = workbook(ws, "backlog.xlsx", sample_audit(audit_id="W-0"))  # there before the watcher starts
    assert backlog.exists()
    proc = _start(ws)
    try:
        # a workbook copied in slowly, in chunks
        data = workbook(drafts, "slow.xlsx", sample_audit(audit_id="W-1")).read_bytes()
        with open(ws.inbox / "slow.xlsx", "wb") as fh:
            for i in range(0, len(data), len(data) // 4 + 1):
                fh.write(data[i:i + len(data) // 4 + 1])
                fh.flush()
                time.sleep(0.08)
        # a bad one, and a lock file that must be ignored
        (ws.inbox / "broken.xlsx").write_bytes(b"PK\x03\x04 not really")
        (ws.inbox / "~$slow.xlsx").write_bytes(b"lock")
        assert _wait(lambda: {p.name for p in ws.inbox.iterdir()} == {"~$slow.xlsx"}), list(ws.inbox.iterdir())
        assert _wait(lambda: (ws.outbox / "register.xlsx").exists()
                     and load_workbook(ws.outbox / "register.xlsx").active.max_row == 3)
        # a second watcher on the same workspace refuses
        second = subprocess.run([sys.executable, "-m", "pipeline", "-W", str(ws.root), "watch"],
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 2 and "另一个 certpipe 进程" in second.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "已停止监视" in out
    rows = Ledger(ws.state / "ledger.sqlite").rows()
    assert sorted((r.name, r.status) for r in rows) == [("backlog.xlsx", "done"), ("broken.xlsx", "rejected"),
                                                        ("slow.xlsx", "done")]
    assert (ws.outbox / "W-1" / "W-1-report.docx").is_file()
    assert (ws.root / "logs" / "certpipe.log").read_text(encoding="utf-8").count("slow.xlsx") >= 1


def test_markup_like_text_is_printed_literally(tmp_path: Path, cli):
    """Text from a workbook never reaches rich as markup: `[/x]` would crash it, `[v2]` would vanish."""
    ws = make_ws(tmp_path)
    drafts = make_ws(tmp_path / "drafts")
    src = workbook(drafts, "report[v2].xlsx", sample_audit(audit_id="M-1", org="[/x] [bold]公司[/bold]"))
    code, out, err = cli("score", src)
    assert code == 0, err
    assert "[/x] [bold]公司[/bold]" in out
    os.rename(src, ws.inbox / "report[v2].xlsx")
    bad = workbook(drafts, "bad[red].xlsx", sample_audit(audit_id="M-2"))
    fill_workbook(bad, ws.inbox / "bad[red].xlsx", {score_name(load_standard("gbt27922-2011").leaves[0].code): "[/x]"})
    code, out, err = cli("-W", ws.root, "run", "--workers", "1")
    assert code == 1 and "Traceback" not in err
    assert "report[v2].xlsx" in out and "bad[red].xlsx" in out and "[/x]" in out
    for command in (("ledger",), ("status",)):
        code, out, err = cli("-W", ws.root, *command)
        assert code == 0 and "bad[red].xlsx" in out and "[/x]" in out, err
