"""Independence of certification decisions (ISO/IEC 17065 7.6) when a cover writes a role beside a
name: ``刘洋（组长）`` is 刘洋, who may neither decide his audit nor suspend, restore or withdraw the
certificate it issued; two different people are never made one."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.core.persons import person_key, same_person
from pipeline.excel.fill import fill_audit
from tests.helpers.workspace import certpipe, make_ws, sample_audit

GBT = "gbt27922-2011"
LEAD, OTHERS = "刘洋（组长）", "陈静(技术专家)、周强"


@pytest.mark.parametrize("written", [
    "刘洋（组长）", "刘洋(组长)", "刘洋【组长】", "刘洋[组长]", "刘洋〔组长〕", "刘洋 (审核组长)", "刘洋（组长",
    "刘洋-组长", "刘洋 — 组长", "刘洋：组长", "组长：刘洋", "刘洋/组长", "刘洋 组长", "刘洋组长", "刘　洋", " 刘 洋 ",
])
def test_a_role_written_beside_a_name_leaves_the_name(written):
    assert person_key(written) == "刘洋"
    assert same_person(written, "刘洋")


@pytest.mark.parametrize(("one", "other"), [
    ("刘洋", "刘阳"), ("Jean-Pierre", "Jean-Paul"), ("Jean-Pierre", "Jean"), ("张专家", "张"),
    ("王立（组长）", "王立新"), ("Li Ming", "Li Mingyu"), ("（空缺）", ""), ("刘洋（组长）", "组长"),
])
def test_two_different_people_are_never_made_one(one, other):
    assert not same_person(one, other)


def test_english_names_with_a_role_and_case():
    assert same_person("Li Ming - Lead Auditor", "li ming")
    assert same_person("LI MING (expert)", "Li Ming")
    assert person_key("Jean-Pierre Dupont") == "jean-pierredupont"


# ---- end to end ----------------------------------------------------------------------------------
def _workbook(ws, org: str) -> Path:
    before = set(ws.root.glob("*.xlsx"))
    done = certpipe(ws, "new", GBT, "-o", str(ws.root), "--org", org)
    assert done.returncode == 0, done.stdout + done.stderr
    (blank,) = set(ws.root.glob("*.xlsx")) - before
    audit = sample_audit(audit_id=blank.stem, org=org, target="92")
    audit = replace(audit, info=replace(audit.info, lead_auditor=LEAD, auditors=OTHERS))
    fill_audit(blank, ws.inbox / blank.name, audit)
    return blank


def _json(ws, *args: str):
    done = certpipe(ws, *args, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_the_lead_auditor_with_his_role_written_may_not_decide_or_change_the_certificate(tmp_path):
    ws = make_ws(tmp_path)
    (ws.root / "certpipe.toml").write_text('[decision]\nmode = "review"\n', encoding="utf-8")
    blank = _workbook(ws, "甲公司")
    assert certpipe(ws, "run").returncode == 0
    (waiting,) = _json(ws, "decisions")
    assert waiting["auditors"][0] == LEAD

    for by in ("刘洋", "刘洋 组长", "陈静", "周强"):
        refused = certpipe(ws, "decide", blank.stem, "--approve", "--by", by)
        assert refused.returncode == 2 and "不能作出认证决定" in refused.stderr, (by, refused.stderr)
    refused = certpipe(ws, "decide", blank.stem, "--refuse", "--by", "陈静", "--reason", "x")
    assert refused.returncode == 2, refused.stderr
    assert _json(ws, "certificates", "list") == [] and len(_json(ws, "decisions")) == 1

    assert certpipe(ws, "decide", blank.stem, "--approve", "--by", "赵决定").returncode == 0
    (cert,) = _json(ws, "certificates", "list")
    number = cert["number"]

    # suspending, restoring, withdrawing are certification decisions too
    lead = certpipe(ws, "certificates", "suspend", number, "--by", "刘洋", "--reason", "未接受监督")
    assert lead.returncode == 2, lead.stdout + lead.stderr
    assert "刘洋" in lead.stderr and blank.stem in lead.stderr and "不能暂停" in lead.stderr
    assert "17065" in lead.stderr
    assert _json(ws, "certificates", "list")[0]["status"] == "issued"
    assert certpipe(ws, "certificates", "suspend", number, "--by", "赵决定", "--reason", "未接受监督").returncode == 0
    for by in ("刘洋（组长）", "陈 静"):
        again = certpipe(ws, "--lang", "en", "certificates", "restore", number, "--by", by, "--reason", "已整改")
        assert again.returncode == 2 and "may not restore" in again.stderr, again.stderr
    assert _json(ws, "certificates", "list")[0]["status"] == "suspended"
    withdraw = certpipe(ws, "certificates", "withdraw", number, "--by", "周强", "--reason", "x")
    assert withdraw.returncode == 2 and "不能撤销" in withdraw.stderr
    assert certpipe(ws, "certificates", "restore", number, "--by", "赵决定", "--reason", "已整改").returncode == 0
    history = _json(ws, "certificates", "show", number)["history"]
    assert [(e["action"], e["by"]) for e in history] == [("issue", "赵决定"), ("suspend", "赵决定"),
                                                         ("restore", "赵决定")]


def test_in_auto_mode_the_team_recorded_with_the_issue_may_not_suspend(tmp_path):
    ws = make_ws(tmp_path)
    _workbook(ws, "乙公司")
    assert certpipe(ws, "run").returncode == 0
    (cert,) = _json(ws, "certificates", "list")
    lead = certpipe(ws, "certificates", "suspend", cert["number"], "--by", "刘洋", "--reason", "x")
    assert lead.returncode == 2 and "不能暂停" in lead.stderr, lead.stderr
    # a cancellation at the holder's request decides nothing about conformity: anyone records it
    cancelled = certpipe(ws, "certificates", "cancel", cert["number"], "--by", "刘洋", "--reason", "持证方申请")
    assert cancelled.returncode == 0, cancelled.stderr
