"""The ledger, atomic publishing, safe names and the register, on real files."""

from __future__ import annotations

import errno
import os
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline.filenames import safe_name
from pipeline.flow.ledger import Ledger, Numbering
from pipeline.flow.publish import archive_original, cleanup_staging, publish, staging_dir
from pipeline.flow.register import write_register


@pytest.mark.parametrize("text", ["../etc/passwd", "a/b\\c:d*e?f", "CON", "nul.txt", " .hidden", "x" * 300,
                                  "审核\x00编号", "=cmd|' /C calc'!A0", ""])
def test_safe_name_is_a_plain_file_name(text, tmp_path: Path):
    name = safe_name(text)
    assert name and "/" not in name and "\\" not in name and not name.startswith(".")
    assert len(name) <= 90
    assert name.split(".")[0].split("-")[0].upper() not in {"CON", "NUL"}
    (tmp_path / name).mkdir()  # a real folder can be made under that name, inside tmp_path
    assert (tmp_path / name).resolve().parent == tmp_path.resolve()


def test_safe_name_keeps_plain_ids_and_separates_different_texts():
    assert safe_name("DEMO-2026-001") == "DEMO-2026-001"
    assert safe_name("GBT27922-2026-0001") == "GBT27922-2026-0001"
    assert safe_name("a/b") != safe_name("a:b")


def test_ledger_claims_content_once_and_clears_stale_claims(tmp_path: Path):
    ledger = Ledger(tmp_path / "l.sqlite")
    first = ledger.claim("abc", "a.xlsx", 10, 0)
    assert first is not None
    assert ledger.claim("abc", "copy.xlsx", 10, 0) is None
    other = Ledger(tmp_path / "l.sqlite")  # a second process sees the claim too
    assert other.claim("abc", "b.xlsx", 10, 0) is None
    assert other.clear_stale_claims() == 1
    assert ledger.claim("abc", "a.xlsx", 10, 0) is not None


RANKS = {"pass": 0, "grade1": 1, "five-star": 2}


def test_revisions_and_certificate_numbers(tmp_path: Path):
    ledger = Ledger(tmp_path / "l.sqlite")
    fmt = "CP-{year}-{standard}-{seq:05d}"

    def number(audit_id: str, short: str = "GBT27922", number_format: str = fmt, level: str = "pass",
               certified: bool = True) -> tuple[int, str | None]:
        row = ledger.claim(f"h{len(ledger.rows())}", "a.xlsx", 1, 0)
        ((revision, _plan, cert),) = ledger.number([Numbering(
            row, audit_id, "gbt", (short, number_format, 2026, level) if certified else None, ranks=RANKS)])
        ledger.finish(row, status="done", output="x")
        assert cert is None or cert[1] == date.today()
        return revision, cert[0] if cert else None

    assert number("AUD-1", certified=False) == (1, None)
    rev, n1 = number("AUD-1")
    assert (rev, n1) == (2, "CP-2026-GBT27922-00001")
    assert number("AUD-1", level="five-star") == (3, n1)  # the number stays with the audit
    assert number("AUD-2", short="ISI", level="grade1") == (1, "CP-2026-ISI-00002")
    # a format that would repeat a number skips to the next free one, never reusing
    n3 = number("AUD-3", short="X", number_format="CP-{year}")[1]
    n4 = number("AUD-4", short="X", number_format="CP-{year}-{seq}")[1]
    assert len({n1, "CP-2026-ISI-00002", n3, n4}) == 4
    # one group: revisions and numbers in order, in one transaction
    rows = [ledger.claim(f"g{i}", "g.xlsx", 1, 0) for i in range(3)]
    got = ledger.number([Numbering(rows[0], "AUD-5", "gbt", ("X", fmt, 2026, "pass")),
                         Numbering(rows[1], "AUD-5", "gbt", ("X", fmt, 2026, "pass")),
                         Numbering(rows[2], "AUD-6", "gbt")])
    assert [(rev, cert and cert[0]) for rev, _plan, cert in got] == [(1, "CP-2026-X-00005"), (2, "CP-2026-X-00005"),
                                                              (1, None)]


def _stage(outbox: Path, files: dict[str, str]) -> Path:
    stage = staging_dir(outbox)
    for name, text in files.items():
        (stage / name).write_text(text)
    return stage


def test_publish_keeps_history_of_older_revisions(tmp_path: Path):
    outbox = tmp_path / "outbox"
    dest = outbox / "AUD-1"
    publish(_stage(outbox, {"report.docx": "r1"}), dest, revision=1)
    publish(_stage(outbox, {"report.docx": "r2"}), dest, revision=2)
    publish(_stage(outbox, {"report.docx": "r3"}), dest, revision=3)
    assert (dest / "report.docx").read_text() == "r3"
    assert (dest / "history" / "r1" / "report.docx").read_text() == "r1"
    assert (dest / "history" / "r2" / "report.docx").read_text() == "r2"
    # the same revision again (a re-run after a crash) replaces itself, history intact
    publish(_stage(outbox, {"report.docx": "r3 again"}), dest, revision=3)
    assert (dest / "report.docx").read_text() == "r3 again"
    assert sorted(p.name for p in (dest / "history").iterdir()) == ["r1", "r2"]
    assert list((outbox / ".staging").iterdir()) == []


def test_crash_between_the_two_renames_is_repaired(tmp_path: Path):
    outbox = tmp_path / "outbox"
    dest = outbox / "AUD-1"
    publish(_stage(outbox, {"report.docx": "r1"}), dest, revision=1)
    # simulate: the old folder parked, the process killed before the new one was renamed in
    stage = _stage(outbox, {"report.docx": "r2"})
    (dest / ".dest").write_text(str(dest))
    os.rename(dest, stage.parent / f"{stage.name}.old")
    assert not dest.exists()
    cleanup_staging(outbox)
    assert (dest / "report.docx").read_text() == "r1"
    assert list((outbox / ".staging").iterdir()) == []


def test_archive_never_overwrites(tmp_path: Path):
    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    inbox.mkdir()
    targets = []
    for text in ("one", "two"):
        (inbox / "a.xlsx").write_text(text)
        targets.append(archive_original(inbox / "a.xlsx", archive, today=date(2026, 1, 2)))
    assert [p.name for p in targets] == ["a.xlsx", "a-2.xlsx"]
    assert [p.read_text() for p in targets] == ["one", "two"]
    assert not (inbox / "a.xlsx").exists()


def test_register_writes_formula_like_text_as_text(tmp_path: Path):
    ledger = Ledger(tmp_path / "l.sqlite")
    hostile = ["=HYPERLINK(\"http://x\",\"y\")", "=cmd|' /C calc'!A0", "+1+1", "-2", "@SUM(A1)"]
    for i, org in enumerate(hostile):
        _accepted(ledger, f"A{i}", certified=True,
                  details={"organisation": org, "credit_code": "-" + org, "level": "★★★ 三星", "total": "88.5",
                           "issue_date": "2026-01-02", "audit_id": f"A{i}"})
    path = tmp_path / "register.xlsx"
    assert write_register(ledger, path) == len(hostile)
    ws = load_workbook(path).active
    orgs = [ws.cell(row=r, column=2) for r in range(2, 2 + len(hostile))]
    assert [c.value for c in orgs] == hostile
    assert all(c.data_type == "s" for c in orgs)
    with zipfile.ZipFile(path) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet
    assert not list(tmp_path.glob(".~certpipe-*"))


def _accepted(ledger: Ledger, audit_id: str, *, certified: bool, details: dict | None = None,
              finish: bool = True) -> int:
    """Record an accepted revision of ``audit_id`` as the pipeline does; returns its row."""
    row = ledger.claim(f"{audit_id}-{len(ledger.rows())}", f"{audit_id}.xlsx", 1, 0)
    ((_, _plan, cert),) = ledger.number([Numbering(row, audit_id, "gbt", ("GBT", "N-{seq}", 2026, "pass")
                                                   if certified else None)])
    if finish:
        ledger.finish(row, status="done", output="x", certificate_no=cert[0] if cert else None, details=details)
    return row


def test_register_lists_every_certificate_with_its_status_typed_and_printable(tmp_path: Path):
    ledger = Ledger(tmp_path / "l.sqlite")
    for audit_id in ("KEEP", "LOSE"):
        _accepted(ledger, audit_id, certified=True, details={"organisation": audit_id, "audit_id": audit_id,
                                                             "total": "88.5", "issue_date": "2026-01-02"})
    _accepted(ledger, "LOSE", certified=False)  # revision 2 reaches no level: the certificate stays as issued
    with ledger.transaction() as db:
        db.execute("UPDATE certificates SET status = 'withdrawn', expires_on = '2029-01-01' WHERE audit_id = 'KEEP'")
        db.execute("INSERT INTO certificate_events (number, at, action, status, by, reason) "
                   "SELECT number, '2026-03-04T10:00:00+08:00', 'withdraw', 'withdrawn', '张三', '违规' "
                   "FROM certificates WHERE audit_id = 'KEEP'")
    path = tmp_path / "register.xlsx"
    assert write_register(ledger, path, today=date(2026, 6, 1)) == 2
    wb = load_workbook(path)
    sheet, history = wb.worksheets
    head = [c.value for c in sheet[1]]
    rows = [dict(zip(head, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert [(r["组织名称"], r["状态"]) for r in rows] == [("KEEP", "撤销"), ("LOSE", "有效")]
    assert rows[0]["得分"] == 88.5 and isinstance(rows[0]["得分"], float)
    assert rows[0]["有效期至"] == datetime(2029, 1, 1) and sheet.cell(2, head.index("有效期至") + 1).is_date
    assert {"认证范围", "审核类型", "最近审核", "监督审核到期"} <= set(head)
    assert sheet.freeze_panes == "B2" and sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(head)).column_letter}3"
    assert sheet.print_title_rows == "$1:$1" and sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
    changes = [[c.value for c in row] for row in history.iter_rows(min_row=2)]
    assert [changes[0][1], changes[0][3]] == ["KEEP", "撤销"] and changes[0][6] == "张三" and changes[0][7] == "违规"
    assert history.cell(2, 3).is_date
    assert history.cell(2, 3).value == datetime(2026, 3, 4, 10, 0)  # the day and the minute, as recorded
    assert history.cell(2, 3).number_format == "yyyy-mm-dd hh:mm"


def test_register_details_come_from_the_newest_revision_whatever_order_they_finish_in(tmp_path: Path):
    ledger = Ledger(tmp_path / "l.sqlite")
    older = _accepted(ledger, "AUD", certified=True, finish=False)
    newer = _accepted(ledger, "AUD", certified=True, finish=False)
    (number,) = {n for n, _ in ledger.certificates()}
    ledger.finish(newer, status="done", output="x", certificate_no=number, details={"organisation": "new"})
    ledger.finish(older, status="done", output="x", certificate_no=number, details={"organisation": "old"})
    assert ledger.certificates() == [(number, {"organisation": "new"})]
    ledger.close()


def test_an_older_revision_published_after_a_newer_one_goes_to_history(tmp_path: Path):
    outbox = tmp_path / "outbox"
    dest = outbox / "AUD-1"
    publish(_stage(outbox, {"report.docx": "r3"}), dest, revision=3)
    publish(_stage(outbox, {"report.docx": "r2"}), dest, revision=2)  # a slower worker finishes last
    assert (dest / "report.docx").read_text() == "r3"
    assert (dest / "history" / "r2" / "report.docx").read_text() == "r2"
    assert list((outbox / ".staging").iterdir()) == []


def test_a_ledger_from_a_newer_certpipe_is_refused_untouched(tmp_path: Path):
    import sqlite3

    import pipeline.flow.ledger
    from pipeline.errors import LedgerError

    path = tmp_path / "l.sqlite"
    Ledger(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    with pytest.raises(LedgerError) as caught:
        Ledger(path)
    assert caught.value.key == "err.ledger_newer" and "99" in str(caught.value)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone() == (99,)
    assert pipeline.flow.ledger.SCHEMA_VERSION < 99


def test_an_older_ledger_is_migrated_and_keeps_its_rows(tmp_path: Path, monkeypatch):
    import pipeline.flow.ledger

    path = tmp_path / "l.sqlite"
    with Ledger(path) as old:
        row = old.claim("abc", "a.xlsx", 1, 0)
        old.finish(row, status="rejected", output="x")
    version = pipeline.flow.ledger.SCHEMA_VERSION + 1
    monkeypatch.setattr(pipeline.flow.ledger, "SCHEMA_VERSION", version)
    monkeypatch.setattr(pipeline.flow.ledger, "MIGRATIONS", {version: "ALTER TABLE inputs ADD COLUMN reviewer TEXT;"
                                                                    "CREATE INDEX inputs_reviewer ON inputs(reviewer)"})
    with Ledger(path) as new:
        assert new.db.execute("PRAGMA user_version").fetchone() == (version,)
        assert new.db.execute("SELECT name, status, reviewer FROM inputs").fetchall() == [("a.xlsx", "rejected", None)]
    with Ledger(path) as again:  # migrated once
        assert again.db.execute("PRAGMA user_version").fetchone() == (version,)


def test_a_failed_rename_puts_the_published_folder_back(tmp_path: Path, monkeypatch):
    outbox = tmp_path / "outbox"
    dest = outbox / "AUD-1"
    publish(_stage(outbox, {"report.docx": "r1"}), dest, revision=1)
    real = os.rename

    def refuse_the_new_folder(src, dst):
        if Path(dst) == dest and not str(src).endswith(".old"):
            raise OSError(errno.EIO, "Input/output error")
        real(src, dst)

    monkeypatch.setattr(os, "rename", refuse_the_new_folder)
    with pytest.raises(OSError):
        publish(_stage(outbox, {"report.docx": "r2"}), dest, revision=2)
    monkeypatch.setattr(os, "rename", real)
    assert (dest / "report.docx").read_text() == "r1"  # the published revision is back in place
    assert not list((outbox / ".staging").glob("*.old"))


@pytest.mark.slow
def test_libreoffice_reads_the_register_with_its_dates_and_both_sheets(tmp_path: Path):
    """The register is written as sheet XML, not by openpyxl: LibreOffice must read it as Excel would."""
    import shutil
    import subprocess

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed")
    ledger = Ledger(tmp_path / "l.sqlite")
    _accepted(ledger, "A-1", certified=True, details={"organisation": "甲 & <乙> 公司", "audit_id": "A-1",
                                                        "total": "88.5", "issue_date": "2026-01-02"})
    with ledger.transaction() as db:
        db.execute("UPDATE certificates SET expires_on = '2029-01-01', issued_on = '2026-01-02'")
        db.execute("INSERT INTO certificate_events (number, at, action, status, by, reason) "
                   "SELECT number, '2026-03-04T10:07:00+08:00', 'suspend', 'suspended', '张三', '整改' "
                   "FROM certificates")
    path = tmp_path / "register.xlsx"
    write_register(ledger, path, today=date(2026, 6, 1))
    profile = tmp_path / "profile"
    subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to",
                    "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
                    "--outdir", str(tmp_path), str(path)], check=True, capture_output=True, timeout=180)
    (register,) = [p for p in tmp_path.glob("register-*.csv") if "登记" in p.name]
    lines = register.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("证书编号,组织名称") and "甲 & <乙> 公司" in lines[1]
    assert "2029-01-01" in lines[1] and "88.5" in lines[1]
    history = [p for p in tmp_path.glob("register-*.csv") if p != register]
    assert len(history) == 1  # and the history sheet, its times with their minute (LibreOffice reads them)
    assert "2026-03-04 10:07" in history[0].read_text(encoding="utf-8"), history[0].read_text(encoding="utf-8")
