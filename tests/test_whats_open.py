"""What is still open: a rejection shows the audit id it names, a later accepted submission resolves
it (it leaves status's recent rejections), and the ledger filters by audit, organisation, standard, date."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

from pipeline.excel.fill import fill_audit
from tests.helpers.workspace import certpipe, make_ws, sample_audit

GBT = "gbt27922-2011"


def test_a_rejection_names_its_audit_and_is_resolved_by_a_later_accepted_submission(tmp_path):
    ws = make_ws(tmp_path)
    assert certpipe(ws, "new", GBT, "--org", "丑公司", "-o", str(ws.root)).returncode == 0
    assert certpipe(ws, "new", GBT, "--org", "寅公司", "-o", str(ws.root)).returncode == 0
    first, second = sorted(ws.root.glob("GBT27922-*.xlsx"))
    good = sample_audit(audit_id=first.stem, org="丑公司", target="92")
    fill_audit(first, ws.inbox / "丑.xlsx", replace(good, info=replace(good.info, lead_auditor="")))  # a field missing
    other = sample_audit(audit_id=second.stem, org="寅公司", target="92")
    fill_audit(second, ws.inbox / "寅.xlsx", replace(other, info=replace(other.info, lead_auditor="")))
    rejected = certpipe(ws, "--lang", "en", "run")
    assert rejected.returncode == 1 and first.stem in rejected.stdout and second.stem in rejected.stdout

    status = json.loads(certpipe(ws, "status", "--json").stdout)
    assert {r["audit_id"] for r in status["last_rejected"]} == {first.stem, second.stem}

    fill_audit(first, ws.inbox / "丑-fixed.xlsx", good)
    assert certpipe(ws, "run").returncode == 0
    status = json.loads(certpipe(ws, "status", "--json").stdout)
    assert [r["audit_id"] for r in status["last_rejected"]] == [second.stem]  # the other is still open

    rows = json.loads(certpipe(ws, "ledger", "--audit", first.stem, "--json").stdout)
    assert [(r["status"], r["resolved"]) for r in rows] == [("rejected", True), ("done", False)]
    shown = certpipe(ws, "--lang", "en", "ledger", "--audit", first.stem)
    assert "resolved by a later submission" in shown.stdout
    assert [r["audit_id"] for r in json.loads(certpipe(ws, "ledger", "--org", "寅", "--json").stdout)] == [second.stem]
    assert json.loads(certpipe(ws, "ledger", "--standard", "nope", "--json").stdout) == []
    today = date.today().isoformat()
    assert len(json.loads(certpipe(ws, "ledger", "--since", today, "--until", today, "--json").stdout)) == 3
    assert json.loads(certpipe(ws, "ledger", "--since", "2099-01-01", "--json").stdout) == []
    assert certpipe(ws, "ledger", "--since", "yesterday").returncode == 2


def test_a_file_in_the_inbox_that_is_no_workbook_is_pointed_out(tmp_path, cli):
    """A clerk who dropped notes.txt or a report into the inbox is told it is left alone there, not
    shown an inbox with nothing waiting; an editor's lock and temporary files are not mentioned."""
    from tests.helpers.workspace import make_ws

    ws = make_ws(tmp_path)
    (ws.inbox / "notes 备注.txt").write_text("x", encoding="utf-8")
    (ws.inbox / "~$open.xlsx").write_text("lock", encoding="utf-8")
    (ws.inbox / "lu1234.tmp").write_text("tmp", encoding="utf-8")
    code, out, _ = cli("-W", ws.root, "status")
    assert code == 0 and "notes 备注.txt" in out and "~$open" not in out and "lu1234" not in out
    code, out, _ = cli("-W", ws.root, "run")
    assert "notes 备注.txt" in out and "不是评分表" in out
    assert (ws.inbox / "notes 备注.txt").is_file()
    code, out, _ = cli("-W", ws.root, "status", "--json")
    assert json.loads(out)["not_workbooks"] == ["notes 备注.txt"]


def test_a_folder_in_the_inbox_is_pointed_out_not_passed_over(tmp_path, cli):
    """Workbooks put in a folder inside the inbox (one per auditor, say) are never taken: status and
    run said the inbox held nothing waiting, and nothing about the folder."""
    from tests.helpers.workspace import make_ws, sample_audit, workbook

    ws = make_ws(tmp_path)
    (ws.inbox / "张伟").mkdir()
    (workbook(ws, "a.xlsx", sample_audit(audit_id="F-1"))).rename(ws.inbox / "张伟" / "a.xlsx")
    (ws.inbox / ".hidden").mkdir()  # an editor's or a sync tool's own folder: not mentioned
    code, out, _ = cli("-W", ws.root, "status")
    assert code == 0 and "张伟/" in out and "文件夹里的不处理" in out and ".hidden" not in out
    code, out, _ = cli("-W", ws.root, "--lang", "en", "run")
    assert "张伟/" in out and "inside a folder" in out
    assert (ws.inbox / "张伟" / "a.xlsx").is_file()
    code, out, _ = cli("-W", ws.root, "status", "--json")
    assert json.loads(out)["not_workbooks"] == ["张伟/"]


def test_an_audit_that_reached_no_level_says_so_in_the_ledger_and_in_find(tmp_path, cli):
    from tests.helpers.workspace import make_ws, run, sample_audit, workbook

    ws = make_ws(tmp_path)
    workbook(ws, "low.xlsx", sample_audit(audit_id="L-2026-001", target="20", org="低分公司"))
    run(ws)
    code, out, _ = cli("-W", ws.root, "ledger")
    assert code == 0 and "未达等级" in out
    code, out, _ = cli("-W", ws.root, "find", "低分")
    assert code == 0 and "未达等级" in out


def test_record_commands_in_a_folder_that_is_no_workspace_say_so(tmp_path, cli):
    """`due` in a folder that is no workspace said 近期没有到期事项 (exit 0), as if its records were empty."""
    bare = tmp_path / "bare"
    bare.mkdir()
    for args in (("due",), ("ledger",), ("find", "甲"), ("decisions",), ("certificates", "list")):
        code, out, err = cli("-W", bare, *args)
        assert code == 2 and "不是 certpipe 工作区" in out + err, args
    code, out, err = cli("-W", bare, "standards", "list")  # the built-in standards need no workspace
    assert code == 0


def test_due_workbooks_into_a_file_is_refused_in_words(tmp_path, cli):
    """`due --workbooks FILE` ended in an internal error (FileExistsError, exit 70)."""
    from tests.helpers.workspace import make_ws

    ws = make_ws(tmp_path)
    (ws.root / "existing.txt").write_text("x", encoding="utf-8")
    code, out, err = cli("-W", ws.root, "due", "--workbooks", ws.root / "existing.txt")
    assert code == 2 and "要的是目录" in out + err


def test_score_of_a_blocked_workbook_names_no_points_to_the_next_level(tmp_path, cli):
    """Five special deductions block every level: `score` said 距「★★★★ 四星」还差 4 分 as if four points
    would reach it."""
    from dataclasses import replace

    from tests.helpers.workspace import make_ws, sample_audit, workbook

    ws = make_ws(tmp_path)
    audit = sample_audit(audit_id="B-1", target="90")
    audit = replace(audit, entries=replace(audit.entries, deductions=5))
    path = workbook(ws, "b.xlsx", audit)
    _, out, _ = cli("-W", ws.root, "score", path)
    assert "专项扣分 5 项" in out and "还差" not in out
