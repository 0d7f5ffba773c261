"""Named crash points for the crash-safety tests: with ``CERTPIPE_CRASH_AT=<name>`` in the
environment the process kills itself (SIGKILL, no clean-up; on Windows TerminateProcess) when it
reaches that point (a worker dies; its driver goes on); with ``CERTPIPE_POWER_CUT_AT=<name>`` the
whole run dies there, as in a power cut (a worker kills its driver, then itself); with
``CERTPIPE_STUCK_AT=<name>`` it stops there out of Python's reach, as a native library stuck on a
file would (interrupts held back, asleep). Unset, a crash point costs three dictionary look-ups."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

POINTS = ("claimed", "staged", "rendered", "published", "finished", "archived")


def crashpoint(name: str) -> None:
    kill = getattr(signal, "SIGKILL", signal.SIGTERM)
    if os.environ.get("CERTPIPE_CRASH_AT") == name:
        os.kill(os.getpid(), kill)
    if os.environ.get("CERTPIPE_POWER_CUT_AT") == name:
        if multiprocessing.parent_process() is not None:  # a worker: its driver first
            os.kill(os.getppid(), kill)
        os.kill(os.getpid(), kill)
    if os.environ.get("CERTPIPE_STUCK_AT") == name:
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        while True:
            time.sleep(3600)
