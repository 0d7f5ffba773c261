"""A lost ledger never reuses a certificate number: a missing, emptied or renamed ledger beside
published audits is refused, ``certpipe ledger rebuild`` makes it again from the outbox and the
archive; drivers bring the register and the ledger's unfinished rows up to date when they start."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from openpyxl import load_workbook

from pipeline.workspace import Workspace
from tests.helpers.workspace import QUICK, certpipe, make_ws, sample_audit, workbook


def numbers_in_register(ws: Workspace) -> list[str]:
    sheet = load_workbook(ws.register).active
    return sorted(str(row[0]) for row in sheet.iter_rows(min_row=2, values_only=True))


def numbers_in_outbox(ws: Workspace) -> list[str]:
    found = []
    for card in ws.outbox.glob("*/scorecard.json"):
        number = (json.loads(card.read_text(encoding="utf-8")).get("certificate") or {}).get("number")
        if number:
            found.append(number)
    return sorted(found)


@pytest.fixture
def certified(tmp_path) -> tuple[Workspace, bytes]:
    """Five audits certified; the first workbook's bytes (to drop it again)."""
    ws = make_ws(tmp_path)
    first = workbook(ws, "a1.xlsx", sample_audit(audit_id="L-1", org="第一公司")).read_bytes()
    for i in range(2, 6):
        workbook(ws, f"a{i}.xlsx", sample_audit(audit_id=f"L-{i}", org=f"第{i}公司"))
    assert certpipe(ws, "run").returncode == 0
    assert len(numbers_in_outbox(ws)) == 5
    return ws, first


@pytest.mark.parametrize("how", ["deleted", "emptied", "renamed"])
def test_a_lost_ledger_is_refused_and_rebuilt_and_no_number_is_issued_twice(certified, how):
    ws, first = certified
    before = numbers_in_outbox(ws)
    for i in range(6, 9):  # generated (recorded) before the ledger was lost, filled and returned after
        workbook(ws, f"a{i}.xlsx", sample_audit(audit_id=f"L-{i}", org=f"第{i}公司"))
    if how == "deleted":
        ws.ledger.unlink()
    elif how == "emptied":
        ws.ledger.write_bytes(b"")
    else:
        ws.ledger.rename(ws.ledger.with_name("ledger.corrupt"))
    for suffix in ("-wal", "-shm"):
        ws.ledger.with_name(ws.ledger.name + suffix).unlink(missing_ok=True)
    (ws.inbox / "again.xlsx").write_bytes(first)

    refused = certpipe(ws, "run")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "ledger rebuild" in refused.stderr and "5" in refused.stderr
    assert len(list(ws.inbox.iterdir())) == 4 and numbers_in_outbox(ws) == before  # nothing touched
    status = json.loads(certpipe(ws, "status", "--json").stdout)
    assert status["ledger_lost"] == 5
    assert "ledger rebuild" in certpipe(ws, "--lang", "en", "status").stdout

    rebuilt = certpipe(ws, "ledger", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert "5" in rebuilt.stdout
    done = certpipe(ws, "run")
    assert done.returncode == 0, done.stdout + done.stderr
    after = numbers_in_outbox(ws)
    assert len(after) == 8 and len(set(after)) == 8 and set(before) <= set(after)  # never twice
    assert numbers_in_register(ws) == after
    rows = {r["name"]: r for r in json.loads(certpipe(ws, "ledger", "--json").stdout)}
    assert rows["again.xlsx"]["status"] == "duplicate"  # the re-dropped file is recognised
    assert not (ws.outbox / "L-1" / "history").exists()  # and did not replace its published certificate


def test_a_rebuilt_ledger_keeps_revisions_counters_and_rejections(certified):
    ws, _ = certified
    resubmitted = workbook(ws, "a1-fixed.xlsx", sample_audit(audit_id="L-1", org="第一公司", target="92"))
    bad = ws.inbox / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    certpipe(ws, "run")
    assert not resubmitted.exists()
    with sqlite3.connect(ws.ledger) as db:
        old = {r[0]: r[1:] for r in db.execute("SELECT number, audit_id, year, seq FROM certificates")}
        (counter,) = db.execute("SELECT value FROM counters").fetchone()
        old_rows = sorted(db.execute("SELECT sha256, status, audit_id, revision FROM inputs "
                                     "WHERE status IN ('done', 'rejected')").fetchall())
    ws.ledger.unlink()
    assert certpipe(ws, "ledger", "rebuild").returncode == 0
    with sqlite3.connect(ws.ledger) as db:
        assert {r[0]: r[1:] for r in db.execute("SELECT number, audit_id, year, seq FROM certificates")} == old
        assert db.execute("SELECT value FROM counters").fetchone() == (counter,)
        assert sorted(db.execute("SELECT sha256, status, audit_id, revision FROM inputs")) == old_rows


def test_status_says_when_the_register_is_behind_and_watch_rewrites_it_when_it_starts(tmp_path):
    ws = make_ws(tmp_path)
    workbook(ws, "a.xlsx", sample_audit(audit_id="B-1"))
    assert certpipe(ws, "run").returncode == 0
    ws.register.unlink()  # a watcher killed after the last file left the inbox, before the register
    assert json.loads(certpipe(ws, "status", "--json").stdout)["register_behind"] is True
    watcher = subprocess.Popen([sys.executable, "-m", "pipeline", "-W", str(ws.root), "watch"], env=QUICK,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not ws.register.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        watcher.send_signal(signal.SIGTERM)
        watcher.communicate(timeout=30)
    assert ws.register.exists() and len(numbers_in_register(ws)) == 1
    assert json.loads(certpipe(ws, "status", "--json").stdout)["register_behind"] is False


def test_where_an_original_went_is_found_again_when_a_driver_starts(tmp_path):
    ws = make_ws(tmp_path)
    workbook(ws, "a.xlsx", sample_audit(audit_id="U-1"))
    assert certpipe(ws, "run").returncode == 0
    with sqlite3.connect(ws.ledger) as db:  # the crash between leaving the inbox and recording it
        (archived,) = db.execute("SELECT archived_to FROM inputs").fetchone()
        db.execute("UPDATE inputs SET archived_to = NULL")
    assert certpipe(ws, "run").returncode == 0
    with sqlite3.connect(ws.ledger) as db:
        assert db.execute("SELECT archived_to FROM inputs").fetchone() == (archived,)


def test_claims_left_behind_are_not_work_in_progress(tmp_path):
    ws = make_ws(tmp_path)
    workbook(ws, "a.xlsx", sample_audit(audit_id="C-1"))
    assert certpipe(ws, "run").returncode == 0
    with sqlite3.connect(ws.ledger) as db:
        db.execute("INSERT INTO inputs (sha256, name, size, mtime, received_at, status) "
                   "VALUES ('x', 'left.xlsx', 1, '', '', 'processing')")
    assert json.loads(certpipe(ws, "status", "--json").stdout)["in_progress"] == 0  # nobody holds the workspace
    assert certpipe(ws, "run").returncode == 0
    with sqlite3.connect(ws.ledger) as db:
        assert db.execute("SELECT count(*) FROM inputs WHERE status = 'processing'").fetchone() == (0,)


def test_the_register_that_cannot_be_written_is_said_and_the_run_goes_on(tmp_path, monkeypatch):
    from pipeline.flow import register
    from tests.helpers.workspace import run

    ws = make_ws(tmp_path)
    workbook(ws, "a.xlsx", sample_audit(audit_id="W-1"))

    def full(*args, **kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(register, "write_register", full)
    result = run(ws)
    assert [o.status for o in result.outcomes] == ["done"]
    assert result.register_error.key == "register.not_written"
    assert "No space left" in result.register_error.render("en")


def test_a_ledger_restored_from_an_old_copy_is_refused_and_no_number_is_issued_twice(certified):
    ws, _ = certified
    old_copy = ws.root / "ledger-backup.sqlite"
    shutil.copy(ws.ledger, old_copy)  # (its write-ahead log was folded in when the run closed it)
    workbook(ws, "x.xlsx", sample_audit(audit_id="X-1", org="后来的公司"))
    assert certpipe(ws, "run").returncode == 0
    issued = numbers_in_outbox(ws)
    shutil.copy(old_copy, ws.ledger)  # the old copy put back
    for suffix in ("-wal", "-shm"):
        ws.ledger.with_name(ws.ledger.name + suffix).unlink(missing_ok=True)
    workbook_after = sample_audit(audit_id="Y-1", org="又一家公司")
    refused = certpipe(ws, "run")
    assert refused.returncode == 2 and "ledger rebuild" in refused.stderr, refused.stderr
    assert certpipe(ws, "ledger", "rebuild").returncode == 0
    workbook(ws, "y.xlsx", workbook_after)
    assert certpipe(ws, "run").returncode == 0
    after = numbers_in_outbox(ws)
    assert len(after) == len(issued) + 1 and len(set(after)) == len(after)


def test_a_rebuild_keeps_the_numbers_of_an_audit_moved_out_of_the_outbox(certified):
    ws, _ = certified
    moved = sorted(ws.outbox.glob("L-*"))[-1]
    number = json.loads((moved / "scorecard.json").read_text(encoding="utf-8"))["certificate"]["number"]
    shutil.move(moved, ws.root / "elsewhere")
    assert certpipe(ws, "ledger", "rebuild", "--force").returncode == 0  # the ledger itself is sound
    workbook(ws, "z.xlsx", sample_audit(audit_id="Z-1", org="新公司"))
    assert certpipe(ws, "run").returncode == 0
    z = json.loads((ws.outbox / "Z-1" / "scorecard.json").read_text(encoding="utf-8"))["certificate"]["number"]
    assert z != number  # the number of the audit moved away is never given again
    assert len(set(numbers_in_outbox(ws))) == len(numbers_in_outbox(ws))


def test_the_kept_old_ledger_keeps_what_was_only_in_its_write_ahead_log(certified):
    ws, _ = certified
    writer = sqlite3.connect(ws.ledger)
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("INSERT INTO counters(scope, value) VALUES ('marker', 7)")
    writer.commit()  # in the log only, like a process killed before it closed the ledger
    assert certpipe(ws, "ledger", "rebuild", "--force").returncode == 0  # the ledger itself is sound
    writer.close()
    (kept,) = ws.state.glob("ledger.sqlite.*.old")
    assert sqlite3.connect(kept).execute("SELECT value FROM counters WHERE scope = 'marker'").fetchone() == (7,)


def test_a_duplicate_is_recorded_before_it_leaves_the_inbox(certified):
    ws, _ = certified
    first = next(ws.archive.rglob("a1.xlsx"))
    shutil.copy(first, ws.inbox / "copy.xlsx")
    crashed = certpipe(ws, "run", "--workers", "1", env={"CERTPIPE_POWER_CUT_AT": "archived"})
    assert crashed.returncode != 0
    rows = {r["name"]: r["status"] for r in json.loads(certpipe(ws, "ledger", "--json").stdout)}
    assert rows.get("copy.xlsx") == "duplicate" or (ws.inbox / "copy.xlsx").exists()


def test_no_false_alarm_after_a_crash_left_an_audit_published_and_unrecorded(tmp_path):
    ws = make_ws(tmp_path)
    path = workbook(ws, "fail.xlsx", sample_audit(audit_id="N-1", target="10"))  # no level: no certificate
    crashed = certpipe(ws, "run", "--workers", "1", env={"CERTPIPE_POWER_CUT_AT": "published"})
    assert crashed.returncode != 0 and (ws.outbox / "N-1").exists()
    path.unlink()  # the user took the file back
    assert certpipe(ws, "run").returncode == 0  # the claim is cleared: the ledger still knows the audit
    assert certpipe(ws, "run").returncode == 0


def test_a_rebuilt_counter_reads_the_whole_sequence_number_after_a_short_code_ending_in_digits():
    """``{standard}{seq}`` with ``GBT27922``: number 12 is ``GBT2792212``, not standard ``GBT279221``
    and number 2 (a counter read too small could give a number out again once the ledger is lost)."""
    from pipeline.flow.rebuild import number_pattern

    pattern = number_pattern("{standard}{seq}", ("GBT27922", "QHXC002", "ISI"))
    assert pattern.match("GBT2792212")["seq"] == "12"
    assert pattern.match("QHXC0025")["seq"] == "5"
    assert pattern.match("ISI123")["seq"] == "123"
    assert int(number_pattern("{standard}{seq}", ()).match("ZZ912")["seq"]) >= 12  # unknown: never too small
    dated = number_pattern("CP-{year}-{standard}-{seq:05d}", ("GBT27922",)).match("CP-2026-GBT27922-00012")
    assert (dated["year"], dated["seq"]) == ("2026", "00012")
