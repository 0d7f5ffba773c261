"""Faults from outside: kill -9 at random moments of a batch, a full disk, a read-only inbox, a file
that vanishes, two watchers on one workspace, a locked or corrupt ledger. Afterwards nothing is lost,
nothing is published twice, nothing half-written is where users look.

The random-kill test runs ``CERTPIPE_FAULT_REPEATS`` (default 3) seeded kills of a batch of
``CERTPIPE_FAULT_BATCH`` (default 30) workbooks; the full run of docs/reliability.md is
``CERTPIPE_FAULT_REPEATS=20 CERTPIPE_FAULT_BATCH=100 .venv/bin/python -m pytest -q tests/test_faults.py -k kill``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

import pipeline.flow.ledger
import pipeline.flow.publish
from pipeline.config import Config
from pipeline.errors import CertpipeError, LedgerError
from pipeline.flow.ledger import Ledger
from pipeline.flow.process import Processor
from pipeline.workspace import Workspace
from tests.helpers.mounts import mounted
from tests.helpers.workspace import certpipe, make_ws, sample_audit, workbook

REPEATS = int(os.environ.get("CERTPIPE_FAULT_REPEATS", "3"))
BATCH = int(os.environ.get("CERTPIPE_FAULT_BATCH", "30"))
BAD_EVERY = 10  # one input in ten is not a workbook: rejections are crashed into too


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """BATCH distinct inputs, made once: workbooks of different audits and scores, some not workbooks."""
    folder = tmp_path_factory.mktemp("inputs")
    ws = make_ws(folder)
    for i in range(BATCH):
        if i % BAD_EVERY == BAD_EVERY - 1:
            (ws.inbox / f"bad-{i:03d}.xlsx").write_text(f"not a workbook {i}")
        else:
            workbook(ws, f"in-{i:03d}.xlsx", sample_audit(audit_id=f"K-{i:03d}", target=str(60 + i % 40)))
    return ws.inbox


def check_consistent(ws: Workspace, names: list[str], *, register: bool = True) -> dict:
    """Every input processed exactly once; outputs, ledger and archive agree; nothing half-written."""
    assert list(ws.inbox.iterdir()) == []
    archived = sorted(p.name for p in ws.archive.rglob("*.xlsx"))
    assert archived == sorted(names)
    rows = Ledger(ws.state / "ledger.sqlite").rows()
    assert sorted(r.name for r in rows) == sorted(names)  # one row each: none twice, none lost
    assert all(r.status in ("done", "rejected") and r.archived_to for r in rows)
    done = {r.audit_id: r for r in rows if r.status == "done"}
    rejected = [r for r in rows if r.status == "rejected"]
    visible = {p.name for p in ws.outbox.iterdir() if not p.name.startswith(".")}
    assert visible == set(done) | ({"register.xlsx"} if register else set()) | ({"_rejected"} if rejected else set())
    for audit_id, row in done.items():
        folder = ws.outbox / audit_id
        assert row.revision == 1 and row.output == f"outbox/{audit_id}"
        card = json.loads((folder / "scorecard.json").read_text(encoding="utf-8"))
        assert card["revision"] == 1 and card["audit_id"] == audit_id
        assert not (folder / "history").exists() and (folder / f"{audit_id}-report.docx").is_file()
        assert (folder / f"{audit_id}-certificate.docx").is_file() == bool(row.certificate_no)
    assert len(list(ws.rejected.iterdir()) if rejected else []) == len(rejected)
    assert list((ws.outbox / ".staging").iterdir()) == []
    numbers = [r.certificate_no for r in done.values() if r.certificate_no]
    assert len(numbers) == len(set(numbers))
    if register:
        sheet = load_workbook(ws.outbox / "register.xlsx").active
        assert sorted(c.value for c in sheet["A"][1:]) == sorted(numbers)
    return {"done": len(done), "rejected": len(rejected)}


@pytest.mark.parametrize("seed", range(REPEATS))
@pytest.mark.slow
def test_kill9_at_a_random_moment_of_a_batch_loses_nothing(tmp_path, inputs, seed):
    rng = random.Random(seed)
    names = sorted(p.name for p in inputs.iterdir())
    for attempt in range(4):  # a faster machine may finish before the moment: then try earlier moments
        ws = make_ws(tmp_path / f"attempt{attempt}")
        ws.state.mkdir()
        shutil.copy(inputs.parent / ".certpipe" / "ledger.sqlite", ws.ledger)  # the inputs' audits, as generated
        for name in names:
            shutil.copy(inputs / name, ws.inbox / name)
        kills = []
        for _ in range(rng.randint(1, 3)):  # one to three kills before a run may finish
            proc = subprocess.Popen([sys.executable, "-m", "pipeline", "-W", str(ws.root), "run", "--workers", "2"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            # a run of BATCH files takes ~1 + 0.06 × BATCH s here
            moment = rng.uniform(0.2, 1.0 + 0.05 * BATCH) * 0.5**attempt
            try:
                proc.wait(timeout=moment)
                kills.append(None)  # finished before the moment came
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers, like a power cut
                proc.wait()
                kills.append(round(moment, 2))
        if any(kills):
            break
    final = certpipe(ws, "run", "--workers", "2")
    assert final.returncode in (0, 1), final.stderr
    counts = check_consistent(ws, names)
    assert counts["rejected"] == BATCH // BAD_EVERY
    assert any(kills)  # at least one run really was killed
    print(json.dumps({"seed": seed, "kills_at_s": kills, **counts}))


def test_disk_full_while_publishing_keeps_the_input_and_recovers(tmp_path, monkeypatch):
    ws = make_ws(tmp_path)
    path = workbook(ws, "a.xlsx", sample_audit(audit_id="D-1"))
    processor = Processor(ws, Config())
    real = pipeline.flow.publish.fsync_tree

    def full(folder):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pipeline.flow.publish, "fsync_tree", full)
    with pytest.raises(CertpipeError) as caught:
        processor.process(path)
    assert "磁盘空间不足" in str(caught.value) and "a.xlsx" in str(caught.value)
    assert path.is_file() and Ledger(ws.state / "ledger.sqlite").rows() == []
    assert not (ws.outbox / "D-1").exists() and list((ws.outbox / ".staging").iterdir()) == []
    monkeypatch.setattr(pipeline.flow.publish, "fsync_tree", real)  # space is back
    assert processor.process(path).status == "done"
    processor.close()
    check_consistent(ws, ["a.xlsx"], register=False)


def test_a_real_full_disk_under_the_outbox(tmp_path):
    ws = make_ws(tmp_path)
    workbook(ws, "a.xlsx", sample_audit(audit_id="F-1"))
    shutil.rmtree(ws.outbox)
    with mounted(ws.outbox, "-t", "tmpfs", "-o", "size=4m"):
        filler = ws.outbox / "filler"
        with contextlib.suppress(OSError), open(filler, "wb") as fh:
            while True:
                fh.write(b"\0" * 65536)
        full = certpipe(ws, "run", "--workers", "1")
        said = full.stdout + full.stderr
        assert full.returncode == 3 and ("磁盘空间不足" in said or "No space left" in said), said  # failed, waits
        assert (ws.inbox / "a.xlsx").is_file() and not (ws.outbox / "F-1").exists()
        assert [p.name for p in ws.outbox.iterdir() if p.name not in ("filler", ".staging")] == []
        filler.unlink()  # space returns
        again = certpipe(ws, "run", "--workers", "1")
        assert again.returncode == 0, again.stdout + again.stderr
        check_consistent(ws, ["a.xlsx"])


def test_a_read_only_inbox_publishes_once_and_archives_when_writable(tmp_path):
    ws = make_ws(tmp_path)
    workbook(ws, "a.xlsx", sample_audit(audit_id="R-1"))
    with mounted(ws.inbox, "--bind", source=str(ws.inbox)):
        subprocess.run(["mount", "-o", "remount,ro,bind", str(ws.inbox)], check=True)
        first = certpipe(ws, "run", "--workers", "1")
        assert first.returncode == 3 and "无法移出收件箱" in first.stdout.replace("\n", "")
        assert (ws.inbox / "a.xlsx").is_file() and (ws.outbox / "R-1" / "R-1-report.docx").is_file()
    again = certpipe(ws, "run", "--workers", "1")  # writable again: archived, not published twice
    assert again.returncode == 0, again.stdout
    check_consistent(ws, ["a.xlsx"])


def test_a_vanished_inbox_and_a_file_deleted_before_it_is_read(tmp_path):
    ws = make_ws(tmp_path)
    processor = Processor(ws, Config())
    outcome = processor.process(ws.inbox / "gone.xlsx")  # an event named it; it was deleted since
    assert outcome.status == "skipped" and outcome.note
    processor.close()
    shutil.rmtree(ws.inbox)
    result = certpipe(ws, "run")
    assert result.returncode == 0 and ws.inbox.is_dir()


def test_a_second_watch_on_the_same_workspace_refuses(tmp_path):
    ws = make_ws(tmp_path)
    first = subprocess.Popen([sys.executable, "-m", "pipeline", "-W", str(ws.root), "watch", "--settle", "0.2"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        info = ws.state / "lock.info"
        while "pid" not in (info.read_text() if info.exists() else ""):
            assert first.poll() is None, first.communicate()[0]  # the first watch must not have exited
            assert time.monotonic() < deadline
            time.sleep(0.05)
        second = certpipe(ws, "watch")
        assert second.returncode == 2
        assert "正被另一个 certpipe 进程使用" in second.stdout + second.stderr
        assert f"pid {first.pid}" in second.stdout + second.stderr
        workbook(ws, "a.xlsx", sample_audit(audit_id="W-1"))  # the first one still works
        deadline = time.monotonic() + 60
        while (ws.inbox / "a.xlsx").exists():
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=30)
    check_consistent(ws, ["a.xlsx"])


def test_a_locked_ledger_is_a_clear_error_and_loses_nothing(tmp_path, monkeypatch):
    ws = make_ws(tmp_path)
    path = workbook(ws, "a.xlsx", sample_audit(audit_id="L-1"))
    monkeypatch.setattr(pipeline.flow.ledger, "BUSY_TIMEOUT", 0.2)
    processor = Processor(ws, Config())
    other = sqlite3.connect(ws.state / "ledger.sqlite", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another program holds the write lock
    with pytest.raises(LedgerError) as caught:
        processor.process(path)
    assert "locked" in str(caught.value) and "ledger.sqlite" in str(caught.value)
    assert path.is_file()
    other.execute("ROLLBACK")
    other.close()
    assert processor.process(path).status == "done"
    processor.close()


def test_a_corrupt_ledger_is_a_clear_error_and_loses_nothing(tmp_path):
    ws = make_ws(tmp_path)
    workbook(ws, "a.xlsx", sample_audit(audit_id="L-2"))
    ws.state.mkdir(parents=True, exist_ok=True)
    (ws.state / "ledger.sqlite").write_bytes(b"this is not a database " * 200)
    result = certpipe(ws, "run")
    assert result.returncode == 2
    text = (result.stdout + result.stderr).replace("\n", "")
    assert "账本数据库无法打开" in text and "ledger rebuild" in text and "Traceback" not in text
    assert (ws.inbox / "a.xlsx").is_file() and not (ws.outbox / "L-2").exists()
    assert certpipe(ws, "ledger", "rebuild").returncode == 0  # what the hint says to do
    assert list(ws.state.glob("ledger.sqlite.*.old"))  # the damaged file is kept
    assert certpipe(ws, "run").returncode == 0
    check_consistent(ws, ["a.xlsx"])


def test_the_time_limit_per_file_rejects_a_file_too_slow_to_read(tmp_path, monkeypatch):
    import pipeline.flow.check_file
    from pipeline.config import Limits

    ws = make_ws(tmp_path)
    path = workbook(ws, "slow.xlsx", sample_audit(audit_id="S-1"))
    real = pipeline.flow.check_file.validate_file

    def slow(*args, **kw):  # a file whose reading never ends (pure Python: interrupted at once)
        while True:
            time.sleep(0.01)

    monkeypatch.setattr(pipeline.flow.check_file, "validate_file", slow)
    processor = Processor(ws, Config(limits=Limits(seconds_per_file=0.3)))
    outcome = processor.process(path)  # returns at all: the endless read was interrupted
    assert outcome.status == "rejected" and "时间上限（0.3 秒）" in outcome.problems[0].format()
    assert "seconds_per_file" in (ws.root / outcome.output / "problems.txt").read_text(encoding="utf-8")
    monkeypatch.setattr(pipeline.flow.check_file, "validate_file", real)
    check_consistent(ws, ["slow.xlsx"], register=False)


def test_the_time_limit_while_rendering_keeps_the_input(tmp_path, monkeypatch):
    from pipeline.config import Limits

    ws = make_ws(tmp_path)
    path = workbook(ws, "a.xlsx", sample_audit(audit_id="S-2"))
    processor = Processor(ws, Config(limits=Limits(seconds_per_file=0.5)))

    def stuck(*args, **kw):
        while True:
            time.sleep(0.01)

    monkeypatch.setattr(processor, "_render", stuck)
    with pytest.raises(CertpipeError) as caught:
        processor.process(path)
    assert "原件仍在收件箱" in str(caught.value)
    assert path.is_file() and Ledger(ws.state / "ledger.sqlite").rows() == []
    processor.close()
    again = Processor(ws, Config())
    assert again.process(path).status == "done"
    again.close()


def test_a_claim_that_could_not_be_released_is_released_at_the_next_file(tmp_path, monkeypatch):
    """In a long watch, a claim left behind (the ledger was locked when it was given up) would make
    every retry of that content wait and be skipped until a restart."""
    from pipeline.config import Limits

    ws = make_ws(tmp_path)
    path = workbook(ws, "a.xlsx", sample_audit(audit_id="U-1"))
    processor = Processor(ws, Config(limits=Limits(seconds_per_file=2)))
    real_render, real_release = processor._render, processor.ledger.release

    def broken_render(job):
        raise RuntimeError("the template broke")

    def locked(*rows):
        raise LedgerError(key="err.ledger_write", params={"path": "ledger.sqlite", "detail": "database is locked"})

    monkeypatch.setattr(processor, "_render", broken_render)
    monkeypatch.setattr(processor.ledger, "release", locked)
    with pytest.raises(RuntimeError):
        processor.process(path)
    assert [r.status for r in Ledger(ws.state / "ledger.sqlite").rows()] == ["processing"]  # left behind
    monkeypatch.setattr(processor, "_render", real_render)
    monkeypatch.setattr(processor.ledger, "release", real_release)
    started = time.monotonic()
    assert processor.process(path).status == "done"
    assert time.monotonic() - started < 4  # no wait on its own stale claim (2 × the time limit)
    processor.close()
