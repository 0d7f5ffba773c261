"""The inbox watcher: the settle/grace logic with a fake clock (no threads, no sleeps), then for real
with watchdog, real files and a short settle time. Nothing asserts on durations: tests wait for a
condition with a generous timeout, and wait for the watcher to be idle before counting."""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import openpyxl
import pytest

from pipeline.flow.inbox import readable_zip
from pipeline.flow.watcher import InboxWatcher, stop_on_signals

pytestmark = pytest.mark.slow

SETTLE = 0.2
TIMEOUT = 20.0


@pytest.fixture(scope="module")
def xlsx_bytes() -> bytes:
    return make_xlsx("v1")


def make_xlsx(text: str, rows: int = 1) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = text
    for r in range(2, rows + 2):
        ws.cell(r, 1, f"指标 {r}")
        ws.cell(r, 2, r * 7)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def wait_for(condition, timeout: float = TIMEOUT, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Recorder:
    """A handler that records (name, sha256 of content, readable) and optionally moves the file out."""

    def __init__(self, move_to: Path | None = None) -> None:
        self.move_to = move_to
        self.calls: list[tuple[str, str, bool]] = []
        self.threads: set[int] = set()
        self._lock = threading.Lock()

    def __call__(self, path: Path) -> None:
        data = path.read_bytes()
        with self._lock:
            self.calls.append((path.name, digest(data), readable_zip(path)))
            self.threads.add(threading.get_ident())
        if self.move_to is not None:
            os.replace(path, self.move_to / path.name)

    def names(self) -> list[str]:
        with self._lock:
            return [c[0] for c in self.calls]


@contextlib.contextmanager
def running(watcher: InboxWatcher):
    """Run ``watcher.run`` in a thread; on exit stop it and check it returned."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def target():
        try:
            watcher.run(stop)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, name="watcher", daemon=True)
    thread.start()
    try:
        yield stop, thread
    finally:
        stop.set()
        thread.join(TIMEOUT)
    assert not thread.is_alive(), "run() did not return after stop"
    assert not errors, errors


def settle_down(watcher: InboxWatcher) -> None:
    """Wait until the watcher has nothing pending, twice across a quiet spell longer than settle +
    grace, so a duplicate hand-over would have happened already."""
    wait_for(watcher.idle, what="idle watcher")
    time.sleep(watcher.settle + watcher.grace + 0.2)
    wait_for(watcher.idle, what="idle watcher")


@pytest.fixture
def dirs(tmp_path):
    inbox, done, stage = tmp_path / "inbox", tmp_path / "done", tmp_path / "stage"
    for d in (inbox, done, stage):
        d.mkdir()
    return inbox, done, stage


# -- the settle / grace logic, with a fake clock ----------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_file_is_handed_over_once_its_fingerprint_held_for_settle(dirs, xlsx_bytes):
    inbox, done, _ = dirs
    clock, rec = FakeClock(), Recorder(move_to=done)
    w = InboxWatcher(inbox, rec, settle=1.0, clock=clock)
    (inbox / "a.xlsx").write_bytes(xlsx_bytes[:100])
    w.rescan()
    assert w.check() == 0  # first sight
    clock.now += 0.9
    assert w.check() == 0
    (inbox / "a.xlsx").write_bytes(xlsx_bytes)  # still being written: the clock starts again
    clock.now += 0.2
    assert w.check() == 0
    clock.now += 0.9
    assert w.check() == 0
    clock.now += 0.1
    assert w.check() == 1
    assert rec.calls == [("a.xlsx", digest(xlsx_bytes), True)]
    assert (done / "a.xlsx").exists() and w.idle()


def test_an_unreadable_file_is_handed_over_after_the_grace_period_once(dirs, xlsx_bytes):
    inbox, _, _ = dirs
    clock, rec = FakeClock(), Recorder()  # does not move it away
    w = InboxWatcher(inbox, rec, settle=1.0, clock=clock)
    assert w.grace == 3.0
    (inbox / "bad.xlsx").write_bytes(xlsx_bytes[: len(xlsx_bytes) // 2])
    w.rescan()
    for step in (0, 1.0, 2.0, 0.9):  # settled at +1.0 but unreadable; grace ends at +4.0
        clock.now += step
        assert w.check() == 0
    clock.now += 0.1
    assert w.check() == 1
    assert rec.calls == [("bad.xlsx", digest(xlsx_bytes[: len(xlsx_bytes) // 2]), False)]
    for _ in range(3):  # still there, same fingerprint: never again, even after rescans
        clock.now += 10
        w.rescan()
        assert w.check() == 0
    assert len(rec.calls) == 1


def test_foreign_spreadsheets_are_handed_over_when_settled_without_the_zip_check(dirs):
    inbox, done, _ = dirs
    clock, rec = FakeClock(), Recorder(move_to=done)
    w = InboxWatcher(inbox, rec, settle=1.0, clock=clock)
    (inbox / "old.xls").write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 504)
    (inbox / "~$old.xls").write_bytes(b"lock")
    w.rescan()
    w.check()
    clock.now += 1.0
    assert w.check() == 1
    assert [c[0] for c in rec.calls] == ["old.xls"]


def test_a_new_version_of_a_file_left_in_the_inbox_is_handed_over_again(dirs):
    inbox, _, _ = dirs
    clock, rec = FakeClock(), Recorder()
    w = InboxWatcher(inbox, rec, settle=1.0, clock=clock)
    p = inbox / "a.xlsx"
    v1, v2 = make_xlsx("v1"), make_xlsx("v2 — corrected")  # made once: openpyxl stamps the time
    p.write_bytes(v1)
    w.rescan()
    w.check()
    clock.now += 1
    assert w.check() == 1
    clock.now += 5
    w.rescan()
    assert w.check() == 0  # same version: not again
    p.write_bytes(v2)
    w.rescan()
    w.check()
    clock.now += 1
    assert w.check() == 1
    assert [c[1] for c in rec.calls] == [digest(v1), digest(v2)]


def test_a_version_the_handler_asks_to_retry_later_is_handed_over_again_then_not_before(dirs, xlsx_bytes):
    """``handle`` returning seconds (watch does for a file that ended its worker): that version is
    left alone at the rescans before then, handed over again at the first rescan after, and only
    once more."""
    inbox, _, _ = dirs
    clock, calls = FakeClock(), []

    def handle(path: Path) -> float:
        calls.append(clock.now)
        return 100.0

    w = InboxWatcher(inbox, handle, settle=1.0, clock=clock)
    (inbox / "a.xlsx").write_bytes(xlsx_bytes)
    w.rescan()
    w.check()
    clock.now += 1
    assert w.check() == 1
    for _ in range(3):  # 30 s apart: not yet
        clock.now += 30
        w.rescan()
        assert w.check() == 0
    clock.now += 30  # 121 s after: tried again (once settled again)
    w.rescan()
    w.check()
    clock.now += 1
    assert w.check() == 1
    clock.now += 30
    w.rescan()
    assert w.check() == 0 and len(calls) == 2


def test_watch_tries_a_file_that_ended_its_worker_again_an_hour_later(tmp_path: Path, monkeypatch):
    """A file whose process was ended (overran its time limit) is not handed over at every rescan
    (each would cost the limit and more), but it is not given up on until watch restarts either."""
    import pipeline.flow.watch as watch
    from pipeline.config import Config
    from pipeline.flow.job import Outcome
    from pipeline.i18n import Message
    from pipeline.workspace import Workspace

    given: dict = {}

    class FakeWatcher:
        def __init__(self, inbox, handle, **kwargs):
            given["handle"] = handle

        def run(self, stop, on_idle=None):
            pass

    class DyingWorker:
        def __init__(self, *args, **kwargs):
            pass

        def start(self):
            pass

        def close(self):
            pass

        def process(self, path):
            return Outcome(path.name, "failed", note=Message(watch.ENDED_ITS_WORKER))

    monkeypatch.setattr(watch, "InboxWatcher", FakeWatcher)
    monkeypatch.setattr(watch, "Worker", DyingWorker)
    ws = Workspace(tmp_path)
    ws.inbox.mkdir(parents=True)
    watch.watch_inbox(ws, Config(), threading.Event(), settle=0)
    assert given["handle"](ws.inbox / "a.xlsx") == watch.ENDED_RETRY_SECONDS == 3600


def test_handler_errors_are_logged_and_the_watcher_carries_on(dirs, xlsx_bytes, caplog):
    inbox, done, _ = dirs
    clock = FakeClock()
    seen: list[str] = []

    def handle(path: Path) -> None:
        seen.append(path.name)
        if path.name == "a.xlsx":
            raise RuntimeError("boom")
        os.replace(path, done / path.name)

    w = InboxWatcher(inbox, handle, settle=1.0, clock=clock)
    for name in ("a.xlsx", "b.xlsx"):
        (inbox / name).write_bytes(xlsx_bytes)
    w.rescan()
    w.check()
    clock.now += 1
    with caplog.at_level(logging.ERROR, logger="pipeline.flow.watcher"):
        assert w.check() == 2
    assert seen == ["a.xlsx", "b.xlsx"]
    assert any("a.xlsx" in r.getMessage() and r.exc_info for r in caplog.records)
    clock.now += 5
    w.rescan()
    assert w.check() == 0  # a.xlsx stayed in the inbox, unchanged: it does not loop
    assert seen == ["a.xlsx", "b.xlsx"]


def test_files_that_vanish_before_settling_are_forgotten(dirs, xlsx_bytes):
    inbox, _, _ = dirs
    clock, rec = FakeClock(), Recorder()
    w = InboxWatcher(inbox, rec, settle=1.0, clock=clock)
    (inbox / "a.xlsx").write_bytes(xlsx_bytes)
    w.rescan()
    w.check()
    assert not w.idle()
    (inbox / "a.xlsx").unlink()
    clock.now += 1
    assert w.check() == 0
    assert w.idle() and rec.calls == []


def test_a_file_changed_while_being_handled_is_handed_over_again(dirs):
    inbox, _, _ = dirs
    clock = FakeClock()
    calls: list[bytes] = []
    first, again = make_xlsx("first"), make_xlsx("saved again meanwhile")  # made once: openpyxl stamps the time

    def handle(path: Path) -> None:
        calls.append(path.read_bytes())
        if len(calls) == 1:
            path.write_bytes(again)

    w = InboxWatcher(inbox, handle, settle=1.0, clock=clock)
    (inbox / "a.xlsx").write_bytes(first)
    w.rescan()
    w.check()
    clock.now += 1
    assert w.check() == 1
    clock.now += 0.5
    assert w.check() == 0
    clock.now += 1
    assert w.check() == 1
    assert calls == [first, again]


def test_a_stop_set_during_a_check_hands_over_no_further_file(dirs, xlsx_bytes):
    inbox, _, _ = dirs
    clock, stop = FakeClock(), threading.Event()
    seen: list[str] = []

    def handle(path: Path) -> None:
        seen.append(path.name)
        stop.set()

    w = InboxWatcher(inbox, handle, settle=1.0, clock=clock)
    for i in range(5):
        (inbox / f"f{i}.xlsx").write_bytes(xlsx_bytes)
    w.rescan()
    w.check(stop)
    clock.now += 1
    assert w.check(stop) == 1
    assert seen == ["f0.xlsx"]


def test_run_refuses_a_missing_inbox(tmp_path):
    w = InboxWatcher(tmp_path / "nope", Recorder(), settle=SETTLE)
    with pytest.raises(FileNotFoundError):
        w.run(threading.Event())


# -- for real: watchdog, real files, settle 0.2 s ---------------------------------------------------


def test_a_file_written_slowly_in_chunks_is_handed_over_once_complete(dirs):
    inbox, done, _ = dirs
    full = make_xlsx("slow", rows=300)
    chunks = [full[i : i + len(full) // 8 + 1] for i in range(0, len(full), len(full) // 8 + 1)]
    assert len(chunks) >= 8
    rec = Recorder(move_to=done)
    w = InboxWatcher(inbox, rec, settle=0.3, grace=2.0)  # a stalled CI machine must not hand over a part
    with running(w):
        with (inbox / "slow.xlsx").open("wb") as f:
            for chunk in chunks:
                f.write(chunk)
                f.flush()
                time.sleep(0.1)  # longer than inotify's latency, shorter than settle
        wait_for(lambda: len(rec.calls) >= 1, what="the slow file")
        settle_down(w)
    assert rec.calls == [("slow.xlsx", digest(full), True)]
    assert openpyxl.load_workbook(done / "slow.xlsx").active["B301"].value == 301 * 7


def test_an_excel_style_save_is_handed_over_once(dirs):
    inbox, _, _ = dirs
    rec = Recorder()  # leaves the file where it is, like a user who keeps it open in Excel
    w = InboxWatcher(inbox, rec, settle=SETTLE)
    v1, v2 = make_xlsx("before save"), make_xlsx("after save", rows=20)
    with running(w):
        (inbox / "audit.xlsx").write_bytes(v1)
        wait_for(lambda: len(rec.calls) == 1, what="the first version")
        (inbox / "~$audit.xlsx").write_bytes(b"\x0bauditor" + b"\0" * 150)  # Excel's owner file
        (inbox / "ABCD1234").write_bytes(v2)  # Excel's temp file, no extension
        os.rename(inbox / "audit.xlsx", inbox / "audit.tmp")
        os.rename(inbox / "ABCD1234", inbox / "audit.xlsx")
        (inbox / "audit.tmp").unlink()
        wait_for(lambda: len(rec.calls) == 2, what="the saved version")
        (inbox / "~$audit.xlsx").unlink()  # Excel closed
        settle_down(w)
    assert rec.calls == [("audit.xlsx", digest(v1), True), ("audit.xlsx", digest(v2), True)]


def test_a_libreoffice_style_save_is_handed_over_once(dirs):
    inbox, done, _ = dirs
    rec = Recorder(move_to=done)
    w = InboxWatcher(inbox, rec, settle=SETTLE)
    v2 = make_xlsx("saved by LibreOffice", rows=20)
    with running(w):
        (inbox / ".~lock.audit.xlsx#").write_text(",auditor,host,01.01.2024 10:00,file:///home/a;")
        with (inbox / "lu123.tmp").open("wb") as f:
            for i in range(0, len(v2), 2048):
                f.write(v2[i : i + 2048])
                f.flush()
                time.sleep(0.02)
        os.rename(inbox / "lu123.tmp", inbox / "audit.xlsx")
        wait_for(lambda: len(rec.calls) == 1, what="the saved file")
        (inbox / ".~lock.audit.xlsx#").unlink()
        settle_down(w)
    assert rec.calls == [("audit.xlsx", digest(v2), True)]


def test_two_hundred_files_dropped_at_once_are_each_handed_over_once(dirs, xlsx_bytes):
    inbox, done, stage = dirs
    names = [f"audit-{i:03d}.xlsx" for i in range(200)]
    for name in names:
        (stage / name).write_bytes(xlsx_bytes)
    rec = Recorder(move_to=done)
    w = InboxWatcher(inbox, rec, settle=SETTLE)
    with running(w):
        for name in names:
            os.rename(stage / name, inbox / name)
        wait_for(lambda: len(rec.calls) >= 200, what="200 files")
        settle_down(w)
    assert sorted(rec.names()) == names  # each exactly once
    assert all(readable for _, _, readable in rec.calls)
    assert sorted(p.name for p in done.iterdir()) == names
    assert list(inbox.iterdir()) == []
    assert len(rec.threads) == 1  # one thread calls the handler


def test_the_backlog_is_handled_and_lock_and_temp_files_are_not(dirs, xlsx_bytes):
    inbox, done, _ = dirs
    backlog = ["a.xlsx", "b.xlsm", "c.xlsx"]
    for name in backlog:
        (inbox / name).write_bytes(xlsx_bytes)
    for junk in ("~$a.xlsx", ".~lock.c.xlsx#", "x.tmp", ".hidden.xlsx", "ABCD1234", "notes.txt"):
        (inbox / junk).write_bytes(xlsx_bytes)
    (inbox / "sub.xlsx").mkdir()
    (inbox / "sub.xlsx" / "inner.xlsx").write_bytes(xlsx_bytes)
    rec = Recorder(move_to=done)
    w = InboxWatcher(inbox, rec, settle=SETTLE)
    with running(w):
        wait_for(lambda: len(rec.calls) >= 3, what="the backlog")
        settle_down(w)
    assert rec.names() == backlog  # in name order
    assert sorted(p.name for p in done.iterdir()) == backlog


def test_stop_while_handling_a_file_returns_after_that_file(dirs, xlsx_bytes):
    inbox, done, _ = dirs
    for i in range(5):
        (inbox / f"f{i}.xlsx").write_bytes(xlsx_bytes)
    in_hand, release = threading.Event(), threading.Event()
    finished: list[str] = []

    def handle(path: Path) -> None:
        in_hand.set()
        release.wait(TIMEOUT)
        os.replace(path, done / path.name)
        finished.append(path.name)

    w = InboxWatcher(inbox, handle, settle=SETTLE)
    with running(w) as (stop, thread):
        assert in_hand.wait(TIMEOUT)
        stop.set()
        release.set()
        thread.join(TIMEOUT)
        assert not thread.is_alive()
    assert finished == ["f0.xlsx"]  # the file in hand was finished, no other was started
    assert sorted(p.name for p in inbox.iterdir()) == [f"f{i}.xlsx" for i in range(1, 5)]


def test_a_truncated_workbook_is_handed_over_after_the_grace_period_once(dirs, xlsx_bytes):
    inbox, _, _ = dirs
    rec = Recorder()  # leaves it in the inbox: it must still not loop
    w = InboxWatcher(inbox, rec, settle=SETTLE)
    broken = xlsx_bytes[: len(xlsx_bytes) * 2 // 3]
    with running(w):
        (inbox / "good.xlsx").write_bytes(xlsx_bytes)
        (inbox / "broken.xlsx").write_bytes(broken)
        wait_for(lambda: len(rec.calls) >= 2, what="both files")
        settle_down(w)
    assert rec.calls == [("good.xlsx", digest(xlsx_bytes), True), ("broken.xlsx", digest(broken), False)]


def test_poll_mode_handles_a_simple_drop(dirs, xlsx_bytes):
    inbox, done, stage = dirs
    rec = Recorder(move_to=done)
    w = InboxWatcher(inbox, rec, settle=SETTLE, poll=True, poll_interval=0.1)
    with running(w):
        wait_for(w.idle, what="startup")
        (stage / "share.xlsx").write_bytes(xlsx_bytes)
        os.rename(stage / "share.xlsx", inbox / "share.xlsx")
        wait_for(lambda: len(rec.calls) >= 1, what="the dropped file")
        settle_down(w)
    assert rec.calls == [("share.xlsx", digest(xlsx_bytes), True)]


def test_a_lost_event_is_caught_by_the_periodic_rescan(dirs, xlsx_bytes, monkeypatch):
    inbox, done, _ = dirs
    rec = Recorder(move_to=done)
    w = InboxWatcher(inbox, rec, settle=SETTLE, rescan_interval=0.5)
    monkeypatch.setattr(w, "_prompt", lambda raw_path: None)  # every event is lost
    with running(w):
        (inbox / "late.xlsx").write_bytes(xlsx_bytes)
        wait_for(lambda: len(rec.calls) >= 1, what="the rescan")
    assert rec.names() == ["late.xlsx"]


def test_when_inotify_cannot_start_polling_takes_over(dirs, xlsx_bytes, monkeypatch, caplog):
    import pipeline.flow.watcher as watch_module

    class NoInotify(watch_module.Observer):
        def start(self):
            raise OSError(28, "inotify watch limit reached")

    monkeypatch.setattr(watch_module, "Observer", NoInotify)
    inbox, done, stage = dirs
    rec = Recorder(move_to=done)
    w = InboxWatcher(inbox, rec, settle=SETTLE, poll_interval=0.1)
    with caplog.at_level(logging.WARNING, logger="pipeline.flow.watcher"), running(w):
        wait_for(lambda: w._observer is not None, what="an observer")
        assert isinstance(w._observer, watch_module.PollingObserver)
        (stage / "a.xlsx").write_bytes(xlsx_bytes)
        os.rename(stage / "a.xlsx", inbox / "a.xlsx")
        wait_for(lambda: len(rec.calls) >= 1, what="the dropped file")
    assert rec.names() == ["a.xlsx"]
    assert any("watch limit" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("how", ["renamed", "deleted"])
def test_the_watch_is_restarted_when_the_inbox_is_replaced(dirs, xlsx_bytes, monkeypatch, how):
    import pipeline.flow.watcher as watch_module

    monkeypatch.setattr(watch_module, "OBSERVER_RETRY", 0.1)
    inbox, done, stage = dirs
    rec = Recorder(move_to=done)
    w = InboxWatcher(inbox, rec, settle=SETTLE)
    with running(w):
        wait_for(lambda: w._observer is not None, what="an observer")
        first = w._observer
        if how == "renamed":  # the share goes away ...
            inbox.rename(stage / "old-inbox")
        else:
            inbox.rmdir()
        wait_for(lambda: w._observer is not first, what="the dead watch to be noticed")
        inbox.mkdir()  # ... and comes back
        (inbox / "back.xlsx").write_bytes(xlsx_bytes)
        wait_for(lambda: len(rec.calls) >= 1, what="the file in the new inbox")
        settle_down(w)
    assert rec.names() == ["back.xlsx"]


# -- signals ---------------------------------------------------------------------------------------


def test_stop_on_signals_sets_stop_then_interrupts_and_restores():
    before = signal.getsignal(signal.SIGTERM)
    stop = threading.Event()
    with stop_on_signals(stop):
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.wait(TIMEOUT)
        with pytest.raises(KeyboardInterrupt):  # a second signal: the user insists
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(500):
                time.sleep(0.01)
    assert signal.getsignal(signal.SIGTERM) is before


SCRIPT = textwrap.dedent(
    """
    import os, sys, threading, time
    from pathlib import Path
    from pipeline.flow.watcher import InboxWatcher, stop_on_signals

    inbox, done = Path(sys.argv[1]), Path(sys.argv[2])

    def handle(path):
        (done / "started").write_text(path.name)
        time.sleep(0.5)  # the signal arrives meanwhile
        os.replace(path, done / path.name)

    with stop_on_signals(threading.Event()) as stop:
        InboxWatcher(inbox, handle, settle=0.1).run(stop)
    print("stopped cleanly")
    """
)


def test_sigterm_finishes_the_file_in_hand_and_exits_zero(dirs, xlsx_bytes):
    inbox, done, _ = dirs
    for i in range(3):
        (inbox / f"f{i}.xlsx").write_bytes(xlsx_bytes)
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(inbox), str(done)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: (done / "started").exists() or proc.poll() is not None, what="the first file")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopped cleanly" in out
    assert (done / "f0.xlsx").exists()  # finished, not cut off
    assert sorted(p.name for p in inbox.iterdir()) == ["f1.xlsx", "f2.xlsx"]


def test_a_file_the_handler_could_not_finish_is_tried_again_at_the_next_rescan(dirs, xlsx_bytes):
    inbox, _, _ = dirs
    clock = FakeClock()
    attempts: list[str] = []

    def handle(path: Path) -> bool:
        attempts.append(path.name)
        if len(attempts) == 1:
            return False  # e.g. the ledger was locked
        path.unlink()
        return True

    w = InboxWatcher(inbox, handle, settle=1.0, clock=clock)
    (inbox / "a.xlsx").write_bytes(xlsx_bytes)
    w.rescan()
    w.check()
    clock.now += 1
    assert w.check() == 1
    clock.now += 5
    assert w.check() == 0  # not before the next rescan
    w.rescan()
    w.check()
    clock.now += 1
    assert w.check() == 1
    assert attempts == ["a.xlsx", "a.xlsx"] and not (inbox / "a.xlsx").exists()
