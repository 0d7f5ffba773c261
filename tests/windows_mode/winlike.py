"""A Windows-like Python on Linux, for the test suite (``CERTPIPE_TEST_WINDOWS=1``).

No machine with Windows is at hand, so the suite can run with what Windows lacks taken away:

- no ``fcntl`` (an ``import fcntl`` fails; portalocker, which certpipe locks through, is imported
  first and keeps the one it needs, as it would keep ``msvcrt`` on Windows);
- no ``SIGALRM``, ``alarm``, ``setitimer`` / ``getitimer`` and no ``pthread_kill`` in ``signal``;
- worker processes started with ``spawn`` (``CERTPIPE_START_METHOD``);
- file names checked against Windows' rules (``tests/helpers/names.py`` reads ``active()``).

``install()`` runs in the test process (``tests/conftest.py``) and, through the ``sitecustomize.py``
beside this file (its folder is put on ``PYTHONPATH``), in every process the tests start."""

from __future__ import annotations

import contextlib
import importlib.abc
import os
import signal
import sys

ENV = "CERTPIPE_TEST_WINDOWS"
HIDDEN_SIGNAL = ("SIGALRM", "alarm", "setitimer", "getitimer", "ITIMER_REAL", "ITIMER_VIRTUAL",
                 "ITIMER_PROF", "pthread_kill")
HIDDEN_MODULES = ("fcntl",)


def active() -> bool:
    return os.environ.get(ENV) == "1"


class _Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in HIDDEN_MODULES:
            raise ModuleNotFoundError(f"No module named {name!r} (Windows-like mode)", name=name)
        return None


def installed() -> bool:
    return any(isinstance(f, _Refuse) for f in sys.meta_path)


def install() -> None:
    if installed():
        return
    import subprocess  # noqa: F401  - both take fcntl while it is there, as their Windows code takes msvcrt

    with contextlib.suppress(ImportError):  # a Python without certpipe's packages (a fresh venv)
        import portalocker  # noqa: F401

    for name in HIDDEN_MODULES:
        sys.modules.pop(name, None)
    sys.meta_path.insert(0, _Refuse())
    for name in HIDDEN_SIGNAL:
        if hasattr(signal, name):
            delattr(signal, name)
    os.environ["CERTPIPE_START_METHOD"] = "spawn"
    here = os.path.dirname(os.path.abspath(__file__))
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if here not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([here, *paths])
