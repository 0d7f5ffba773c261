"""One driver per workspace, on every system: the lock between processes, its holder, a killed holder,
and code that leans on nothing Windows lacks (``fcntl``, ``SIGALRM``, ``fork``)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import threading
from pathlib import Path

import portalocker
import pytest

from pipeline.errors import WorkspaceBusy
from pipeline.lock import file_lock, holder, workspace_lock
from pipeline.workspace import Workspace
from tests.helpers.paths import ROOT

HOLD = """
import sys
from pathlib import Path
from pipeline.lock import {what}
from pipeline.workspace import Workspace
{setup}
with {call}:
    print("held", flush=True)
    sys.stdin.readline()
    {before_release}
"""


def _hold(code: str) -> subprocess.Popen:
    """Another process holding a lock until its standard input says so."""
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, cwd=ROOT)
    assert proc.stdout.readline().strip() == "held"
    return proc


def _hold_workspace(root: Path) -> subprocess.Popen:
    return _hold(HOLD.format(what="workspace_lock", setup=f"ws = Workspace(Path({str(root)!r}))",
                             call='workspace_lock(ws, "watch")', before_release="pass"))


def test_a_second_driver_is_refused_and_told_who_holds_the_workspace(tmp_path):
    ws = Workspace(tmp_path)
    assert holder(ws) is None
    other = _hold_workspace(tmp_path)
    try:
        assert holder(ws) == f"pid {other.pid} watch"
        with pytest.raises(WorkspaceBusy) as caught, workspace_lock(ws, "run"):
            pass
        assert f"pid {other.pid} watch" in caught.value.render("en")
    finally:
        other.communicate("\n", timeout=30)
    assert holder(ws) is None
    with workspace_lock(ws, "run"):  # free again
        assert holder(ws) == f"pid {os.getpid()} run"


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    ws = Workspace(tmp_path)
    other = _hold_workspace(tmp_path)
    other.kill()  # no clean-up at all
    other.wait(30)
    assert ws.lock_info.exists()  # its note is left behind, and not believed
    assert holder(ws) is None
    with workspace_lock(ws, "run"):
        assert holder(ws) == f"pid {os.getpid()} run"


def test_publishing_to_one_destination_takes_turns(tmp_path):
    lock, log = tmp_path / "dest.lock", tmp_path / "log.txt"
    other = _hold(HOLD.format(what="file_lock", setup="", call=f"file_lock(Path({str(lock)!r}))",
                              before_release=f"Path({str(log)!r}).write_text('other done')"))
    try:
        other.stdin.write("\n")
        other.stdin.flush()
        with file_lock(lock):  # waits until the other has written and let go
            assert log.read_text() == "other done"
    finally:
        other.communicate(timeout=30)
    assert other.returncode == 0


# ---- nothing Windows lacks ------------------------------------------------------------------------
FORBIDDEN_MODULES = {"fcntl", "msvcrt", "termios", "pwd", "grp", "resource"}
FORBIDDEN_SIGNAL = {"SIGALRM", "setitimer", "alarm"}


def _sources():
    for path in sorted((ROOT / "pipeline").rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_certpipe_uses_nothing_windows_lacks():
    found = []
    for path, tree in _sources():
        name = path.relative_to(ROOT).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [f"{name}: import {a.name}" for a in node.names if a.name in FORBIDDEN_MODULES]
            elif isinstance(node, ast.ImportFrom) and node.module in FORBIDDEN_MODULES:
                found.append(f"{name}: from {node.module}")
            elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                  and node.value.id == "signal" and node.attr in FORBIDDEN_SIGNAL):
                found.append(f"{name}: signal.{node.attr}")
            elif isinstance(node, ast.Constant) and node.value == "fork" and "run.py" not in name:
                found.append(f"{name}: the fork start method")
    assert found == []


# ---- the Windows-like mode the suite can run in ---------------------------------------------------
PROBE = """
import importlib, signal, sys
import pipeline.lock, pipeline.flow.run, pipeline.flow.timelimit
from pipeline.flow.run import start_method
try:
    importlib.import_module("fcntl")
    fcntl = "fcntl there"
except ImportError:
    fcntl = "no fcntl"
print(fcntl, hasattr(signal, "SIGALRM"), hasattr(signal, "setitimer"), start_method())
"""


def test_the_windows_like_mode_takes_away_what_windows_lacks():
    env = dict(os.environ, CERTPIPE_TEST_WINDOWS="1",
               PYTHONPATH=str(ROOT / "tests" / "windows_mode"))
    env.pop("CERTPIPE_START_METHOD", None)
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["no", "fcntl", "False", "False", "spawn"]


def test_run_starts_workers_by_fork_only_where_asked_or_on_linux(monkeypatch):
    from pipeline.flow.run import START_METHOD_ENV, start_method

    monkeypatch.setenv(START_METHOD_ENV, "spawn")
    assert start_method() == "spawn"
    monkeypatch.setenv(START_METHOD_ENV, "no such way")
    monkeypatch.setattr(sys, "platform", "win32")
    assert start_method() == "spawn"


def test_a_driver_starting_while_status_looks_at_the_lock_is_not_turned_away(tmp_path):
    """``status`` and the console ask who holds the workspace by taking its lock for an instant; a
    ``run`` or ``watch`` starting in that instant waits for it instead of saying "busy"."""
    ws = Workspace(tmp_path)
    ws.state.mkdir(parents=True)
    probe = open(ws.lock_file, "a+b")  # noqa: SIM115 - what holder() does, held a little longer
    portalocker.lock(probe, portalocker.LockFlags.EXCLUSIVE | portalocker.LockFlags.NON_BLOCKING)
    threading.Timer(0.2, probe.close).start()
    with workspace_lock(ws, "watch"):
        assert holder(ws) == f"pid {os.getpid()} watch"
