"""[paths] in certpipe.toml puts the working folders elsewhere; outputs get ordinary permissions."""

from __future__ import annotations

import os
from pathlib import Path

from tests.helpers.workspace import make_ws, record, sample_audit, workbook


def test_paths_from_certpipe_toml_are_used_by_run(tmp_path: Path, cli):
    ws = make_ws(tmp_path)
    share = tmp_path / "share"
    (ws.root / "certpipe.toml").write_text(
        f'[paths]\ninbox = "{share / "in"}"\noutbox = "results"\n', encoding="utf-8")
    drafts = make_ws(tmp_path / "drafts")
    (share / "in").mkdir(parents=True)
    src = workbook(drafts, "a.xlsx", sample_audit(audit_id="P-1"))
    record(ws, sample_audit(audit_id="P-1"))  # generated for this workspace, filled elsewhere
    os.rename(src, share / "in" / "a.xlsx")
    old = os.umask(0o022)
    try:
        code, _out, err = cli("-W", ws.root, "run", "--workers", "1")
    finally:
        os.umask(old)
    assert code == 0, err
    report = ws.root / "results" / "P-1" / "P-1-report.docx"
    assert report.is_file() and list((share / "in").iterdir()) == []
    assert not (ws.outbox / "P-1").exists()
    # readable by the group and others, as the umask allows (not owner-only)
    assert report.stat().st_mode & 0o044 == 0o044
    assert (ws.root / "results" / "P-1").stat().st_mode & 0o055 == 0o055
    assert (ws.root / "results" / "register.xlsx").stat().st_mode & 0o044 == 0o044


def test_unknown_paths_key_is_refused_before_anything_happens(tmp_path: Path, cli):
    ws = make_ws(tmp_path)
    (ws.root / "certpipe.toml").write_text('[paths]\ninbx = "x"\n', encoding="utf-8")
    code, _, err = cli("-W", ws.root, "run")
    assert code == 2 and "paths.inbx" in err
    assert not (ws.root / "logs").exists() and not (ws.root / ".certpipe").exists()


def test_absolute_outbox_and_archive_paths(tmp_path: Path, cli):
    ws = make_ws(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    (ws.root / "certpipe.toml").write_text(
        f'[paths]\noutbox = "{elsewhere / "out"}"\narchive = "{elsewhere / "arc"}"\n', encoding="utf-8")
    workbook(ws, "a.xlsx", sample_audit(audit_id="P-2"))
    (ws.inbox / "b.xlsx").write_bytes(b"not a workbook")
    code, out, err = cli("-W", ws.root, "run", "--workers", "1")
    assert code == 1, err  # b.xlsx rejected, a.xlsx accepted
    assert (elsewhere / "out" / "P-2" / "P-2-report.docx").is_file()
    assert (elsewhere / "out" / "_rejected" / "b" / "problems.txt").is_file()
    assert sorted(p.name for p in (elsewhere / "arc").rglob("*.xlsx")) == ["a.xlsx", "b.xlsx"]
    assert list(ws.inbox.iterdir()) == []
    code, out, _ = cli("-W", ws.root, "ledger", "--json")
    assert str(elsewhere / "out" / "P-2") in out and str(elsewhere / "arc") in out
