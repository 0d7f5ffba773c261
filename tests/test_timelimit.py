"""The time limit never leaves a ledger transaction open, even with other threads running (watch)."""

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
    """Without end_overruns (``watch``, ``run --workers 1``), an overrun waits for the block."""
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
