"""The per-file time limit (``limits.seconds_per_file``), the same on Linux, macOS and Windows.

No ``SIGALRM`` (Windows has none): a watchdog thread times the blocks (one per process, started
with its first block: starting a thread per block was ~10 % of a bulk run's CPU). When the time runs out it
interrupts the main thread, which raises ``TimeLimit`` as soon as it runs Python again:

- on Linux and macOS with a real signal to the main thread (``signal.pthread_kill``, ``SIGINT``), so
  a wait in the kernel (a slow share's ``read``, a ``sleep``) ends at once;
- elsewhere with ``_thread.interrupt_main``, which Python treats as the same signal (on Windows it
  also wakes a ``sleep``).

A call into C that does not come back (a native library stuck on a file) cannot be interrupted. No
driver processes files in its own process for that reason: ``run``'s pool workers (even with
``--workers 1``) and ``watch``'s child (``flow/worker.py``) call ``end_overruns``, and the watchdog
then ends the whole process after ``grace`` seconds more. ``run``'s pool sees a dead worker and
gives the files that were left to fresh workers, one at a time; ``watch`` starts a fresh child for
the next file. Either way the file that overran fails alone and stays in the inbox.

A real Ctrl-C still reaches whatever handled it before: the interrupt handler certpipe installs tells
its own interrupts from the user's."""

from __future__ import annotations

import _thread
import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

#: The exit code of a worker ended because it overran (seen in the pool's log, never by a user).
OVERRUN_EXIT = 75


class TimeLimit(BaseException):
    """The time limit ran out. A ``BaseException``, like ``KeyboardInterrupt``: the ``except
    Exception`` around library calls must not swallow it."""


_state = {"deferring": 0, "pending": False, "fired": 0, "active": None, "hard": None, "chained": None}
_guard = threading.Lock()


def end_overruns(grace: float | None = 5.0) -> None:
    """In a worker process that can be replaced: a block still running ``grace`` seconds after its
    limit ran out (stuck in C, out of Python's reach) ends the process. ``None``: never (the default;
    a process that is not a replaceable worker must not end itself)."""
    _state["hard"] = grace


def _on_interrupt(signum, frame) -> None:
    """The main thread's ``SIGINT`` handler while certpipe times blocks: an interrupt the watchdog
    sent raises ``TimeLimit`` (held back inside a ledger transaction; dropped when its block is
    already over); any other goes to the handler that was there before (Ctrl-C stays Ctrl-C)."""
    with _guard:
        ours = _state["fired"] > 0
        if ours:
            _state["fired"] -= 1
            active = _state["active"]
    if ours:
        if active is None or active.is_set():
            return  # the block ended as the time ran out
        if _state["deferring"]:
            _state["pending"] = True  # inside a ledger transaction: raised when it is over
            return
        raise TimeLimit
    chained = _state["chained"]
    if callable(chained):
        chained(signum, frame)
    elif chained != signal.SIG_IGN:
        raise KeyboardInterrupt


def _install() -> None:
    current = signal.getsignal(signal.SIGINT)
    if current is not _on_interrupt:
        _state["chained"] = current
        signal.signal(signal.SIGINT, _on_interrupt)


def _interrupt_main() -> None:
    main = threading.main_thread().ident
    if hasattr(signal, "pthread_kill") and main is not None:
        signal.pthread_kill(main, signal.SIGINT)
    else:
        _thread.interrupt_main(signal.SIGINT)


_armed: list[tuple[float, threading.Event]] = []  # (deadline, the block's end) of the blocks running
_schedule = threading.Condition()
_dog: list[threading.Thread] = []
_waking = [float("inf")]  # when the watchdog wakes next by itself


def _after_fork() -> None:  # a forked worker has no watchdog thread and no blocks yet
    global _schedule
    _schedule = threading.Condition()
    _armed.clear()
    _dog.clear()
    _waking[0] = float("inf")


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def _arm(seconds: float, over: threading.Event) -> tuple[float, threading.Event]:
    """Time a block; the watchdog is woken only when it would wake too late for this one. (Waking it
    for every block handed Python's lock to it and back three times an audit: ~10 % of a bulk run's
    wall time went into waiting for that.)"""
    entry = (time.monotonic() + seconds, over)
    with _schedule:
        if not _dog or not _dog[0].is_alive():
            _dog[:] = [threading.Thread(target=_watchdog, name="certpipe-time-limit", daemon=True)]
            _waking[0] = float("inf")
            _dog[0].start()
        _armed.append(entry)
        if entry[0] < _waking[0]:
            _schedule.notify()
    return entry


def _disarm(entry: tuple[float, threading.Event]) -> None:
    """A block is over: forgotten at once (the watchdog may still wake at its deadline, for nothing)."""
    with _schedule, contextlib.suppress(ValueError):
        _armed.remove(entry)


def _watchdog() -> None:
    """Wait for the nearest deadline of a block still running (a block that ends is dropped at once;
    a new block wakes it only when its deadline is nearer than the one waited for), then fire."""
    while True:
        with _schedule:
            while True:
                _armed[:] = [entry for entry in _armed if not entry[1].is_set()]
                if not _armed:
                    _waking[0] = float("inf")
                    _schedule.wait()
                    continue
                deadline, over = min(_armed, key=lambda entry: entry[0])
                left = deadline - time.monotonic()
                if left <= 0:
                    _armed.remove((deadline, over))
                    break
                _waking[0] = deadline
                _schedule.wait(left)
        _fire(over)


def _fire(over: threading.Event) -> None:
    with _guard:
        if over.is_set():
            return
        _state["fired"] += 1
    _interrupt_main()
    grace = _state["hard"]
    if grace is not None and not over.wait(grace):
        os._exit(OVERRUN_EXIT)  # stuck out of Python's reach: the pool replaces this worker


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ``TimeLimit`` inside the block after ``seconds``. Only in a process's main thread, which
    is where ``run``'s workers and ``watch``'s child process files; in another thread the block runs without
    a limit. Ledger transactions hold the limit back until they are committed (``deferred``)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _install()
    over = threading.Event()
    outer = _state["active"]
    _state["active"] = over
    entry = _arm(seconds, over)
    try:
        yield
    finally:
        with _guard:
            over.set()
        _state["active"] = outer
        _disarm(entry)


@contextmanager
def deferred() -> Iterator[None]:
    """Hold the time limit back inside the block (a ledger transaction must never be left open);
    if it ran out meanwhile, ``TimeLimit`` is raised as the block ends."""
    _state["deferring"] += 1
    try:
        yield
    finally:
        _state["deferring"] -= 1
    if not _state["deferring"] and _state["pending"]:
        _state["pending"] = False
        raise TimeLimit
