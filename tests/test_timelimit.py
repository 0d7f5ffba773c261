"""The time limit per file: it never leaves a ledger transaction open, even with other threads running,
and a file stuck out of Python's reach ends only the process it is in, under `run` and `watch` alike."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from pipeline.flow.ledger import Ledger
from pipeline.flow.timelimit import TimeLimit, time_limit


def test_an_alarm_during_a_transaction_fires_after_it(tmp_path: Path):
    ledger = Ledger(tmp_path / "l.sqlite")
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)  # a thread the signal may reach, like watchdog's
    other.start()
    try:
        with pytest.raises(TimeLimit), time_limit(0.05), ledger.transaction() as db:
            db.execute("INSERT INTO counters(scope, value) VALUES ('x', 1)")
            time.sleep(0.3)  # the limit runs out in here
        assert not ledger.db.in_transaction
        assert ledger.db.execute("SELECT value FROM counters WHERE scope = 'x'").fetchone() == (1,)
        with ledger.transaction() as db:  # and the database takes writes again
            db.execute("UPDATE counters SET value = 2 WHERE scope = 'x'")
    finally:
        stop.set()


def test_a_busy_block_is_interrupted_without_sigalrm(monkeypatch):
    """Windows has no SIGALRM and no setitimer: the limit must not need them."""
    import signal

    for name in ("SIGALRM", "setitimer", "alarm", "pthread_kill"):
        monkeypatch.delattr(signal, name, raising=False)
    started = time.monotonic()
    with pytest.raises(TimeLimit), time_limit(0.1):
        while time.monotonic() - started < 5:  # pure Python (bounded here, so the old code fails, not hangs)
            sum(range(1000))


def test_a_wait_in_the_kernel_is_interrupted(monkeypatch):
    import signal

    if not hasattr(signal, "pthread_kill"):
        pytest.skip("no pthread_kill (Windows or its mode): a sleep there wakes by Windows' own event")
    with pytest.raises(TimeLimit), time_limit(0.1):
        time.sleep(30)


def test_ctrl_c_inside_a_limited_block_is_still_ctrl_c():
    import _thread

    with pytest.raises(KeyboardInterrupt), time_limit(5):
        _thread.interrupt_main()  # what Ctrl-C does
        for _ in range(100):
            time.sleep(0.01)


def test_a_block_that_ends_in_time_is_not_interrupted_afterwards():
    for _ in range(50):
        with time_limit(0.02):
            time.sleep(0.002)
    time.sleep(0.1)  # a late interrupt of one of them would land here


def _busy(seconds: float) -> None:
    """Pure Python for at most ``seconds`` (a sleep is not woken by ``interrupt_main`` off Windows, and the
    Windows-like mode has no ``pthread_kill``)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        sum(range(1000))


def test_a_nearer_limit_inside_a_longer_one_fires_on_time():
    """The watchdog is woken only for a deadline nearer than the one it waits for: a short block
    inside a long one (a file's render gets what is left of its time) must still be interrupted at its
    own limit, not at the outer one's."""
    with time_limit(30):
        time.sleep(0.05)  # the watchdog now waits for the outer deadline
        started = time.monotonic()
        with pytest.raises(TimeLimit), time_limit(0.1):
            _busy(5)
        assert time.monotonic() - started < 2


def test_blocks_after_many_short_ones_are_still_timed():
    """Ended blocks are dropped at once, and the watchdog sleeping towards an ended block's deadline
    (no longer woken by each new block) still interrupts a later block at that one's limit."""
    for _ in range(200):
        with time_limit(0.3):
            pass
    time.sleep(0.35)  # past those deadlines: the watchdog woke for nothing and waits again
    for limit in (0.5, 0.15):  # the second is nearer than the first's deadline: woken for it
        started = time.monotonic()
        with pytest.raises(TimeLimit), time_limit(limit):
            _busy(5)
        assert limit <= time.monotonic() - started < limit + 1


def _stuck_in_c(grace: float) -> None:
    """In a fresh process: a block out of Python's reach (interrupts held back, asleep) overruns."""
    import signal

    from pipeline.flow.timelimit import end_overruns

    end_overruns(grace)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    with time_limit(0.2):
        time.sleep(60)


def test_a_worker_stuck_out_of_reach_is_ended():
    import multiprocessing

    from pipeline.flow.timelimit import OVERRUN_EXIT

    worker = multiprocessing.get_context("spawn").Process(target=_stuck_in_c, args=(0.3,))
    worker.start()
    worker.join(30)
    if worker.is_alive():
        worker.kill()
    assert worker.exitcode == OVERRUN_EXIT


def test_a_driver_is_never_ended_by_its_own_limit():
    """Without end_overruns (a process that is no replaceable worker), an overrun waits for the block."""
    import signal

    if not hasattr(signal, "pthread_sigmask"):
        pytest.skip("needs pthread_sigmask")
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        with pytest.raises(TimeLimit), time_limit(0.05):
            time.sleep(0.5)  # the interrupt waits: nothing ends the process
            signal.pthread_sigmask(signal.SIG_SETMASK, old)  # now it lands
            time.sleep(1)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


# ---- a hard limit for the drivers that had none: ``watch`` and ``run --workers 1`` -------------------
# A native hang is simulated as in the pool's test (tests/test_pipeline.py): ``CERTPIPE_STUCK_AT=rendered``
# holds the process out of Python's reach (interrupts held back, asleep) while it renders. The variable is
# taken away once the stuck file is reported, so the next process the driver starts takes the good file.

LIMIT, GRACE = 4.0, 0.5
SLACK = 25.0  # starting processes (spawn imports certpipe afresh) on a loaded machine


def _two_files(tmp_path: Path):
    from tests.helpers.workspace import make_ws, sample_audit, workbook

    ws = make_ws(tmp_path)
    stuck = workbook(ws, "a-stuck.xlsx", sample_audit(audit_id="HL-1"))
    good = workbook(ws, "b-good.xlsx", sample_audit(audit_id="HL-2"))
    return ws, stuck, good


def _stuck_until_reported(monkeypatch, name: str):
    """The outcomes as they come, with when; the native hang ends with ``name``'s outcome."""
    import pipeline.flow.run

    monkeypatch.setattr(pipeline.flow.run, "OVERRUN_GRACE", GRACE)
    monkeypatch.setenv("CERTPIPE_STUCK_AT", "rendered")
    seen: list[tuple[float, object]] = []

    def on_outcome(outcome) -> None:
        seen.append((time.monotonic(), outcome))
        if outcome.name == name:
            monkeypatch.delenv("CERTPIPE_STUCK_AT", raising=False)

    return seen, on_outcome


def _wait(condition, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.mark.slow
def test_watch_ends_a_file_stuck_out_of_reach_and_goes_on(tmp_path: Path, monkeypatch):
    import multiprocessing

    from pipeline.config import Config, Limits
    from pipeline.flow.watch import watch_inbox

    ws, stuck, good = _two_files(tmp_path)
    seen, on_outcome = _stuck_until_reported(monkeypatch, stuck.name)
    stop = threading.Event()
    started = time.monotonic()
    driver = threading.Thread(target=watch_inbox, args=(ws, Config(limits=Limits(seconds_per_file=LIMIT)), stop),
                              kwargs={"settle": 0, "poll": True, "on_outcome": on_outcome}, daemon=True)
    driver.start()
    try:
        assert _wait(lambda: len(seen) >= 2, LIMIT + GRACE + 2 * SLACK), seen  # (the old watch hangs on the first)
    finally:
        stop.set()
        driver.join(30)
    assert not driver.is_alive()  # stopped cleanly
    (t_stuck, first), (_, second) = seen[:2]
    assert (first.name, first.status, first.note.key) == (stuck.name, "failed", "batch.worker_died")
    assert t_stuck - started < LIMIT + GRACE + SLACK
    assert (second.name, second.status) == (good.name, "done")
    assert stuck.is_file() and not good.exists()  # the stuck file stays in the inbox, as with run
    assert (ws.outbox / "HL-2").is_dir() and not (ws.outbox / "HL-1").exists()
    assert [p.name for p in (ws.outbox / ".staging").iterdir()] == []  # the ended child's scratch is gone
    with Ledger(ws.state / "ledger.sqlite") as ledger:
        assert [(r.name, r.status) for r in ledger.rows()] == [(good.name, "done")]  # no claim left behind
    assert multiprocessing.active_children() == []  # no child outlives the watch


@pytest.mark.slow
def test_run_with_one_worker_ends_a_file_stuck_out_of_reach_and_goes_on(tmp_path: Path, monkeypatch):
    import multiprocessing

    from pipeline.config import Config, Limits
    from pipeline.flow.run import run_inbox

    ws, stuck, good = _two_files(tmp_path)
    seen, on_outcome = _stuck_until_reported(monkeypatch, stuck.name)
    result: list = []
    started = time.monotonic()
    driver = threading.Thread(  # (in a thread: the old in-process run hangs there for good, the test fails)
        target=lambda: result.append(run_inbox(ws, Config(limits=Limits(seconds_per_file=LIMIT)), workers=1,
                                               settle=0, on_done=on_outcome)), daemon=True)
    driver.start()
    driver.join(2 * (LIMIT + GRACE) + 2 * SLACK)
    assert not driver.is_alive() and result, seen
    # the stuck file ends its worker twice: in its group, then alone (as with several workers)
    assert time.monotonic() - started < 2 * (LIMIT + GRACE) + SLACK
    assert sorted((o.name, o.status, o.note.key if o.status == "failed" else None) for o in result[0].outcomes) == [
        (stuck.name, "failed", "batch.worker_died"), (good.name, "done", None)]
    assert stuck.is_file() and not good.exists()
    with Ledger(ws.state / "ledger.sqlite") as ledger:
        assert [(r.name, r.status) for r in ledger.rows()] == [(good.name, "done")]
    assert multiprocessing.active_children() == []


def _group_gone(pgid: int) -> bool:
    import os

    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_certpipe_watch_leaves_no_child_behind(tmp_path: Path, how):
    """``certpipe watch`` for real: a file stuck out of reach is reported failed and the next file done;
    after a stop (SIGTERM) or the driver's death (kill -9 of it alone) no process of it is left."""
    import os
    import signal
    import subprocess
    import sys

    from tests.helpers.workspace import QUICK, make_ws, sample_audit, workbook

    ws = make_ws(tmp_path)
    stuck = workbook(ws, "a-stuck.xlsx", sample_audit(audit_id="HL-1"))
    (ws.inbox / "b-bad.xlsx").write_text("not a workbook")  # never rendered: the stuck point spares it
    env = {**QUICK, "CERTPIPE_STUCK_AT": "rendered", "CERTPIPE_LIMITS_SECONDS_PER_FILE": str(LIMIT)}
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "-W", str(ws.root), "--lang", "en", "watch",
                             "--settle", "0", "--poll"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        with Ledger(ws.state / "ledger.sqlite") as ledger:  # (made by the watcher)
            assert _wait(lambda: [r.status for r in ledger.rows()] == ["rejected"], LIMIT + 5 + 2 * SLACK), \
                ledger.rows()
        children = [int(p) for p in os.listdir("/proc") if p.isdigit() and _parent(int(p)) == proc.pid]
        assert children  # the worker that took over from the one that was ended
        if how == "SIGTERM":
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            assert "a-stuck.xlsx" in out and "the process handling it died" in out, out
        else:
            os.kill(proc.pid, signal.SIGKILL)  # the driver alone: its child must notice and end
            proc.communicate(timeout=60)
        assert _wait(lambda: _group_gone(proc.pid), 15)  # no process of the watch is left
        assert stuck.is_file()
    finally:
        if not _group_gone(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None
