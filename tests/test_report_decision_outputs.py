"""The report and ``scorecard.json`` in the outbox say what happened to the certificate, end to end
through the ``certpipe`` command: review mode before and after ``decide --approve`` / ``--refuse``, a
surveillance that keeps the level (auto mode), one that changes it once approved, and a run with
``--pdf`` whose decision gets its PDFs. Every document is read back."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path

import docx
import pytest

from pipeline.excel.fill import fill_audit
from tests.helpers.workspace import certpipe, make_ws, sample_audit

GBT = "gbt27922-2011"


def _blank(ws, *args: str) -> Path:
    before = set(ws.root.glob("*.xlsx"))
    done = certpipe(ws, "new", GBT, "-o", str(ws.root), *args)
    assert done.returncode == 0, done.stdout + done.stderr
    (blank,) = set(ws.root.glob("*.xlsx")) - before
    return blank


def _fill(ws, blank: Path, org: str, target: str, audit_type: str = "初次认证") -> None:
    audit = sample_audit(audit_id=blank.stem, org=org, target=target)
    audit = replace(audit, info=replace(audit.info, audit_type=audit_type, lead_auditor="王立", auditors="王立、陈晓"))
    fill_audit(blank, ws.inbox / f"{blank.stem}-{target}.xlsx", audit)


def _json(ws, *args: str):
    done = certpipe(ws, *args, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def _scorecard(ws, audit_id: str) -> dict:
    return json.loads((ws.outbox / audit_id / "scorecard.json").read_text(encoding="utf-8"))


def _section8(ws, audit_id: str) -> str:
    """What the report's section 8 (certificate and surveillance) says."""
    paras = [p.text for p in docx.Document(str(ws.outbox / audit_id / f"{audit_id}-report.docx")).paragraphs]
    start = next(i for i, text in enumerate(paras) if text.startswith("8 "))
    end = next(i for i, text in enumerate(paras) if text.startswith("9 "))
    return "\n".join(paras[start + 1:end])


def _everything(ws, audit_id: str) -> str:
    d = docx.Document(str(ws.outbox / audit_id / f"{audit_id}-report.docx"))
    cells = [c.text for t in d.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in d.paragraphs] + cells)


def _run(ws, *args: str) -> None:
    done = certpipe(ws, "run", *args)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_review_mode_reports_the_wait_then_the_decision_taken(tmp_path):
    ws = make_ws(tmp_path)
    (ws.root / "certpipe.toml").write_text('[decision]\nmode = "review"\n', encoding="utf-8")
    first, second = _blank(ws, "--org", "甲公司"), _blank(ws, "--org", "乙公司")
    _fill(ws, first, "甲公司", "92")
    _fill(ws, second, "乙公司", "88")
    _run(ws)
    for audit in (first.stem, second.stem):
        waiting = _section8(ws, audit)
        assert "待认证决定" in waiting and "证书签发后确定" in waiting, waiting
        assert "未达到评价等级" not in waiting and "不颁发证书" not in waiting, waiting
        assert _scorecard(ws, audit)["decision"]["status"] == "pending"

    assert certpipe(ws, "decide", first.stem, "--approve", "--by", "赵决定").returncode == 0
    (cert,) = _json(ws, "certificates", "list")
    approved = _section8(ws, first.stem)
    assert "批准" in approved and cert["number"] in approved and "待认证决定" not in approved, approved
    assert f"{date.today().year}年" in approved
    assert "待认证决定" not in _everything(ws, first.stem)  # the cover's notice is gone too
    card = _scorecard(ws, first.stem)
    assert card["decision"]["status"] == "approved" and card["decision"]["certificate"] == cert["number"]
    assert card["certificate"]["number"] == cert["number"]
    assert card["certificate"]["surveillance_due"] == cert["surveillance_due"]

    assert certpipe(ws, "decide", second.stem, "--refuse", "--by", "赵决定", "--reason", "证据不足").returncode == 0
    refused = _section8(ws, second.stem)
    assert "不予颁发证书" in refused and "待认证决定" not in _everything(ws, second.stem), refused
    card = _scorecard(ws, second.stem)
    assert card["decision"]["status"] == "refused" and card["decision"]["certificate"] is None
    assert card["certificate"] is None
    assert not list((ws.outbox / second.stem).glob("*-certificate.*"))


@pytest.mark.slow
def test_a_surveillance_says_the_certificate_kept_or_changed(tmp_path):
    ws = make_ws(tmp_path)
    first = _blank(ws, "--org", "己公司")
    _fill(ws, first, "己公司", "92")
    _run(ws)
    (issued,) = _json(ws, "certificates", "list")
    said = _section8(ws, first.stem)
    assert issued["number"] in said and "颁发证书" in said and "未达到评价等级" not in said, said

    kept = _blank(ws, "--type", "surveillance", "--certificate", issued["number"])
    _fill(ws, kept, "己公司", "92", audit_type="监督审核")
    _run(ws)
    said = _section8(ws, kept.stem)
    assert "监督审核通过" in said and issued["number"] in said and "未达到评价等级" not in said, said
    assert _scorecard(ws, kept.stem)["decision"] == {"status": "maintained", "kind": None,
                                                     "certificate": issued["number"]}

    changed = _blank(ws, "--type", "surveillance", "--certificate", issued["number"])
    _fill(ws, changed, "己公司", "82", audit_type="监督审核")
    _run(ws)
    said = _section8(ws, changed.stem)
    assert "待认证决定" in said and issued["number"] in said and "保持原样" in said, said
    assert certpipe(ws, "decide", changed.stem, "--approve", "--by", "赵决定").returncode == 0
    (now,) = _json(ws, "certificates", "list")
    said = _section8(ws, changed.stem)
    assert "批准" in said and "改为" in said and issued["number"] in said and "待认证决定" not in said, said
    due = date.fromisoformat(now["surveillance_due"])
    assert f"{due.year}年{due.month}月{due.day}日" in said  # the next surveillance as the ledger holds it
    card = _scorecard(ws, changed.stem)
    assert card["decision"]["status"] == "approved" and card["decision"]["certificate"] == issued["number"]


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          timeout=60, check=True).stdout


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                    reason="LibreOffice or pdftotext is not installed")
def test_a_decision_after_run_pdf_gives_the_certificate_and_the_new_report_their_pdfs(tmp_path, monkeypatch):
    ws = make_ws(tmp_path)
    (ws.root / "certpipe.toml").write_text('[decision]\nmode = "review"\n', encoding="utf-8")
    blank, other = _blank(ws, "--org", "甲公司"), _blank(ws, "--org", "乙公司")
    _fill(ws, blank, "甲公司", "92")
    _fill(ws, other, "乙公司", "92")
    _run(ws, "--pdf")
    folder = ws.outbox / blank.stem
    assert "待认证决定" in _pdf_text(folder / f"{blank.stem}-report.pdf")
    assert certpipe(ws, "decide", blank.stem, "--approve", "--by", "赵决定").returncode == 0
    (cert,) = _json(ws, "certificates", "list")
    pdf = folder / f"{blank.stem}-certificate.pdf"
    assert pdf.is_file() and cert["number"] in _pdf_text(pdf)
    report = _pdf_text(folder / f"{blank.stem}-report.pdf")
    squeezed = "".join(report.split()).replace("-", "")  # a line may break inside the number
    assert "批准" in report and cert["number"].replace("-", "") in squeezed and "待认证决定" not in report

    # LibreOffice gone by the time of the decision: the report says the decision all the same, and
    # the run's PDF, which would say it is awaited, is not left behind
    import pipeline
    from pipeline.word import pdf as pdf_module

    monkeypatch.setattr(pdf_module, "find_soffice", lambda: None)
    pipeline.decide(other.stem, approve=False, by="赵决定", reason="证据不足", workspace=ws.root)
    assert "不予颁发证书" in _section8(ws, other.stem)
    assert not (ws.outbox / other.stem / f"{other.stem}-report.pdf").exists()
    assert _scorecard(ws, other.stem)["decision"]["status"] == "refused"
