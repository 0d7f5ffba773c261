"""Named crash points for the crash-safety tests: with ``CERTPIPE_CRASH_AT=<name>`` in the
environment the process kills itself (SIGKILL, no clean-up) when it reaches that point. Unset, a
crash point costs one dictionary look-up."""

from __future__ import annotations

import os
import signal

POINTS = ("claimed", "staged", "rendered", "published", "finished", "archived")


def crashpoint(name: str) -> None:
    if os.environ.get("CERTPIPE_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
