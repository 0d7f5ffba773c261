"""Operating faults a user must never see as a Python traceback: a full or read-only disk under the
workspace's lock and log, file names that are not one line of UTF-8 text, lock files piling up, a bug.
And the exit codes that tell a scheduler or a service manager what happened (0 all done, 1 rejections,
2 could not start, 3 failed for an outside reason and still in the inbox, 70 a bug)."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import pathlib
import re
import shutil
import threading
from pathlib import Path

import pytest

import pipeline.api
import pipeline.flow.publish
import pipeline.lock
import pipeline.logs
from pipeline.errors import CertpipeError, WorkspaceBusy
from pipeline.flow.job import Outcome
from pipeline.flow.run import BatchResult
from pipeline.i18n import Message
from pipeline.lock import file_lock, holder, workspace_lock
from pipeline.logs import log_outcome, setup_logging
from pipeline.workspace import Workspace
from tests.helpers.mounts import tmpfs
from tests.helpers.workspace import certpipe, make_ws, record, run, sample_audit, workbook

TRACEBACK = ("Traceback", "Logging error")


def no_traceback(text: str) -> bool:
    return not any(word in text for word in TRACEBACK)


@pytest.fixture
def detached_logs(monkeypatch):
    """The ``pipeline`` logger without the handlers an earlier in-process command left on it; the
    handlers this test adds are closed after it."""
    handlers: list[logging.Handler] = []
    monkeypatch.setattr(pipeline.logs.log, "handlers", handlers)
    yield
    for handler in handlers:
        handler.close()


def _lock_info_full(monkeypatch):
    """Writing ``.certpipe/lock.info`` fails as on a full disk (whichever way it is written)."""
    real_write, real_open = pathlib.Path.write_text, pathlib.Path.open

    def write_text(self, *args, **kw):
        if self.name == "lock.info":
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real_write(self, *args, **kw)

    def open_(self, mode="r", *args, **kw):
        if self.name == "lock.info" and any(c in mode for c in "wax+"):
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real_open(self, mode, *args, **kw)

    monkeypatch.setattr(pathlib.Path, "write_text", write_text)
    monkeypatch.setattr(pathlib.Path, "open", open_)


# -- 1. the workspace lock on a full disk ------------------------------------------------------------

def test_lock_info_that_cannot_be_written_does_not_stop_the_driver(tmp_path, monkeypatch, cli, detached_logs):
    ws = make_ws(tmp_path)
    _lock_info_full(monkeypatch)
    with workspace_lock(ws, "run"):  # held: only who holds it is unknown
        assert holder(ws) is not None
    code, out, err = cli("-W", ws.root, "run")
    assert code == 0 and no_traceback(out + err), out + err


@pytest.mark.parametrize("lang, words", [("zh", "无法建立工作区锁"), ("en", "the workspace lock")])
def test_a_lock_that_cannot_be_made_is_a_clear_error(tmp_path, monkeypatch, cli, detached_logs, lang, words):
    ws = make_ws(tmp_path)
    real_open = open

    def full(path, *args, **kw):
        if Path(path).name == "lock":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_open(path, *args, **kw)

    monkeypatch.setattr(pipeline.lock, "open", full, raising=False)
    with pytest.raises(CertpipeError) as caught, workspace_lock(ws, "run"):
        pass
    assert caught.value.key == "err.lock_open" and not isinstance(caught.value, WorkspaceBusy)
    code, out, err = cli("-W", ws.root, "--lang", lang, "run")
    assert code == 2 and words in err and no_traceback(out + err), out + err


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with contextlib.suppress(OSError), open(filler, "wb") as fh:
        while True:
            fh.write(b"\0" * 4096)
    return filler


def test_a_workspace_on_a_full_disk_says_so_in_a_few_lines(tmp_path):
    drafts = make_ws(tmp_path / "drafts")
    src = workbook(drafts, "a.xlsx", sample_audit(audit_id="FD-1"))
    with tmpfs(tmp_path / "disk") as disk:
        ws = make_ws(disk)
        record(ws, sample_audit(audit_id="FD-1"))  # generated for this workspace, filled elsewhere
        shutil.copyfile(src, ws.inbox / "a.xlsx")
        filler = fill(disk)
        full = certpipe(ws, "run", "--workers", "1")
        said = full.stdout + full.stderr
        assert full.returncode in (2, 3) and no_traceback(said), said
        assert len(said.splitlines()) < 40, said
        assert (ws.inbox / "a.xlsx").is_file() and not (ws.outbox / "FD-1").exists()
        filler.unlink()  # space returns
        again = certpipe(ws, "run", "--workers", "1")
        assert again.returncode == 0 and no_traceback(again.stdout + again.stderr), again.stdout + again.stderr
        assert (ws.outbox / "FD-1").is_dir() and list(ws.inbox.iterdir()) == []


# -- 2. a log file that cannot be written ------------------------------------------------------------

class _Failing:
    """A log file's stream on a full or read-only disk."""

    def __init__(self, code: int) -> None:
        self.code = code

    def write(self, text):
        raise OSError(self.code, os.strerror(self.code))

    def flush(self):
        raise OSError(self.code, os.strerror(self.code))

    def seek(self, offset, whence=0):
        return 0

    def tell(self):
        return 0

    def close(self):
        pass


def _file_handler():
    return next(h for h in pipeline.logs.log.handlers if isinstance(h, logging.FileHandler))


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_a_log_file_that_cannot_be_written_is_said_once_in_one_line(tmp_path, capsys, detached_logs, code):
    ws = make_ws(tmp_path)
    path = setup_logging(ws)
    handler = _file_handler()
    handler.stream = _Failing(code)
    real_open = handler._open
    handler._open = lambda: _Failing(code)  # reopening does not help either
    for i in range(40):
        log_outcome(Outcome(f"a{i}.xlsx", "done", audit_id=f"A-{i}"))
    err = capsys.readouterr().err
    assert no_traceback(err), err
    lines = err.splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and os.strerror(code) in lines[0], err
    handler._open = real_open  # the disk has room again: logging resumes, still quietly
    log_outcome(Outcome("back.xlsx", "done", audit_id="B-1"))
    handler.flush()
    assert "back.xlsx" in path.read_text(encoding="utf-8")
    assert capsys.readouterr().err == ""


def test_a_log_folder_that_cannot_be_made_does_not_stop_logging_to_the_console(tmp_path, capsys, detached_logs):
    ws = make_ws(tmp_path)
    ws.logs.parent.mkdir(parents=True, exist_ok=True)
    ws.logs.write_text("a file where the logs folder should be")
    setup_logging(ws)
    log_outcome(Outcome("r.xlsx", "rejected", note=Message("pipe.vanished")))
    err = capsys.readouterr().err
    assert no_traceback(err) and "r.xlsx" in err, err
    assert len([line for line in err.splitlines() if "r.xlsx" not in line]) == 1, err


# -- 3. names that would forge a log line or break its encoding ----------------------------------------

FORGED = "1999-12-31 23:59:59 INFO done forged.xlsx"
HOSTILE = [
    f"evil\n{FORGED}.xlsx",
    os.fsdecode(b"\xff\xfe.xlsx"),  # not UTF-8: a surrogate once decoded
    "bell\x07\x1b[31mred\r\ttab.xlsx",
    "line\u2028sep.xlsx",
]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_names_from_outside_are_one_safe_line_in_the_log(tmp_path, capsys, detached_logs, fmt):
    ws = make_ws(tmp_path)
    path = setup_logging(ws, fmt=fmt)
    for name in HOSTILE:
        log_outcome(Outcome(name, "done", audit_id=f"id\n{FORGED}", total="88"))
        log_outcome(Outcome(name, "rejected", note=Message("pipe.no_space", {"name": name, "detail": "x\ny"})))
    _file_handler().flush()
    err = capsys.readouterr().err
    assert no_traceback(err), err
    lines = path.read_bytes().decode("utf-8").split("\n")  # strict: every byte is UTF-8
    assert lines[-1] == "" and len(lines[:-1]) == 2 * len(HOSTILE), lines
    for line in lines[:-1]:
        assert not line.startswith("1999-") and '"time": "1999-' not in line
        assert not re.search("[\x00-\x1f\x7f\u2028\u2029\ud800-\udfff]", line), repr(line)
        if fmt == "json":
            assert json.loads(line)["level"] in ("info", "warning")
        else:
            assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (INFO|WARNING) (done|rejected) ", line), line
    text = "\n".join(" ".join(map(str, json.loads(line).values())) for line in lines[:-1]) if fmt == "json" \
        else "\n".join(lines)
    assert "evil\\n1999" in text and "\\xff\\xfe.xlsx" in text and "\\x1b[31m" in text
    assert "\\u2028" in text
    # the console line of each rejection is one line too
    assert len([line for line in err.splitlines() if line.strip()]) == len(HOSTILE), err


def test_a_crash_traceback_in_the_text_log_cannot_start_a_line(tmp_path, detached_logs):
    ws = make_ws(tmp_path)
    path = setup_logging(ws)
    try:
        raise RuntimeError(f"boom\n{FORGED}")
    except RuntimeError:
        pipeline.logs.log_crash()
    _file_handler().flush()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert re.match(r"\d{4}-\d\d-\d\d .* CRITICAL ", lines[0]) and len(lines) > 2
    assert all(line.startswith(" ") for line in lines[1:]), lines  # every line of the traceback indented


# -- 4. publishing locks: a fixed set of stripes ------------------------------------------------------

def test_publish_locks_are_a_fixed_set_of_stripes(tmp_path):
    ws = Workspace(tmp_path / "ws")
    locks = {ws.publish_lock(ws.outbox / f"A-{i:05d}") for i in range(2000)}
    locks.add(ws.publish_lock(ws.rejected))
    locks.add(ws.publish_lock(ws.outbox / os.fsdecode(b"\xff")))
    assert len(locks) <= 64
    assert {p.parent for p in locks} == {ws.state / "locks"}
    assert all(re.fullmatch(r"\d\d\.lock", p.name) for p in locks), sorted(p.name for p in locks)[:5]
    # stable: the same destination, the same stripe, in every process
    assert ws.publish_lock(ws.outbox / "A-00001") == Workspace(tmp_path / "ws").publish_lock(ws.outbox / "A-00001")
    for path in locks:
        with file_lock(path):
            pass
    assert len(list((ws.state / "locks").iterdir())) <= 64


def test_processing_many_audits_leaves_at_most_64_lock_files(tmp_path):
    ws = make_ws(tmp_path)
    for i in range(70):  # more destinations than stripes
        workbook(ws, f"a{i:03d}.xlsx", sample_audit(audit_id=f"L-{i:03d}"))
    (ws.inbox / "bad.xlsx").write_text("not a workbook")
    result = run(ws, workers=2)
    assert sorted({o.status for o in result.outcomes}) == ["done", "rejected"]
    files = list((ws.state / "locks").iterdir())
    assert 0 < len(files) <= 64 and all(re.fullmatch(r"\d\d\.lock", p.name) for p in files)


def test_two_destinations_on_one_stripe_take_turns(tmp_path):
    ws = Workspace(tmp_path / "ws")
    first = ws.publish_lock(ws.outbox / "A-00000")
    other = next(ws.outbox / f"B-{i}" for i in range(10000)
                 if ws.publish_lock(ws.outbox / f"B-{i}") == first)
    order = []
    with file_lock(first):
        waiter = threading.Thread(target=lambda: _take(ws.publish_lock(other), order))
        waiter.start()
        waiter.join(0.3)
        order.append("first done")
    waiter.join(10)
    assert order == ["first done", "second"]


def _take(path: Path, order: list) -> None:
    with file_lock(path):
        order.append("second")


# -- 5. exit codes -------------------------------------------------------------------------------------

def _fake_run(outcomes):
    def run_inbox(ws, *, lang=None, pdf=None, workers=None, on_start=None, on_done=None):
        on_start(len(outcomes))
        for outcome in outcomes:
            on_done(outcome)
        return BatchResult(outcomes=list(outcomes), seconds=0.1)

    return run_inbox


def _out(status: str, name: str = "x.xlsx") -> Outcome:
    return Outcome(name, status, note=Message("pipe.vanished"))


@pytest.mark.parametrize("statuses, expected", [
    ((), 0),
    (("duplicate", "skipped"), 0),
    (("rejected",), 1),
    (("duplicate", "rejected"), 1),
    (("failed",), 3),
    (("rejected", "failed"), 3),
    (("failed", "rejected", "duplicate"), 3),
])
def test_run_exit_code_tells_rejections_from_failures(tmp_path, monkeypatch, cli, detached_logs, statuses, expected):
    ws = make_ws(tmp_path)
    outcomes = [_out(s, f"{i}.xlsx") for i, s in enumerate(statuses)]
    monkeypatch.setattr(pipeline.api, "run_inbox", _fake_run(outcomes))
    code, out, err = cli("-W", ws.root, "run")
    assert code == expected, out + err


def test_a_file_failed_for_an_outside_reason_exits_3_and_stays_in_the_inbox(tmp_path, monkeypatch, cli,
                                                                             detached_logs):
    ws = make_ws(tmp_path)
    workbook(ws, "a.xlsx", sample_audit(audit_id="X-1"))
    (ws.inbox / "bad.xlsx").write_text("not a workbook")

    def full(folder):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pipeline.flow.publish, "fsync_tree", full)
    code, out, err = cli("-W", ws.root, "run", "--workers", "1")
    assert code == 3 and no_traceback(out + err), out + err
    assert (ws.inbox / "a.xlsx").is_file()


def _fake_watch(fail_after_start: Exception | None = None, fail_before_start: Exception | None = None):
    def watch_inbox(ws, *, stop, lang=None, pdf=None, settle=None, poll=None, on_ready=None, on_outcome=None,
                    on_error=None):
        if fail_before_start is not None:
            raise fail_before_start
        on_ready()
        if fail_after_start is not None:
            raise fail_after_start

    return watch_inbox


def test_watch_exits_0_on_a_normal_stop(tmp_path, monkeypatch, cli, detached_logs):
    ws = make_ws(tmp_path)
    monkeypatch.setattr(pipeline.api, "watch_inbox", _fake_watch())
    code, out, err = cli("-W", ws.root, "watch")
    assert code == 0, out + err


def test_watch_exits_2_when_it_cannot_start(tmp_path, monkeypatch, cli, detached_logs):
    ws = make_ws(tmp_path)
    busy = WorkspaceBusy("err.workspace_busy", {"other": "pid 1 watch", "root": ws.root})
    monkeypatch.setattr(pipeline.api, "watch_inbox", _fake_watch(fail_before_start=busy))
    code, out, err = cli("-W", ws.root, "watch")
    assert code == 2 and "pid 1 watch" in err, out + err


def test_watch_that_stops_for_an_outside_reason_after_it_started_exits_3(tmp_path, monkeypatch, cli,
                                                                         detached_logs):
    ws = make_ws(tmp_path)
    broken = CertpipeError("err.ledger_write", {"path": ws.ledger, "detail": "disk I/O error"})
    monkeypatch.setattr(pipeline.api, "watch_inbox", _fake_watch(fail_after_start=broken))
    code, out, err = cli("-W", ws.root, "--lang", "en", "watch")
    assert code == 3 and "the ledger could not be written" in out + err and no_traceback(out + err), out + err
    assert "the ledger could not be written" in ws.log_file.read_text(encoding="utf-8")


def test_the_exit_codes_are_in_every_help_and_guide(cli):
    code, root, _ = cli("--help")
    assert code == 0 and "70" in root
    for command, codes in (("run", ("0", "1", "2", "3")), ("watch", ("0", "2", "3"))):
        code, text, _ = cli(command, "--help")
        words = re.sub(r"\s+", " ", text)
        assert code == 0 and all(re.search(rf"\b{c}\b", words) for c in codes), text
    root_dir = Path(__file__).resolve().parents[1]
    readme = (root_dir / "README.md").read_text(encoding="utf-8")
    deployment = (root_dir / "docs/deployment.md").read_text(encoding="utf-8")
    zh, en = deployment.split("\n## English\n")
    for text in (readme, zh, en):  # a paragraph that names every code
        paragraphs = text.split("\n\n")
        assert any(all(re.search(rf"\b{c}\b", p) for c in ("0", "1", "2", "3", "70")) for p in paragraphs)
    assert "0600" not in deployment  # outputs follow the umask


# -- 6. a bug ends in one line, its traceback in the log ----------------------------------------------

def _boom(*args, **kw):
    raise RuntimeError("boom\nsecond line")


def test_a_bug_in_a_logging_command_is_one_line_and_the_traceback_is_in_the_log(tmp_path, monkeypatch, cli,
                                                                                detached_logs):
    ws = make_ws(tmp_path)
    monkeypatch.setattr(pipeline.api, "run_inbox", _boom)
    code, out, err = cli("-W", ws.root, "--lang", "en", "run")
    assert code == 70 and no_traceback(out + err), out + err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("certpipe stopped on an unexpected error: RuntimeError: boom")
    assert str(ws.log_file) in err.replace("\n", "")
    logged = ws.log_file.read_text(encoding="utf-8")
    assert "Traceback" in logged and "RuntimeError: boom" in logged


def test_a_bug_in_chinese_and_with_v_shows_the_traceback(tmp_path, monkeypatch, cli, detached_logs):
    ws = make_ws(tmp_path)
    monkeypatch.setattr(pipeline.api, "list_standards", _boom)
    code, out, err = cli("-W", ws.root, "standards", "list")
    assert code == 70 and no_traceback(out + err), out + err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "意外错误" in lines[0] and "-v" in lines[0], err
    code, out, err = cli("-W", ws.root, "-v", "standards", "list")
    assert code == 70 and "Traceback" in err and "RuntimeError: boom" in err, err


class _Unflushable:
    """Like a zip left open by a save that failed on a full disk: closing it at collection fails."""

    def __init__(self) -> None:
        self.cycle = self

    def __del__(self):
        raise OSError(errno.ENOSPC, "No space left on device")


def test_what_a_failure_leaves_for_the_garbage_collector_is_not_a_traceback(tmp_path, monkeypatch, cli,
                                                                              detached_logs):
    ws = make_ws(tmp_path)

    def boom_with_garbage(*args, **kw):
        _Unflushable()
        raise RuntimeError("boom")

    monkeypatch.setattr(pipeline.api, "run_inbox", boom_with_garbage)
    code, out, err = cli("-W", ws.root, "run")
    assert code == 70 and "Exception ignored" not in out + err and no_traceback(out + err), out + err
    assert "_Unflushable" in ws.log_file.read_text(encoding="utf-8")


def _warns_in_a_worker(root: str, fmt: str | None) -> None:
    from pipeline.logs import log, worker_logging

    worker_logging(Workspace(Path(root)), fmt)
    log.warning("said by worker %s", os.getpid())


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_worker_started_by_spawn_logs_into_the_workspace_log(tmp_path, fmt):
    """Windows starts worker processes by spawn: they inherit no logging, so what they say must be
    set up to reach the driver's log file, in its format."""
    import multiprocessing

    ws = make_ws(tmp_path)
    try:
        setup_logging(ws, fmt=fmt)
        told = pipeline.logs.log_format()
        assert told == fmt
        proc = multiprocessing.get_context("spawn").Process(target=_warns_in_a_worker, args=(str(ws.root), told))
        proc.start()
        proc.join(60)
        assert proc.exitcode == 0
        lines = [line for line in ws.log_file.read_text(encoding="utf-8").splitlines() if "said by worker" in line]
        assert len(lines) == 1 and f"said by worker {proc.pid}" in lines[0]
        if fmt == "json":
            assert json.loads(lines[0])["level"] == "warning"
    finally:
        for handler in list(pipeline.logs.log.handlers):
            pipeline.logs.log.removeHandler(handler)
            handler.close()
