from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent / "windows_mode"))
import winlike

if winlike.active():  # CERTPIPE_TEST_WINDOWS=1: before certpipe is imported (see tests/windows_mode/winlike.py)
    winlike.install()

from pipeline.cli import main
from tests.helpers.paths import FIXTURES, ROOT  # noqa: F401  (fixtures below; tests import them from helpers)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    if winlike.active():  # pytest-timeout's signal method needs SIGALRM
        config.option.timeout_method = "thread"


@pytest.fixture(autouse=True, scope="session")
def _own_cache_folder(tmp_path_factory):
    """Chart layouts are kept in the user's cache folder (pipeline/word/charts.py): not the tests' ones."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture
def cli(capsys, tmp_path, monkeypatch):
    """Run ``certpipe ARGS`` in-process; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("CERTPIPE_WATCH_SETTLE_SECONDS", "0")  # the files a test drops are complete
    monkeypatch.delenv("CERTPIPE_LANG", raising=False)
    monkeypatch.delenv("CERTPIPE_WORKSPACE", raising=False)
    monkeypatch.chdir(tmp_path)  # the default workspace is the current folder: never the repository's

    def run(*args: str) -> tuple[int, str, str]:
        code = 0
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
