"""``run`` and ``watch`` in a folder without certpipe.toml make a workspace there, as scripts rely on,
and say so in one line on stderr (in the user's language, ``-q`` quiet), the first time only; never
in ``--json``'s data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.helpers.workspace import QUICK

MADE_ZH = "未找到 certpipe.toml：已按默认设置在"
MADE_EN = "no certpipe.toml found: made a workspace with the default settings in"


def _certpipe(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """``certpipe ARGS`` run in ``folder`` as a person does: no -W, the current folder is the workspace."""
    env = {k: v for k, v in QUICK.items() if k not in ("CERTPIPE_WORKSPACE", "CERTPIPE_LANG")}
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=folder, capture_output=True, text=True,
                          timeout=300, env=env)


def test_run_in_a_folder_without_certpipe_toml_says_it_made_a_workspace_once(tmp_path):
    bare = tmp_path / "bare"
    bare.mkdir()
    first = _certpipe(bare, "run")
    assert first.returncode == 0, first.stderr
    lines = [line for line in first.stderr.splitlines() if MADE_ZH in line]
    assert len(lines) == 1 and str(bare) in lines[0] and f"certpipe init {bare}" in lines[0], first.stderr
    assert MADE_ZH not in first.stdout
    assert (bare / "outbox").is_dir() and (bare / ".certpipe" / "ledger.sqlite").is_file()  # still made
    assert not (bare / "certpipe.toml").exists()

    again = _certpipe(bare, "run")  # a workspace now: nothing to say
    assert again.returncode == 0 and MADE_ZH not in again.stderr + again.stdout, again.stderr


def test_in_english_quiet_and_json(tmp_path):
    english = tmp_path / "english"
    english.mkdir()
    done = _certpipe(english, "--lang", "en", "run", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["outcomes"] == []  # the data is the data alone
    assert MADE_EN in done.stderr and "certpipe init" in done.stderr

    quiet = tmp_path / "quiet"
    quiet.mkdir()
    done = _certpipe(quiet, "-q", "run")
    assert done.returncode == 0 and "certpipe.toml" not in done.stderr, done.stderr
    assert (quiet / "outbox").is_dir()

    # an inbox made by hand, with nothing else, is not a workspace yet; one with certpipe.toml is
    by_hand = tmp_path / "by-hand"
    (by_hand / "inbox").mkdir(parents=True)
    assert MADE_ZH in _certpipe(by_hand, "run").stderr
    configured = tmp_path / "configured"
    configured.mkdir()
    (configured / "certpipe.toml").write_text("", encoding="utf-8")
    assert "certpipe.toml" not in _certpipe(configured, "run").stderr


def test_watch_in_a_folder_without_certpipe_toml_says_it_too(tmp_path):
    bare = tmp_path / "bare"
    bare.mkdir()
    env = {k: v for k, v in QUICK.items() if k not in ("CERTPIPE_WORKSPACE", "CERTPIPE_LANG")}
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "watch", "--settle", "0.2"], cwd=bare,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    said = []
    reader = threading.Thread(target=lambda: said.extend(proc.stderr), daemon=True)  # line by line
    reader.start()
    try:
        end = time.monotonic() + 30
        while time.monotonic() < end and not any(MADE_ZH in line for line in said) and proc.poll() is None:
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.stdout.read()  # (stderr is the reader's)
        proc.wait(timeout=60)
        reader.join(timeout=10)
    err = "".join(said)
    assert proc.returncode == 0, err
    assert err.count(MADE_ZH) == 1 and str(bare) in err, err
    assert "已停止监视" in out and (bare / "outbox").is_dir()
    assert os.path.isfile(bare / ".certpipe" / "ledger.sqlite")
