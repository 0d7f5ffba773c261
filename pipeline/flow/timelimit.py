"""The per-file time limit (``limits.seconds_per_file``)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class TimeLimit(BaseException):
    """The time limit ran out. A ``BaseException``, like ``KeyboardInterrupt``: the ``except
    Exception`` around library calls must not swallow it."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ``TimeLimit`` inside the block after ``seconds``. A real interrupt (SIGALRM) where it can
    be one: in a process's main thread, which is where ``run``'s workers and ``watch`` process files.
    Elsewhere (a thread, or Windows) the block runs without a limit. Python code is interrupted at
    once; a call into C (calamine) returns first, and what those calls get is bounded by the size
    limits. Ledger transactions hold the alarm back until they are committed."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(signum, frame):
        if _state["deferring"]:
            _state["pending"] = True  # inside a ledger transaction: raised when it is over
            return
        raise TimeLimit

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


_state = {"deferring": 0, "pending": False}


@contextmanager
def deferred() -> Iterator[None]:
    """Hold the time limit back inside the block (a ledger transaction must never be left open);
    if it ran out meanwhile, ``TimeLimit`` is raised as the block ends. Works whichever thread the
    signal reached: Python runs the handler in the main thread, which checks the flag."""
    _state["deferring"] += 1
    try:
        yield
    finally:
        _state["deferring"] -= 1
    if not _state["deferring"] and _state["pending"]:
        _state["pending"] = False
        raise TimeLimit
