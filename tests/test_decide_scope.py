"""A later audit that changes what a certificate prints of the organisation — its scope, its name,
its credit code — is not a silent re-issue: in review mode a revision waits for a decision that
shows before → after; in auto mode it is re-issued and the change is said in the outcome and kept in
the history; a surveillance with another scope waits in both modes (it cannot change the
certificate by itself)."""

from __future__ import annotations

import html
import json
from dataclasses import replace
from pathlib import Path

from docx import Document

from pipeline.core.certify import Facts, Held, plan, printed_changes
from pipeline.excel.fill import fill_audit
from tests.helpers.workspace import certpipe, make_ws, sample_audit

GBT = "gbt27922-2011"
NARROW, WIDE = "城市道路清扫保洁服务", "城市道路清扫保洁服务；垃圾收集运输服务"


def _blank(ws, *args: str) -> Path:
    before = set(ws.root.glob("*.xlsx"))
    done = certpipe(ws, "new", GBT, "-o", str(ws.root), *args)
    assert done.returncode == 0, done.stdout + done.stderr
    (blank,) = set(ws.root.glob("*.xlsx")) - before
    return blank


def _fill(ws, blank: Path, org: str, scope: str, *, audit_type: str = "初次认证", name: str = "") -> Path:
    audit = sample_audit(audit_id=blank.stem, org=org, target="92")
    audit = replace(audit, info=replace(audit.info, audit_type=audit_type, lead_auditor="王立", auditors="王立、陈晓",
                                        scope=scope))
    dest = ws.inbox / (name or f"{blank.stem}-{len(scope)}.xlsx")
    fill_audit(blank, dest, audit)
    return dest


def _json(ws, *args: str):
    done = certpipe(ws, *args, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def _text(docx: Path) -> str:
    doc = Document(str(docx))
    return "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells])


def test_the_rules():
    held = Held("N-1", "four-star", "issued", "2026-01-01")
    facts = Facts(audit_type="initial", level="four-star", ranks={"four-star": 1}, own=held, linked=None,
                  linked_number=None, review=True, changes=(("scope", "A", "B"),))
    assert plan(facts).action == "wait" and plan(facts).changes == (("scope", "A", "B"),)
    assert plan(replace(facts, review=False)).action == "reissue"
    assert plan(replace(facts, changes=())).action == "reissue"
    surveillance = replace(facts, audit_type="surveillance", own=None, linked=held, linked_number="N-1", review=False)
    assert plan(surveillance).action == "wait" and plan(surveillance).kind == "surveillance"
    assert plan(replace(surveillance, changes=())).action == "maintain"
    # the same text written otherwise is no change; a field the certificate does not keep is not compared
    kept = {"scope": "道路　清扫", "credit_code": "91abc"}
    assert printed_changes(kept, {"scope": "道路 清扫", "credit_code": "91ABC", "address": "x"}) == ()
    assert printed_changes({"organisation": "甲"}, {"organisation": "乙"}) == (("organisation", "甲", "乙"),)


def test_review_mode_a_revision_that_widens_the_scope_waits_and_shows_before_and_after(tmp_path):
    ws = make_ws(tmp_path)
    (ws.root / "certpipe.toml").write_text('[decision]\nmode = "review"\n', encoding="utf-8")
    blank = _blank(ws, "--org", "甲公司")
    _fill(ws, blank, "甲公司", NARROW)
    assert certpipe(ws, "run").returncode == 0
    assert certpipe(ws, "decide", blank.stem, "--approve", "--by", "赵决定").returncode == 0
    (issued,) = _json(ws, "certificates", "list")
    certificate = ws.outbox / blank.stem / f"{blank.stem}-certificate.docx"
    before = certificate.read_bytes()
    assert NARROW in _text(certificate) and WIDE not in _text(certificate)

    _fill(ws, blank, "甲公司", WIDE)  # the same level, a wider scope
    done = certpipe(ws, "run")
    assert done.returncode == 0 and "认证范围" in done.stdout and "待认证决定" in done.stdout, done.stdout
    assert certificate.read_bytes() == before  # carried unchanged into the new revision
    assert _json(ws, "certificates", "list")[0]["scope"] == NARROW
    (waiting,) = _json(ws, "decisions")
    assert waiting["kind"] == "revision" and waiting["number"] == issued["number"]
    assert waiting["changes"] == [{"field": "scope", "before": NARROW, "after": WIDE}]
    listed = certpipe(ws, "--lang", "en", "decisions").stdout.replace("\n", "")
    assert "scope" in listed and "→" in listed, listed
    history = _json(ws, "certificates", "show", issued["number"])["history"]
    assert [e["action"] for e in history] == ["issue"]

    assert certpipe(ws, "decide", blank.stem, "--approve", "--by", "赵决定", "--reason", "扩大范围").returncode == 0
    (now,) = _json(ws, "certificates", "list")
    assert now["number"] == issued["number"] and now["scope"] == WIDE
    assert WIDE in _text(certificate)


def test_auto_mode_a_revision_with_a_new_name_is_reissued_and_says_so(tmp_path):
    ws = make_ws(tmp_path)
    blank = _blank(ws, "--org", "乙公司")
    _fill(ws, blank, "乙公司", NARROW)
    assert certpipe(ws, "run").returncode == 0
    (issued,) = _json(ws, "certificates", "list")
    _fill(ws, blank, "乙公司", WIDE)
    done = certpipe(ws, "run")
    assert done.returncode == 0 and "证书上印的内容已改变" in done.stdout and WIDE in done.stdout, done.stdout
    assert _json(ws, "decisions") == []
    (now,) = _json(ws, "certificates", "list")
    assert now["number"] == issued["number"] and now["scope"] == WIDE
    last = _json(ws, "certificates", "show", issued["number"])["history"][-1]
    assert last["action"] == "revise" and last["by"] == "auto" and f"scope: {NARROW} → {WIDE}" == last["reason"]
    card = json.loads((ws.outbox / blank.stem / "scorecard.json").read_text(encoding="utf-8"))
    assert card["decision"]["changes"] == [{"field": "scope", "before": NARROW, "after": WIDE}]


def test_a_surveillance_with_another_scope_waits_even_in_auto_mode(tmp_path):
    ws = make_ws(tmp_path)
    blank = _blank(ws, "--org", "丙公司")
    _fill(ws, blank, "丙公司", NARROW)
    assert certpipe(ws, "run").returncode == 0
    (issued,) = _json(ws, "certificates", "list")
    surveillance = _blank(ws, "--type", "surveillance", "--certificate", issued["number"])
    _fill(ws, surveillance, "丙公司", WIDE, audit_type="监督审核")
    done = certpipe(ws, "run")
    assert done.returncode == 0 and "待认证决定" in done.stdout, done.stdout
    (waiting,) = _json(ws, "decisions")
    assert waiting["kind"] == "surveillance" and waiting["changes"][0]["after"] == WIDE
    assert _json(ws, "certificates", "show", issued["number"])["history"][-1]["action"] == "issue"  # not maintained
    assert certpipe(ws, "decide", surveillance.stem, "--approve", "--by", "赵决定").returncode == 0
    (now,) = _json(ws, "certificates", "list")
    assert now["scope"] == WIDE and now["surveillance_due"] > issued["surveillance_due"]


def test_the_console_shows_what_changes_and_refuses_a_lead_auditor_who_suspends(tmp_path):
    from starlette.testclient import TestClient

    from pipeline import api
    from pipeline.web import create_app
    from tests.helpers.console import csrf_of, log_in

    ws = make_ws(tmp_path)
    (ws.root / "certpipe.toml").write_text('[decision]\nmode = "review"\n', encoding="utf-8")
    blank = _blank(ws, "--org", "丁公司")
    _fill(ws, blank, "丁公司", NARROW)
    assert certpipe(ws, "run").returncode == 0
    assert certpipe(ws, "decide", blank.stem, "--approve", "--by", "赵决定").returncode == 0
    _fill(ws, blank, "丁公司", WIDE)
    assert certpipe(ws, "run").returncode == 0
    api.add_user("zhao", "reviewer", "decider-pass-1", ws, full_name="赵决定")
    api.add_user("wang.li", "reviewer", "lead-pass-1", ws, full_name="王立（组长）")
    decider = TestClient(create_app(ws), base_url="http://testserver")
    log_in(decider, "zhao", "decider-pass-1")
    page = decider.get("/decisions").text
    assert "认证范围" in page and f"「{NARROW}」→「{WIDE}」" in page, page
    assert f'scope "{NARROW}" → "{WIDE}"' in html.unescape(decider.get("/decisions?lang=en").text)

    lead = TestClient(create_app(ws), base_url="http://testserver")
    log_in(lead, "wang.li", "lead-pass-1")
    (cert,) = _json(ws, "certificates", "list")
    csrf = csrf_of(lead.get(f"/certificates/{cert['number']}").text)
    refused = lead.post(f"/certificates/{cert['number']}/suspend", data={"csrf": csrf, "reason": "x"},
                        follow_redirects=False)
    assert refused.status_code == 400 and "不能暂停" in refused.text, refused.text[-2000:]
    assert _json(ws, "certificates", "list")[0]["status"] == "issued"
