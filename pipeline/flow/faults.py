"""Named crash points for the crash-safety tests: with ``CERTPIPE_CRASH_AT=<name>`` in the
environment the process kills itself (SIGKILL, no clean-up; on Windows TerminateProcess) when it
reaches that point; with ``CERTPIPE_STUCK_AT=<name>`` it stops there out of Python's reach, as a
native library stuck on a file would (interrupts held back, asleep). Unset, a crash point costs two
dictionary look-ups."""

from __future__ import annotations

import os
import signal
import time

POINTS = ("claimed", "staged", "rendered", "published", "finished", "archived")


def crashpoint(name: str) -> None:
    if os.environ.get("CERTPIPE_CRASH_AT") == name:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
    if os.environ.get("CERTPIPE_STUCK_AT") == name:
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        while True:
            time.sleep(3600)
