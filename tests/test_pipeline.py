"""The inbox pipeline end to end on real workbooks: outputs, rejections, duplicates, revisions,
the register, crash safety and the demo."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from pipeline.config import Config
from pipeline.core.audit import Audit
from pipeline.excel.build import build_workbook
from pipeline.excel.fill import fill_audit
from pipeline.excel.samples import entries_for, samples, write_samples
from pipeline.flow.faults import POINTS
from pipeline.flow.ledger import Ledger
from pipeline.flow.standards import all_standards, load_standard
from pipeline.workspace import Workspace
from tests.helpers.paths import ROOT
from tests.helpers.workspace import certpipe, make_ws, record, run, sample_audit, workbook


def test_mixed_batch_good_bad_and_duplicate(tmp_path: Path):
    ws = make_ws(tmp_path)
    good = workbook(ws, "good.xlsx", sample_audit(audit_id="T-1"))
    shutil.copy(good, ws.inbox / "good-copy.xlsx")  # same content under another name
    workbook(ws, "isi.xlsx", sample_audit("info-system-integration", "T-2", "182"))
    workbook(ws, "low.xlsx", sample_audit(audit_id="T-3", target="55"))
    (ws.inbox / "notes.xlsx").write_text("not a workbook at all")
    result = run(ws, workers=2)
    by_name = {o.name: o for o in result.outcomes}
    statuses = sorted(o.status for o in result.outcomes)
    assert statuses == ["done", "done", "done", "duplicate", "rejected"], by_name
    assert by_name["notes.xlsx"].status == "rejected"
    # outputs: report always, certificate only with a level
    t1 = ws.outbox / "T-1"
    assert (t1 / "T-1-report.docx").is_file() and (t1 / "T-1-certificate.docx").is_file()
    card = json.loads((t1 / "scorecard.json").read_text(encoding="utf-8"))
    assert card["audit_id"] == "T-1" and Decimal(str(card["total"])) >= 80
    assert not (ws.outbox / "T-3" / "T-3-certificate.docx").exists()
    assert (ws.outbox / "T-3" / "T-3-report.docx").is_file()
    assert (ws.outbox / "T-2" / "T-2-certificate.docx").is_file()
    # the report really carries the organisation and total
    text = "\n".join(p.text for p in Document(t1 / "T-1-report.docx").paragraphs)
    text += "\n".join(c.text for t in Document(t1 / "T-1-report.docx").tables for r in t.rows for c in r.cells)
    assert "测试服务有限公司" in text
    # rejected: original, problems.txt
    rejected = ws.rejected / "notes"
    assert (rejected / "notes.xlsx").read_text() == "not a workbook at all"
    assert (rejected / "problems.txt").read_text(encoding="utf-8").strip()
    # inbox emptied, originals archived, nothing left in staging
    assert list(ws.inbox.iterdir()) == []
    assert len(list(ws.archive.rglob("*.xlsx"))) == 5
    assert list((ws.outbox / ".staging").iterdir()) == []
    # ledger and register
    ledger = Ledger(ws.state / "ledger.sqlite")
    rows = ledger.rows()
    assert sorted(r.status for r in rows) == statuses
    assert all(r.archived_to for r in rows)
    numbers = [r.certificate_no for r in rows if r.certificate_no]
    assert len(numbers) == len(set(numbers)) == 2
    reg = load_workbook(ws.outbox / "register.xlsx").active
    assert reg.max_row == 3 and {reg.cell(r, 1).value for r in (2, 3)} == set(numbers)


def test_resubmission_is_a_revision_and_keeps_the_certificate_number(tmp_path: Path):
    ws = make_ws(tmp_path)
    workbook(ws, "a.xlsx", sample_audit(audit_id="T-9", target="82"))
    first = run(ws).outcomes[0]
    assert first.revision == 1 and first.certificate_no
    workbook(ws, "a.xlsx", sample_audit(audit_id="T-9", target="96"))
    second = run(ws).outcomes[0]
    assert second.status == "done" and second.revision == 2
    assert second.certificate_no == first.certificate_no
    folder = ws.outbox / "T-9"
    assert (folder / "history" / "r1" / "T-9-report.docx").is_file()
    assert json.loads((folder / "scorecard.json").read_text(encoding="utf-8"))["revision"] == 2
    reg = load_workbook(ws.outbox / "register.xlsx").active
    assert reg.max_row == 2  # one certificate, updated


def test_formula_like_organisation_is_text_in_the_register(tmp_path: Path):
    ws = make_ws(tmp_path)
    hostile = "=HYPERLINK(\"http://evil\",\"click\")"
    workbook(ws, "h.xlsx", sample_audit(audit_id="T-H", org=hostile))
    outcome = run(ws).outcomes[0]
    assert outcome.status == "done", outcome
    cell = load_workbook(ws.outbox / "register.xlsx").active.cell(2, 2)
    assert cell.value == hostile and cell.data_type == "s"


@pytest.mark.parametrize("point", POINTS)
def test_a_crash_at_any_point_loses_nothing_and_publishes_once(tmp_path: Path, point: str):
    ws = make_ws(tmp_path)
    workbook(ws, "a.xlsx", sample_audit(audit_id="C-1"))
    workbook(ws, "b.xlsx", sample_audit(audit_id="C-2", target="75"))
    (ws.inbox / "c.xlsx").write_bytes(b"PK\x03\x04 truncated")
    crashed = certpipe(ws, "run", "--workers", "1", env={"CERTPIPE_POWER_CUT_AT": point})
    assert crashed.returncode == -9, crashed.stderr
    # nothing half-written where users look
    assert not [p for p in ws.outbox.iterdir() if p.name not in (".staging", "_rejected", "C-1", "C-2", "C-3")]
    again = certpipe(ws, "run", "--workers", "1")
    assert again.returncode in (0, 1), again.stderr
    assert list(ws.inbox.iterdir()) == []
    assert sorted(p.name for p in ws.archive.rglob("*.xlsx")) == ["a.xlsx", "b.xlsx", "c.xlsx"]
    rows = Ledger(ws.state / "ledger.sqlite").rows()
    assert sorted((r.name, r.status) for r in rows) == [("a.xlsx", "done"), ("b.xlsx", "done"), ("c.xlsx", "rejected")]
    assert sorted(p.name for p in ws.outbox.iterdir() if not p.name.startswith(".")) == ["C-1", "C-2", "_rejected",
                                                                                        "register.xlsx"]
    assert [p.name for p in ws.rejected.iterdir()] == ["c"]
    for audit_id in ("C-1", "C-2"):
        assert not (ws.outbox / audit_id / "history").exists()
        assert json.loads((ws.outbox / audit_id / "scorecard.json").read_text(encoding="utf-8"))["revision"] == 1
    assert list((ws.outbox / ".staging").iterdir()) == []


def test_demo_end_to_end(tmp_path: Path):
    result = certpipe(Workspace(tmp_path), "demo", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stderr
    ws = Workspace(tmp_path / "demo")
    rows = Ledger(ws.state / "ledger.sqlite").rows()
    standards = all_standards()
    levels = sum(len(s.levels) for s in standards)
    assert sum(r.status == "done" for r in rows) == levels + len(standards)
    assert sum(r.status == "rejected" for r in rows) == 1
    reached = {(r.standard, r.level) for r in rows if r.level}
    assert len(reached) == levels  # every level of every standard reached once
    assert "register.xlsx" in result.stdout.replace("\n", ""), result.stdout
    assert list(ws.inbox.iterdir()) == []


def test_write_samples_make_real_workbooks(tmp_path: Path):
    std = load_standard("qhxc013-2018")
    written = write_samples([std], tmp_path / "inbox", tmp_path / "scratch")
    assert len(written) == len(std.levels) + 1 + 1
    wb = load_workbook(written[0])
    assert "org_name" in wb.defined_names


def test_a_rejection_that_was_not_the_files_fault_is_retried_when_dropped_again(tmp_path: Path):
    ws = make_ws(tmp_path)
    drafts = make_ws(tmp_path / "drafts")
    std_src = ROOT / "standards" / "qhxc013-2018.yaml"
    (drafts.root / "standards").mkdir()
    (drafts.root / "standards" / "acme-2026.yaml").write_text(
        std_src.read_text(encoding="utf-8").replace("key: qhxc013-2018", "key: acme-2026"), encoding="utf-8")
    acme = load_standard("acme-2026", drafts.root)
    blank = build_workbook(acme, samples([acme])[0].audit.info, drafts.root / "blank.xlsx")
    audit = Audit("acme-2026", acme.edition, replace(samples([acme])[0].audit.info, audit_id="R-1"),
                  entries_for(acme, Decimal(120)))
    fill_audit(blank, drafts.inbox / "acme.xlsx", audit)
    shutil.copy(drafts.inbox / "acme.xlsx", ws.inbox / "acme.xlsx")
    first = run(ws).outcomes[0]
    assert first.status == "rejected" and "acme-2026" in first.problems[0].format()
    # the scheme manager adds the standard; the same file dropped again is processed, not a duplicate
    (ws.root / "standards").mkdir()
    shutil.copy(drafts.root / "standards" / "acme-2026.yaml", ws.root / "standards")
    record(ws, audit, acme)  # generated for this workspace, before its standard was installed here
    shutil.copy(drafts.inbox / "acme.xlsx", ws.inbox / "acme.xlsx")
    second = run(ws).outcomes[0]
    assert second.status == "done" and second.level
    assert sorted(r.status for r in Ledger(ws.state / "ledger.sqlite").rows()) == ["done", "retried"]


def test_certificate_numbers_use_the_standards_short_code(tmp_path: Path):
    ws = make_ws(tmp_path)
    workbook(ws, "isi.xlsx", sample_audit("info-system-integration", "N-1", "185"))
    outcome = run(ws).outcomes[0]
    assert outcome.certificate_no.startswith(f"CP-{date.today().year}-ISI-")


def test_a_worker_that_dies_fails_only_its_files_and_loses_nothing(tmp_path: Path, monkeypatch):
    ws = make_ws(tmp_path)
    for i in range(3):
        workbook(ws, f"w{i}.xlsx", sample_audit(audit_id=f"K-{i}"))
    monkeypatch.setenv("CERTPIPE_CRASH_AT", "rendered")  # every worker kills itself mid-file
    result = run(ws, workers=2)
    assert sorted(o.status for o in result.outcomes) == ["failed"] * 3
    assert sorted(p.name for p in ws.inbox.iterdir()) == ["w0.xlsx", "w1.xlsx", "w2.xlsx"]
    assert (ws.outbox / "register.xlsx").exists()
    monkeypatch.delenv("CERTPIPE_CRASH_AT")
    again = run(ws, workers=2)
    assert sorted(o.status for o in again.outcomes) == ["done"] * 3
    assert sorted(r.status for r in Ledger(ws.state / "ledger.sqlite").rows()) == ["done"] * 3


@pytest.mark.slow
def test_a_worker_stuck_past_its_time_limit_is_ended_and_replaced(tmp_path: Path, monkeypatch):
    """A file that holds its worker out of Python's reach (a native library stuck on it) past the time
    limit: the worker is ended, fresh workers finish what was left, the stuck file fails alone and
    stays in the inbox. Works with spawn (the Windows way) as with fork."""
    import pipeline.flow.run
    from pipeline.config import Limits
    from pipeline.flow.run import run_inbox

    ws = make_ws(tmp_path)
    names = ["a.xlsx", "b.xlsx"]
    paths = [workbook(ws, name, sample_audit(audit_id=f"H-{i}")) for i, name in enumerate(names)]
    monkeypatch.setattr(pipeline.flow.run, "OVERRUN_GRACE", 0.5)
    monkeypatch.setenv("CERTPIPE_STUCK_AT", "rendered")  # every file's worker gets stuck while rendering
    result = run_inbox(ws, Config(limits=Limits(seconds_per_file=6)), workers=2, settle=0)  # returns at all
    assert sorted((o.name, o.status, o.note.key) for o in result.outcomes) == [
        (name, "failed", "batch.worker_died") for name in names]
    assert all(p.is_file() for p in paths) and Ledger(ws.state / "ledger.sqlite").rows() == []
    monkeypatch.delenv("CERTPIPE_STUCK_AT")
    again = run_inbox(ws, Config(), workers=2, settle=0)  # fresh workers, nothing left behind in the way
    assert sorted((o.name, o.status) for o in again.outcomes) == [(name, "done") for name in names]


def test_the_register_shows_only_published_revisions(tmp_path: Path, monkeypatch):
    import pipeline.word.pdf
    from pipeline.flow.process import Processor
    from pipeline.flow.register import write_register

    ws = make_ws(tmp_path)
    workbook(ws, "a.xlsx", sample_audit(audit_id="G-1", org="旧名称有限公司"))
    assert run(ws).outcomes[0].status == "done"
    path = workbook(ws, "a.xlsx", sample_audit(audit_id="G-1", org="新名称有限公司", target="95"))

    def broken(*args, **kwargs):
        raise RuntimeError("LibreOffice crashed")

    monkeypatch.setattr(pipeline.word.pdf, "convert_to_pdf", broken)
    with pytest.raises(RuntimeError):
        Processor(ws, Config(), pdf=True).process(path)
    assert path.exists()  # revision 2 was not published: it stays in the inbox
    write_register(Ledger(ws.state / "ledger.sqlite"), ws.outbox / "register.xlsx")
    assert load_workbook(ws.outbox / "register.xlsx").active.cell(2, 2).value == "旧名称有限公司"


def test_the_same_content_twice_in_one_group_is_a_duplicate_without_waiting_on_itself(tmp_path: Path, monkeypatch):
    import pipeline.word.pdf
    from pipeline.config import Limits
    from pipeline.flow.process import Processor

    def fake_pdf(paths, **kwargs):
        for p in paths:
            Path(p).with_suffix(".pdf").write_bytes(b"%PDF-1.4")
        return [Path(p).with_suffix(".pdf") for p in paths]

    monkeypatch.setattr(pipeline.word.pdf, "convert_to_pdf", fake_pdf)
    ws = make_ws(tmp_path)
    a = workbook(ws, "a.xlsx", sample_audit(audit_id="S-1"))
    shutil.copy(a, ws.inbox / "b.xlsx")
    c = workbook(ws, "c.xlsx", sample_audit(audit_id="S-2"))
    processor = Processor(ws, Config(limits=Limits(seconds_per_file=3600)), pdf=True)
    outcomes = processor.process_many([a, ws.inbox / "b.xlsx", c])
    assert [o.status for o in outcomes] == ["done", "duplicate", "done"]  # b: once a's outcome is in
    assert (ws.outbox / "S-1" / "S-1-report.pdf").is_file()
    assert sorted(p.name for p in ws.archive.rglob("*.xlsx")) == ["a.xlsx", "b.xlsx", "c.xlsx"]


def test_in_a_group_each_input_fails_alone(tmp_path: Path, monkeypatch):
    from pipeline.flow.process import Processor

    ws = make_ws(tmp_path)
    paths = [workbook(ws, f"g{i}.xlsx", sample_audit(audit_id=f"G-{i}")) for i in range(3)]
    (ws.inbox / "bad.xlsx").write_bytes(b"not a workbook")
    processor = Processor(ws, Config())
    real = processor.renderer.render

    def render(audit, *args, **kwargs):
        if audit.info.audit_id == "G-1":
            raise RuntimeError("the template broke")
        return real(audit, *args, **kwargs)

    monkeypatch.setattr(processor.renderer, "render", render)
    outcomes = processor.process_many([*paths, ws.inbox / "bad.xlsx"])
    processor.close()
    assert [o.status for o in outcomes] == ["done", "failed", "done", "rejected"]
    assert "the template broke" in outcomes[1].note.render()
    assert [p.name for p in ws.inbox.iterdir()] == ["g1.xlsx"]  # only the failed one stays
    rows = Ledger(ws.state / "ledger.sqlite").rows()
    assert sorted((r.name, r.status) for r in rows) == [("bad.xlsx", "rejected"), ("g0.xlsx", "done"),
                                                        ("g2.xlsx", "done")]
    assert all(r.archived_to for r in rows)
    assert sorted(p.name for p in ws.outbox.iterdir()) == [".staging", "G-0", "G-2", "_rejected"]
    assert list((ws.outbox / ".staging").iterdir()) == []


def test_content_another_worker_holds_is_waited_for_after_the_group(tmp_path: Path):
    """A group never waits while it holds claims (two workers could wait on each other): the input
    whose content another worker has in hand is taken again once the group is over, and waits then."""
    import threading

    from pipeline.config import Limits
    from pipeline.flow.intake_file import take
    from pipeline.flow.process import Processor

    ws = make_ws(tmp_path)
    first = workbook(ws, "first.xlsx", sample_audit(audit_id="W-1"))
    copy = ws.inbox / "copy.xlsx"
    held = workbook(ws, "held.xlsx", sample_audit(audit_id="W-2"))
    shutil.copy(held, copy)
    other = Ledger(ws.state / "ledger.sqlite")  # the other worker, in the middle of processing held.xlsx
    taken = take(held, tmp_path / "scratch.xlsx", max_bytes=2**30)
    row = other.claim(taken.sha256, "held.xlsx", taken.size, taken.mtime)
    other.close()

    def other_finishes() -> None:
        with Ledger(ws.state / "ledger.sqlite") as ledger:
            ledger.finish(row, status="done", output="outbox/W-2")

    threading.Timer(0.5, other_finishes).start()
    processor = Processor(ws, Config(limits=Limits(seconds_per_file=10)))
    outcomes = processor.process_many([first, copy])
    processor.close()
    assert [o.status for o in outcomes] == ["done", "duplicate"]  # waited for the other's outcome
    assert outcomes[1].seconds < 10
    assert sorted(p.name for p in ws.inbox.iterdir()) == ["held.xlsx"]


def test_after_a_worker_died_what_the_stopped_workers_finished_is_reported_as_finished(tmp_path: Path):
    from pipeline.flow.ledger import now
    from pipeline.flow.run import _finished_meanwhile

    ws = make_ws(tmp_path)
    began = now()
    a = workbook(ws, "a.xlsx", sample_audit(audit_id="F-1"))
    b = workbook(ws, "b.xlsx", sample_audit(audit_id="F-2"))
    run(ws)  # both finished and archived (as a worker stopped right after would leave them)
    c = workbook(ws, "c.xlsx", sample_audit(audit_id="F-3"))  # still in the inbox: run again, not reported
    gone = ws.inbox / "gone.xlsx"  # vanished without a trace: run again, then skipped
    outcomes = {o.name: o for o in _finished_meanwhile(ws, [a, b, c, gone], began)}
    assert sorted(outcomes) == ["a.xlsx", "b.xlsx"]
    assert outcomes["a.xlsx"].status == "done" and outcomes["a.xlsx"].audit_id == "F-1"
    assert outcomes["b.xlsx"].output == "outbox/F-2" and "stopped afterwards" in outcomes["b.xlsx"].note.render("en")


def test_an_archive_that_cannot_be_synced_keeps_the_originals_and_loses_no_outcome(tmp_path: Path, monkeypatch):
    import errno

    import pipeline.flow.process
    from pipeline.flow.process import Processor

    ws = make_ws(tmp_path)
    paths = [workbook(ws, f"s{i}.xlsx", sample_audit(audit_id=f"S-{i}")) for i in range(2)]
    real = pipeline.flow.process.fsync_dir

    def failing(folder):
        if ws.archive in folder.parents:
            raise OSError(errno.EIO, "Input/output error")
        real(folder)

    monkeypatch.setattr(pipeline.flow.process, "fsync_dir", failing)
    processor = Processor(ws, Config())
    outcomes = processor.process_many(paths)  # returns: the error is each input's, not the group's
    assert [o.status for o in outcomes] == ["failed", "failed"] and "Input/output error" in outcomes[0].note.render()
    assert sorted(p.name for p in ws.inbox.iterdir()) == ["s0.xlsx", "s1.xlsx"]
    assert not list(ws.archive.rglob("*.xlsx"))  # no copy left that might not last
    assert [(r.status, r.archived_to) for r in Ledger(ws.state / "ledger.sqlite").rows()] == [("done", None)] * 2
    monkeypatch.setattr(pipeline.flow.process, "fsync_dir", real)
    again = processor.process_many(paths)  # published and recorded before: only archived now
    processor.close()
    assert [o.status for o in again] == ["done", "done"] and list(ws.inbox.iterdir()) == []
    assert all(r.archived_to for r in Ledger(ws.state / "ledger.sqlite").rows())


def test_a_revision_that_fails_after_replacing_the_folder_loses_nothing_published(tmp_path: Path, monkeypatch):
    """The folder a new revision replaces is parked directly in outbox/.staging, where the next
    start's clean-up finds it (it used to be parked inside the input's scratch folder, which is
    deleted when the input fails)."""
    import pipeline.flow.publish
    from pipeline.flow.process import Processor
    from pipeline.flow.run import prepare

    ws = make_ws(tmp_path)
    workbook(ws, "a.xlsx", sample_audit(audit_id="P-1", target="75"))
    assert run(ws).outcomes[0].revision == 1
    path = workbook(ws, "a.xlsx", sample_audit(audit_id="P-1", target="95"))

    def stopped(parked, dest):
        raise OSError(5, "Input/output error")  # as if the process died right after the swap

    monkeypatch.setattr(pipeline.flow.publish, "_keep_history", stopped)
    processor = Processor(ws, Config())
    assert processor.process_many([path])[0].status == "failed"
    processor.close()
    monkeypatch.undo()
    prepare(ws)  # what the next run or watch does first
    revision_1 = ws.outbox / "P-1" / "history" / "r1"
    assert (revision_1 / "P-1-report.docx").is_file() and (revision_1 / "scorecard.json").is_file()
    assert path.is_file()  # not recorded: processed again by the next run


def test_revisions_published_but_never_recorded_keep_their_numbers_in_any_order(tmp_path: Path, monkeypatch):
    """Two revisions of one audit published, then the ledger fails before recording them (or the
    process dies): both stay in the inbox. Taken again in the other order, each gets the number it was
    published under (its content hash is in the folder), so neither replaces the other."""
    from pipeline.errors import LedgerError
    from pipeline.flow.process import Processor

    ws = make_ws(tmp_path)
    a = workbook(ws, "a.xlsx", sample_audit(audit_id="R-1", target="75"))
    b = workbook(ws, "b.xlsx", sample_audit(audit_id="R-1", target="95"))
    processor = Processor(ws, Config())

    def broken(*args, **kwargs):
        raise LedgerError(key="err.ledger_write", params={"path": "ledger.sqlite", "detail": "disk I/O error"})

    monkeypatch.setattr(processor.ledger, "finish_many", broken)
    assert [o.status for o in processor.process_many([a, b])] == ["failed", "failed"]
    monkeypatch.undo()
    assert sorted(p.name for p in ws.inbox.iterdir()) == ["a.xlsx", "b.xlsx"]
    outcomes = processor.process_many([b, a])
    processor.close()
    assert {o.name: (o.status, o.revision) for o in outcomes} == {"b.xlsx": ("done", 2), "a.xlsx": ("done", 1)}
    folder = ws.outbox / "R-1"
    assert json.loads((folder / "scorecard.json").read_text(encoding="utf-8"))["total"] == 95
    assert json.loads((folder / "history" / "r1" / "scorecard.json").read_text(encoding="utf-8"))["total"] == 75
    rows = {r.name: r.revision for r in Ledger(ws.state / "ledger.sqlite").rows()}
    assert rows == {"a.xlsx": 1, "b.xlsx": 2}


def test_a_group_stages_its_inputs_together_and_names_shown_alike_apart(tmp_path: Path):
    """A group's inputs are copied into one staging folder (a folder made and removed per input was a
    tenth of a bulk run's file creations); two names shown alike (bytes that are not UTF-8 become
    U+FFFD) would meet there: the second gets a folder of its own, and each is processed from its
    own copy."""
    import os
    import sys

    import pipeline.flow.process as process
    from pipeline.flow.process import Processor

    if os.name == "nt" or sys.platform == "darwin":
        pytest.skip("names that are not UTF-8 need a POSIX file system that takes any bytes")
    ws = make_ws(tmp_path)
    names = [os.fsdecode(b"a\xfe.xlsx"), os.fsdecode(b"a\xff.xlsx"), "b.xlsx"]
    for i, name in enumerate(names):
        os.rename(workbook(ws, f"w{i}.xlsx", sample_audit(audit_id=f"S-{i}", target="95")), ws.inbox / name)
    made, real = [], process.staging_dir

    def counted(outbox: Path) -> Path:
        made.append(real(outbox))
        return made[-1]

    processor = Processor(ws, Config())
    process.staging_dir = counted
    try:
        outcomes = processor.process_many([ws.inbox / n for n in names])
    finally:
        process.staging_dir = real
        processor.close()
    assert [(o.status, o.audit_id) for o in outcomes] == [("done", "S-0"), ("done", "S-1"), ("done", "S-2")]
    assert outcomes[0].name == outcomes[1].name == "a\ufffd.xlsx"
    # one folder for the group's copies, one for the second name shown alike, one per input's documents
    assert len(made) == 1 + 1 + 3
    assert list((ws.outbox / ".staging").iterdir()) == [] and list(ws.inbox.iterdir()) == []
