"""The inbox takes only what it processed: the copy processed is the copy archived; an original
leaves only if unchanged; only regular files are read, their size checked before anything is copied;
``run`` leaves a file still being written for the next pass."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time

import pytest

from pipeline.config import Config, Limits
from pipeline.flow.ledger import Ledger
from pipeline.flow.process import Processor
from pipeline.workspace import Workspace
from tests.helpers.workspace import QUICK, certpipe, make_ws, run, sample_audit, workbook

SECRET = b"root:x:0:0:secret line that must never be copied\n"


def archived_bytes(ws: Workspace) -> list[bytes]:
    return [p.read_bytes() for p in sorted(ws.archive.rglob("*")) if p.is_file()]


def everything_written(ws: Workspace) -> bytes:
    """Every byte certpipe wrote where users look (outbox, archive)."""
    return b"".join(p.read_bytes() for folder in (ws.outbox, ws.archive) for p in folder.rglob("*")
                    if p.is_file() and not p.is_symlink())


# ---- only regular files -------------------------------------------------------------------------
@pytest.mark.skipif(os.name != "posix", reason="symlinks and FIFOs as a POSIX user makes them")
def test_a_symlink_to_a_file_outside_the_workspace_is_never_read(tmp_path):
    ws = make_ws(tmp_path)
    secret = tmp_path / "passwd"
    secret.write_bytes(SECRET)
    (ws.inbox / "passwd.xlsx").symlink_to(secret)
    result = run(ws)
    (outcome,) = result.outcomes
    assert outcome.status == "ignored" and "symbolic link" in outcome.note.render("en")
    assert SECRET not in everything_written(ws)
    assert (ws.inbox / "passwd.xlsx").is_symlink()  # left alone


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_fifo_neither_hangs_run_nor_is_moved(tmp_path):
    ws = make_ws(tmp_path)
    os.mkfifo(ws.inbox / "pipe.xlsx")
    (ws.inbox / "loop.xlsx").symlink_to(ws.inbox / "loop.xlsx")
    (ws.inbox / "zero.xlsx").symlink_to("/dev/zero")
    (ws.inbox / "folder.xlsx").mkdir()
    good = workbook(ws, "good.xlsx", sample_audit(audit_id="N-1"))
    done = certpipe(ws, "run")  # used to block on the FIFO forever, holding the lock
    assert done.returncode == 0, done.stderr
    status = certpipe(ws, "status", "--json")  # a link loop used to crash status too
    assert status.returncode == 0, status.stderr
    rows = {r["name"]: r["status"] for r in json.loads(certpipe(ws, "ledger", "--json").stdout)}
    assert rows == {"good.xlsx": "done"}  # the others are no inputs: nothing recorded of them
    assert sorted(p.name for p in ws.inbox.iterdir()) == ["folder.xlsx", "loop.xlsx", "pipe.xlsx", "zero.xlsx"]
    assert not good.exists()
    assert "不是普通文件" in done.stdout and done.stdout.count("不是普通文件") == 4


# ---- the size, before anything is copied ----------------------------------------------------------
def test_a_file_above_the_size_limit_is_refused_before_anything_is_copied(tmp_path):
    ws = make_ws(tmp_path)
    big = ws.inbox / "big.xlsx"
    content = b"PK" + os.urandom(300 * 1024)
    big.write_bytes(content)
    processor = Processor(ws, Config(limits=Limits(max_file_mb=0.1)))
    outcome = processor.process(big)
    processor.close()
    assert outcome.status == "rejected" and outcome.problems[0].key == "intake.too_large"
    folder = ws.root / outcome.output
    assert sorted(p.name for p in folder.iterdir()) == [".revision", ".sha256", "problems.txt"]  # no copy of it
    assert "0.1" in (folder / "problems.txt").read_text(encoding="utf-8")
    assert not big.exists() and archived_bytes(ws) == [content]  # archived as it was, unread


def test_copying_is_within_the_time_limit(tmp_path, monkeypatch):
    import pipeline.flow.intake_file as intake_file

    ws = make_ws(tmp_path)
    path = workbook(ws, "slow.xlsx", sample_audit(audit_id="T-1"))

    def slow_read(fd, n):  # a share that hardly answers
        time.sleep(30)

    monkeypatch.setattr(intake_file.os, "read", slow_read)
    processor = Processor(ws, Config(limits=Limits(seconds_per_file=0.3)))
    started = time.monotonic()
    outcomes = processor.process_many([path])
    processor.close()
    assert time.monotonic() - started < 10
    assert outcomes[0].status == "failed" and outcomes[0].note.key == "pipe.copy_time_limit"
    assert path.exists() and not [p for p in ws.outbox.iterdir() if p.name != ".staging"]


# ---- what was processed is what is archived; an original changed meanwhile stays -------------------
@pytest.mark.parametrize("how", ["renamed over", "written in place"])
def test_a_file_replaced_while_it_is_processed_stays_for_the_next_pass(tmp_path, monkeypatch, how):
    ws = make_ws(tmp_path)
    first = workbook(ws, "a.xlsx", sample_audit(audit_id="R-1"))
    first_bytes = first.read_bytes()
    second_src = workbook(ws, "b.xlsx", sample_audit(audit_id="R-2"))
    second_bytes = second_src.read_bytes()
    shutil.move(second_src, tmp_path / "second.xlsx")
    real = Processor._check

    def replace_then_check(self, job):
        if job.path == first and first.read_bytes() == first_bytes:
            if how == "renamed over":
                shutil.copy(tmp_path / "second.xlsx", ws.inbox / ".part")
                os.replace(ws.inbox / ".part", first)
            else:
                with open(first, "r+b") as fh:
                    fh.write(second_bytes)
                    fh.truncate()
        return real(self, job)

    monkeypatch.setattr(Processor, "_check", replace_then_check)
    result = run(ws)
    assert [(o.status, o.audit_id) for o in result.outcomes] == [("done", "R-1")]
    assert result.outcomes[0].note.key == "pipe.replaced_meanwhile"
    assert archived_bytes(ws) == [first_bytes]  # the version processed, not the one found later
    assert first.read_bytes() == second_bytes  # the newer version waits in the inbox
    monkeypatch.setattr(Processor, "_check", real)
    again = run(ws)
    assert [(o.status, o.audit_id) for o in again.outcomes] == [("done", "R-2")]
    assert sorted(archived_bytes(ws)) == sorted([first_bytes, second_bytes]) and not first.exists()
    with Ledger(ws.ledger) as ledger:
        assert sorted(r.audit_id for r in ledger.rows("done")) == ["R-1", "R-2"]


# ---- run and a file still being written -----------------------------------------------------------
@pytest.mark.slow
def test_run_leaves_a_file_still_being_written_for_the_next_pass(tmp_path):
    ws = make_ws(tmp_path)
    whole = workbook(ws, "slow.xlsx", sample_audit(audit_id="S-1")).read_bytes()
    target = ws.inbox / "slow.xlsx"
    target.write_bytes(whole[: len(whole) // 2])  # a copy half done

    def finish_writing():
        time.sleep(3)  # after the run has looked, even on a loaded machine
        with open(target, "ab") as fh:
            fh.write(whole[len(whole) // 2:])

    writer = threading.Thread(target=finish_writing)
    writer.start()
    slow = subprocess.run([sys.executable, "-m", "pipeline", "-W", str(ws.root), "run"], capture_output=True,
                          text=True, timeout=120, env={**QUICK, "CERTPIPE_WATCH_SETTLE_SECONDS": "6"})
    writer.join()
    assert "等待 1" in slow.stdout and not ws.rejected.exists()
    assert target.read_bytes() == whole and not any(ws.archive.rglob("*.xlsx"))
    time.sleep(6.1)
    again = subprocess.run([sys.executable, "-m", "pipeline", "-W", str(ws.root), "run"], capture_output=True,
                           text=True, timeout=120, env={**QUICK, "CERTPIPE_WATCH_SETTLE_SECONDS": "6"})
    assert again.returncode == 0, again.stdout
    assert not target.exists() and archived_bytes(ws) == [whole]


def test_an_original_that_cannot_be_removed_keeps_its_archive_copy_and_is_tidied_later(tmp_path, monkeypatch):
    import pipeline.flow.intake_file as intake_file

    ws = make_ws(tmp_path)
    path = workbook(ws, "a.xlsx", sample_audit(audit_id="U-1"))
    content = path.read_bytes()
    real = os.unlink

    def busy(target, *a, **kw):  # the hidden original cannot be removed (a share holding it open)
        if ".certpipe-leaving-" in str(target):
            raise OSError(16, "Device or resource busy")
        return real(target, *a, **kw)

    monkeypatch.setattr(intake_file.os, "unlink", busy)
    assert [o.status for o in run(ws).outcomes] == ["done"]
    assert archived_bytes(ws) == [content]  # the copy stays: the original is only hidden
    monkeypatch.setattr(intake_file.os, "unlink", real)
    assert run(ws).outcomes == [] and list(ws.inbox.iterdir()) == []  # tidied at the next start
    assert archived_bytes(ws) == [content]


@pytest.mark.skipif(os.name != "posix", reason="symlinks as a POSIX user makes them")
def test_a_file_refused_unread_and_then_swapped_for_a_link_is_not_archived_through_it(tmp_path, monkeypatch):
    ws = make_ws(tmp_path)
    secret = tmp_path / "secret.bin"
    secret.write_bytes(SECRET * 10000)
    big = ws.inbox / "big.xlsx"
    big.write_bytes(b"PK" + os.urandom(300 * 1024))
    real = Processor._archive

    def swap_then_archive(self, jobs):
        big.unlink()
        big.symlink_to(secret)
        return real(self, jobs)

    monkeypatch.setattr(Processor, "_archive", swap_then_archive)
    processor = Processor(ws, Config(limits=Limits(max_file_mb=0.1)))
    outcome = processor.process(big)
    processor.close()
    assert outcome.status == "rejected" and outcome.note.key == "pipe.replaced_meanwhile"
    assert SECRET not in everything_written(ws) and big.is_symlink()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_watch_reports_an_entry_that_is_no_file_once(tmp_path):
    from pipeline.flow.watcher import InboxWatcher

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "link.xlsx").symlink_to(tmp_path / "elsewhere.xlsx")
    (tmp_path / "elsewhere.xlsx").write_bytes(b"PK whatever")
    os.mkfifo(inbox / "pipe.xlsx")
    handed: list[str] = []
    watcher = InboxWatcher(inbox, lambda p: handed.append(p.name) or True, settle=0.05, poll=True,
                           poll_interval=0.05, rescan_interval=0.1)
    stop = threading.Event()
    threading.Timer(1.5, stop.set).start()
    watcher.run(stop)
    assert sorted(handed) == ["link.xlsx", "pipe.xlsx"]  # each once, over some fifteen rescans


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_validate_and_score_of_a_pipe_say_so_instead_of_waiting_forever(tmp_path, cli):
    os.mkfifo(tmp_path / "pipe.xlsx")
    code, out, _ = cli("--lang", "en", "validate", tmp_path / "pipe.xlsx")
    assert code == 1 and "not a regular file" in out
    code, out, _ = cli("score", tmp_path / "pipe.xlsx")
    assert code == 1 and "不是普通文件" in out
