"""A ledger made again from the outbox keeps the certification decisions: those waiting wait again
(and can be taken), those taken keep who took them, when and why (the audit's outbox folder records
each one), and a rebuild of a ledger that is sound says first what it would drop and asks for --force."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.excel.fill import fill_audit
from pipeline.flow.decision_record import JOURNAL, read_records
from pipeline.flow.ledger import Ledger
from tests.helpers.workspace import certpipe, make_ws, sample_audit

GBT = "gbt27922-2011"


def _json(ws, *args: str):
    done = certpipe(ws, *args, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def _blank(ws, org: str) -> Path:
    before = set(ws.root.glob("*.xlsx"))
    done = certpipe(ws, "new", GBT, "-o", str(ws.root), "--org", org)
    assert done.returncode == 0, done.stdout + done.stderr
    (blank,) = set(ws.root.glob("*.xlsx")) - before
    return blank


def _fill(ws, blank: Path, org: str, target: str) -> None:
    audit = sample_audit(audit_id=blank.stem, org=org, target=target)
    audit = replace(audit, info=replace(audit.info, audit_type="初次认证", lead_auditor="王立", auditors="王立、陈晓",
                                          org_credit_code=""))  # three organisations, not one
    fill_audit(blank, ws.inbox / f"{blank.stem}.xlsx", audit)


@pytest.fixture
def decided(tmp_path):
    """Review mode: three audits published and waiting; one approved, one refused, one left waiting."""
    ws = make_ws(tmp_path)
    (ws.root / "certpipe.toml").write_text('[decision]\nmode = "review"\n', encoding="utf-8")
    names = {"approved": "甲公司", "refused": "乙公司", "waiting": "丙公司"}
    ids = {}
    for role, org in names.items():
        blank = _blank(ws, org)
        _fill(ws, blank, org, "92")
        ids[role] = blank.stem
    assert certpipe(ws, "run").returncode == 0
    assert len(_json(ws, "decisions")) == 3
    approved = certpipe(ws, "decide", ids["approved"], "--approve", "--by", "赵决定", "--reason", "符合要求")
    assert approved.returncode == 0, approved.stderr
    refused = certpipe(ws, "decide", ids["refused"], "--refuse", "--by", "钱审定", "--reason", "证据不足")
    assert refused.returncode == 0, refused.stderr
    return ws, ids


def test_each_decision_taken_is_recorded_in_its_audits_outbox_folder(decided):
    ws, ids = decided
    (approval,) = read_records(ws.outbox / ids["approved"])
    (number,) = [c["number"] for c in _json(ws, "certificates", "list")]
    assert (approval["status"], approval["decided_by"], approval["reason"], approval["number"]) == \
        ("approved", "赵决定", "符合要求", number)
    assert approval["revision"] == 1 and approval["kind"] == "issue" and "王立" in approval["auditors"]
    (refusal,) = read_records(ws.outbox / ids["refused"])
    assert (refusal["status"], refusal["decided_by"], refusal["reason"]) == ("refused", "钱审定", "证据不足")
    assert not (ws.outbox / ids["waiting"] / JOURNAL).exists()


def test_a_line_cut_short_by_a_crash_is_skipped_and_the_next_record_is_whole(decided, tmp_path):
    ws, ids = decided
    journal = ws.outbox / ids["refused"] / JOURNAL
    journal.write_bytes(journal.read_bytes() + b'{"audit_id": "cut')
    assert [r["status"] for r in read_records(journal.parent)] == ["refused"]


def test_a_rebuilt_ledger_keeps_the_decisions_waiting_and_taken(decided):
    ws, ids = decided
    (number,) = [c["number"] for c in _json(ws, "certificates", "list")]
    ws.ledger.unlink()
    rebuilt = certpipe(ws, "ledger", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr

    # the one waiting waits again, with the team that may not decide it
    (waiting,) = _json(ws, "decisions")
    assert waiting["audit_id"] == ids["waiting"] and waiting["kind"] == "issue" and "王立" in waiting["auditors"]
    assert certpipe(ws, "decide", ids["waiting"], "--approve", "--by", "王立").returncode == 2  # still independent

    # the approved one has its certificate, and who decided
    shown = _json(ws, "certificates", "show", number)
    assert shown["audit_id"] == ids["approved"] and shown["status"] == "issued"
    assert ("issue", "赵决定", "符合要求") in [(h["action"], h["by"], h["reason"]) for h in shown["history"]]

    # who took each decision, when and why, as before
    with Ledger(ws.ledger, readonly=True) as ledger:
        rows = dict((r[0], r[1:]) for r in ledger.db.execute(
            "SELECT audit_id, status, decided_by, reason, number FROM decisions ORDER BY id"))
    assert rows[ids["approved"]] == ("approved", "赵决定", "符合要求", number)
    assert rows[ids["refused"]] == ("refused", "钱审定", "证据不足", None)
    assert rows[ids["waiting"]][0] == "pending"

    # and the one waiting can be decided: its certificate takes the next number
    done = certpipe(ws, "decide", ids["waiting"], "--approve", "--by", "孙决定")
    assert done.returncode == 0, done.stdout + done.stderr
    numbers = sorted(c["number"] for c in _json(ws, "certificates", "list"))
    assert len(numbers) == 2 and number in numbers and len(set(numbers)) == 2
    assert _json(ws, "decisions") == []


def test_a_rebuild_of_a_sound_ledger_says_what_it_would_drop_and_needs_force(decided):
    ws, ids = decided
    before = ws.ledger.read_bytes()
    asked = certpipe(ws, "ledger", "rebuild")
    assert asked.returncode == 2, asked.stdout + asked.stderr
    assert "--force" in asked.stderr and "Traceback" not in asked.stderr
    assert ws.ledger.read_bytes() == before  # nothing done
    assert not list(ws.ledger.parent.glob("*.old"))

    forced = certpipe(ws, "ledger", "rebuild", "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert list(ws.ledger.parent.glob("*.old"))
    assert [d["audit_id"] for d in _json(ws, "decisions")] == [ids["waiting"]]  # not dropped


def test_a_lost_ledger_is_rebuilt_without_force(decided):
    ws, _ = decided
    ws.ledger.write_bytes(b"")
    done = certpipe(ws, "ledger", "rebuild")
    assert done.returncode == 0, done.stdout + done.stderr


def _decision_found(ws, org: str) -> dict | None:
    (found,) = _json(ws, "find", org)
    (audit,) = found["audits"]
    return audit["decision"]


def test_find_shows_a_refused_audit_refused_before_and_after_a_rebuild(decided):
    ws, _ = decided
    for _ in ("intact", "rebuilt"):
        refused = _decision_found(ws, "乙公司")
        assert (refused["status"], refused["decided_by"], refused["reason"]) == ("refused", "钱审定", "证据不足")
        assert _decision_found(ws, "丙公司")["status"] == "pending"
        assert _decision_found(ws, "甲公司")["status"] == "approved"
        shown = certpipe(ws, "find", "乙公司").stdout
        assert "不予批准" in shown and "钱审定" in shown and "证据不足" in shown, shown
        assert "refused" in certpipe(ws, "--lang", "en", "find", "乙公司").stdout
        ws.ledger.unlink()
        assert certpipe(ws, "ledger", "rebuild").returncode == 0


def test_an_outbox_without_decision_records_gives_back_approvals_from_the_certificates_history(decided):
    """An outbox written before decisions were recorded: an approval comes back (by whom the certificate's
    history says); a refusal cannot, and its audit waits for a decision again, as the rebuild says."""
    ws, ids = decided
    for journal in ws.outbox.glob(f"*/{JOURNAL}"):
        journal.unlink()
    for card_path in ws.outbox.glob("*/scorecard.json"):  # as written then: approved, or still pending
        card = json.loads(card_path.read_text(encoding="utf-8"))
        if card.get("decision"):
            status = "approved" if card["decision"].get("status") == "approved" else "pending"
            card["decision"] = {k: v for k, v in card["decision"].items() if k in ("kind", "certificate")} | {
                "status": status}
            card_path.write_text(json.dumps(card, ensure_ascii=False), encoding="utf-8")
    ws.ledger.unlink()
    rebuilt = certpipe(ws, "ledger", "rebuild")
    assert rebuilt.returncode == 0 and "不予批准" in rebuilt.stdout, rebuilt.stdout + rebuilt.stderr
    approved = _decision_found(ws, "甲公司")
    assert (approved["status"], approved["decided_by"], approved["reason"]) == ("approved", "赵决定", "符合要求")
    assert sorted(d["audit_id"] for d in _json(ws, "decisions")) == sorted([ids["refused"], ids["waiting"]])


def test_the_ledger_shows_each_results_certification_decision(decided):
    """`ledger` showed a refused audit as 已出报告 92 四星, nothing more (found by a tester)."""
    ws, ids = decided
    rows = {r["audit_id"]: r for r in _json(ws, "ledger")}
    assert {role: rows[ids[role]]["decision"] for role in ids} == {
        "approved": "approved", "refused": "refused", "waiting": "pending"}
    shown = certpipe(ws, "ledger").stdout
    line = next(line for line in shown.splitlines() if ids["refused"] in line)
    assert "不予批准" in line, shown
    assert "waiting for the certification decision" in certpipe(ws, "--lang", "en", "ledger").stdout
