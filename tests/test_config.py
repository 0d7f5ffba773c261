"""certpipe.toml at start: every unknown key and wrong value named with its key and its source
(file or CERTPIPE_* variable), before any file is touched; env overrides; lang; status; fatal errors
in the log file."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import ConfigInvalid, all_keys, env_var, load_config
from pipeline.lock import workspace_lock
from pipeline.workspace import Workspace


@pytest.fixture
def ws(cli, tmp_path) -> Path:
    root = tmp_path / "ws"
    assert cli("init", root)[0] == 0
    return root


def _problems(text: str, path: Path, environ: dict | None = None) -> list[str]:
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigInvalid) as info:
        load_config(path, environ or {})
    return [line.strip() for line in info.value.render("en").splitlines()[1:]]


def test_the_reference_file_is_valid_and_names_every_key():
    reference = (Path(__file__).resolve().parents[1] / "pipeline" / "certpipe.toml").read_text(encoding="utf-8")
    load_config(Path("/nonexistent/certpipe.toml"), {})  # defaults alone are valid
    for key in all_keys():
        name = key.rpartition(".")[2]
        assert f"# {name} = " in reference, f"{key} missing from pipeline/certpipe.toml"


def test_every_problem_is_listed_with_its_key(tmp_path):
    lines = _problems('lang = "fr"\nfoo = 1\n[run]\nworkers = "two"\nworker = 2\n[watch]\nsettle_seconds = -1\n'
                      '[limits]\nmax_file_mb = true\n[certificates]\nnumber_format = "X-{yr}"\n',
                      tmp_path / "certpipe.toml")
    assert len(lines) == 7
    text = "\n".join(lines)
    assert "setting 'lang': must be one of \"zh\" | \"en\", not 'fr'" in text
    assert "setting 'foo': unknown setting" in text
    assert "setting 'run.workers': must be a whole number (no quotes), not 'two'" in text
    assert "setting 'run.worker': unknown setting; did you mean 'run.workers'?" in text
    assert "setting 'watch.settle_seconds': must be at least 0, not -1" in text
    assert "setting 'limits.max_file_mb': must be a number" in text
    assert "setting 'certificates.number_format'" in text and "'yr'" in text


def test_number_format_without_seq_is_refused(tmp_path):
    (line,) = _problems('[certificates]\nnumber_format = "CP-{year}"\n', tmp_path / "certpipe.toml")
    assert "lacks {seq}" in line


def test_environment_overrides_and_is_named_when_wrong(tmp_path):
    path = tmp_path / "certpipe.toml"
    path.write_text("[run]\nworkers = 4\n", encoding="utf-8")
    config = load_config(path, {"CERTPIPE_RUN_WORKERS": "2", "CERTPIPE_WATCH_POLL": "true", "CERTPIPE_LANG": "en"})
    assert (config.run.workers, config.watch.poll, config.lang) == (2, True, "en")
    (line,) = _problems("", path, {"CERTPIPE_LIMITS_SECONDS_PER_FILE": "soon"})
    assert line.startswith("environment variable CERTPIPE_LIMITS_SECONDS_PER_FILE (setting 'limits.seconds_per_file')")
    assert env_var("watch.settle_seconds") == "CERTPIPE_WATCH_SETTLE_SECONDS"


def test_run_stops_before_touching_the_inbox(cli, ws):
    (ws / "certpipe.toml").write_text("[run]\nworkers = \"two\"\n", encoding="utf-8")
    (ws / "inbox" / "a.xlsx").write_bytes(b"not yet looked at")
    code, _, err = cli("-W", ws, "run")
    assert code == 2
    assert "run.workers" in err and str(ws / "certpipe.toml") in err
    assert [p.name for p in (ws / "inbox").iterdir()] == ["a.xlsx"]
    assert not (ws / "logs").exists() and not (ws / ".certpipe").exists()


def test_every_command_checks_the_configuration_but_help_does_not(cli, ws):
    (ws / "certpipe.toml").write_text("[watch]\nsettle = 2\n", encoding="utf-8")
    code, _, err = cli("-W", ws, "standards", "list")
    assert code == 2 and "watch.settle_seconds" in err
    code, out, _ = cli("-W", ws, "watch", "--help")
    assert code == 0 and "--poll" in out


def test_lang_in_the_file_sets_the_language(cli, ws):
    (ws / "certpipe.toml").write_text('lang = "en"\n', encoding="utf-8")
    code, out, _ = cli("-W", ws, "status")
    assert code == 0 and "waiting in the inbox: 0" in out
    code, out, _ = cli("-W", ws, "--lang", "zh", "status")
    assert "收件箱待处理：0 个" in out


def test_status_reports_a_broken_configuration(cli, ws):
    (ws / "certpipe.toml").write_text("[run]\npdf = \"yes\"\n", encoding="utf-8")
    code, out, _ = cli("-W", ws, "--lang", "en", "status")
    assert code == 1
    assert "run and watch will not start" in out and "setting 'run.pdf'" in out


def test_an_error_that_ends_watch_is_also_in_the_log_file(cli, ws):
    with workspace_lock(Workspace(ws), "test"):
        code, _, err = cli("-W", ws, "--lang", "en", "watch")
    assert code == 2 and err
    log = (ws / "logs" / "certpipe.log").read_text(encoding="utf-8")
    assert " ERROR " in log
    assert str(ws) in log.split(" ERROR ", 1)[1]
