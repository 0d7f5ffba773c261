"""certpipe.toml at start: every unknown key and wrong value named with its key and its source
(file or CERTPIPE_* variable), before any file is touched; env overrides; lang; status; fatal errors
in the log file."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import ConfigInvalid, all_keys, env_var, load_config
from pipeline.core.certificates import safe_number
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
    assert not (ws / "logs").exists() and not (ws / ".certpipe" / "ledger.sqlite").exists()


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


def _problems_zh(text: str, path: Path, environ: dict | None = None) -> list[str]:
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigInvalid) as info:
        load_config(path, environ or {})
    return [line.strip() for line in info.value.render("zh").splitlines()[1:]]


@pytest.mark.parametrize(("number_format", "said"), [
    ("CP{seq:c}{year}", "cannot use {seq:c}"),  # a control character in every number
    ("CP-{standard:>12}-{seq}", "cannot use {standard:>12}"),
    ("CP/{year}/{seq}", "contains '/'"),
    ("CP\\\\{seq}", "contains '\\\\'"),
    ("CP..{seq}", "contains '..'"),
    ("CP\\n{seq}", "contains '\\n'"),
    ("CP {seq}", "contains ' '"),
    ("CP-{seq", "contains '{'"),
    ("{standard.__class__}-{seq}", "uses 'standard.__class__'"),
    ("{year[0]}-{seq}", "uses 'year[0]'"),
    ("CP-{}-{seq}", "uses ''"),
    ("CP-{seq!r}", "leave out '!r' and write {seq}"),
    ("-{year}-{seq}", "'-2026-12345'"),
    ("CP-{seq:070d}", "at most 64 characters"),
])
def test_number_format_allows_only_safe_text_fields_and_widths(tmp_path, number_format, said):
    text = f'[certificates]\nnumber_format = "{number_format}"\n'
    (line,) = _problems(text, tmp_path / "certpipe.toml")
    assert line.startswith("setting 'certificates.number_format': the certificate number format")
    assert said in line
    (line,) = _problems_zh(text, tmp_path / "certpipe.toml")
    assert line.startswith("设置「certificates.number_format」：证书编号格式")


@pytest.mark.parametrize("number_format", [
    "CP-{year}-{standard}-{seq:05d}", "CP-{seq:04}-{year:d}.{level}_x", "{level}-{seq}", "{seq:5}",
])
def test_number_format_accepts_plain_fields_and_widths(number_format):
    config = load_config(Path("/nonexistent/certpipe.toml"), {"CERTPIPE_CERTIFICATES_NUMBER_FORMAT": number_format})
    assert config.certificates.number_format == number_format
    assert safe_number(number_format.format(year=2026, standard="GBT27922", seq=12345, level="three-star"))


def test_safe_number_is_the_rule_number_format_is_checked_against():
    assert safe_number("CP-2026-GBT27922-00001") and safe_number("A" * 64)
    for bad in ("", "-CP1", ".CP1", "CP/1", "CP\\1", "CP 1", "CP\x011", "CP1\n", "A" * 65, "证书1", None):
        assert not safe_number(bad), bad


def test_limits_have_upper_bounds(tmp_path):
    path = tmp_path / "certpipe.toml"
    lines = _problems("[limits]\nseconds_per_file = 1e12\nmax_file_mb = 2000\nmax_member_mb = inf\n"
                      "[watch]\nsettle_seconds = 86400\n[run]\nworkers = 1000\n", path)
    assert lines == [
        "setting 'limits.max_file_mb': must be at most 1024, not 2000",
        "setting 'limits.max_member_mb': must be at most 1024, not inf",
        "setting 'limits.seconds_per_file': must be at most 3600, not 1000000000000.0",
        "setting 'watch.settle_seconds': must be at most 3600, not 86400",
        "setting 'run.workers': must be at most 64, not 1000",
    ]
    (line,) = _problems_zh("[limits]\nseconds_per_file = nan\n", path)
    assert line == "设置「limits.seconds_per_file」：应不大于 3600，现为 nan"
    path.write_text("[limits]\nseconds_per_file = 3600\nmax_file_mb = 1024\n[run]\nworkers = 64\n", encoding="utf-8")
    assert load_config(path, {}).limits.seconds_per_file == 3600


@pytest.mark.parametrize(("text", "said"), [
    ('[paths]\ninbox = "outbox"\n', "setting 'paths.inbox': 'outbox' is the same folder as 'paths.outbox'"),
    ('[paths]\ninbox = "./outbox/"\n', "setting 'paths.inbox': './outbox/' is the same folder as 'paths.outbox'"),
    ('[paths]\ninbox = "outbox/new"\n', "setting 'paths.inbox': 'outbox/new' lies inside 'paths.outbox'"),
    ('[paths]\narchive = "inbox/done"\n', "setting 'paths.archive': 'inbox/done' lies inside 'paths.inbox'"),
    ('[paths]\noutbox = "."\n', "setting 'paths.outbox': '.' contains 'paths.inbox'"),
    ('[paths]\ninbox = ".certpipe/inbox"\n', "setting 'paths.inbox': '.certpipe/inbox' lies inside certpipe's own"),
    ('[paths]\ninbox = "a"\noutbox = "a"\n', "setting 'paths.outbox': 'a' is the same folder as 'paths.inbox'"),
])
def test_inbox_outbox_and_archive_are_three_separate_folders(tmp_path, text, said):
    (line,) = _problems(text, tmp_path / "certpipe.toml")
    assert line.startswith(said)
    (line,) = _problems_zh(text, tmp_path / "certpipe.toml")
    assert line.startswith("设置「paths.") and "如 \"inbox\"、\"outbox\"、\"archive\"" in line


def test_paths_are_compared_from_the_workspace_and_through_links(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    (root / "shared").symlink_to(root / "outbox", target_is_directory=True)  # outbox itself need not exist
    (line,) = _problems('[paths]\ninbox = "shared"\n', root / "certpipe.toml")
    assert line.startswith("setting 'paths.inbox': 'shared' is the same folder as 'paths.outbox'")
    absolute = str(root / "archive")
    (line,) = _problems("", root / "certpipe.toml", {"CERTPIPE_PATHS_INBOX": absolute})
    assert line.startswith("environment variable CERTPIPE_PATHS_INBOX (setting 'paths.inbox'): "
                           f"'{absolute}' is the same folder as 'paths.archive'")
    config = load_config(root / "certpipe.toml", {"CERTPIPE_PATHS_INBOX": str(tmp_path / "share" / "inbox")})
    assert config.paths.inbox == str(tmp_path / "share" / "inbox")


def test_paths_are_checked_with_the_other_problems(tmp_path):
    lines = _problems('[paths]\narchive = "outbox"\n[run]\nworkers = "two"\n', tmp_path / "certpipe.toml")
    assert [line.split(":", 1)[0] for line in lines] == ["setting 'run.workers'", "setting 'paths.archive'"]


@pytest.mark.parametrize(("text", "key"), [
    ('[certificates]\nnumber_format = "CP{seq:c}{year}"\n', "certificates.number_format"),
    ("[limits]\nseconds_per_file = 1e12\n", "limits.seconds_per_file"),
    ('[paths]\ninbox = "outbox"\n', "paths.inbox"),
])
def test_run_refuses_a_value_that_would_break_it_later(cli, ws, text, key):
    (ws / "certpipe.toml").write_text(text, encoding="utf-8")
    (ws / "inbox" / "a.xlsx").write_bytes(b"not yet looked at")
    code, _, err = cli("-W", ws, "--lang", "en", "run")
    assert code == 2 and f"setting '{key}'" in err
    code, _, err = cli("-W", ws, "--lang", "zh", "run")
    assert code == 2 and f"设置「{key}」" in err
    assert [p.name for p in (ws / "inbox").iterdir()] == ["a.xlsx"]
    assert not (ws / ".certpipe" / "ledger.sqlite").exists()


@pytest.mark.parametrize("command", [["status"], ["ledger"], ["certificates", "list"], ["decisions"], ["due"]])
def test_a_mistyped_workspace_is_said_not_shown_as_an_empty_one(tmp_path, cli, command):
    code, out, err = cli("-W", tmp_path / "no-such-ws", *command)
    assert code == 2 and "不存在" in out + err and "certpipe init" in out + err
    assert not (tmp_path / "no-such-ws").exists()
