"""An audit that ends after today is not finished: its workbook is refused, naming the cover's end
date cell, so that no certificate is dated before its audit ended."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from openpyxl import load_workbook

from pipeline.flow.check_file import validate_file
from tests.helpers.workspace import certpipe, make_ws, sample_audit

GBT = "gbt27922-2011"


def _filled(ws, org: str, end: date) -> Path:
    from pipeline.excel.fill import fill_audit

    before = set(ws.root.glob("*.xlsx"))
    assert certpipe(ws, "new", GBT, "-o", str(ws.root), "--org", org).returncode == 0
    (blank,) = set(ws.root.glob("*.xlsx")) - before
    audit = sample_audit(audit_id=blank.stem, org=org, target="92")
    audit = replace(audit, info=replace(audit.info, audit_start=end - timedelta(days=1), audit_end=end))
    dest = ws.inbox / blank.name
    fill_audit(blank, dest, audit)
    return dest


def _end_cell(path: Path) -> str:
    ((sheet, ref),) = load_workbook(path).defined_names["audit_end"].destinations
    return f"{sheet}!{ref.replace('$', '')}"


def test_an_audit_that_ends_after_today_is_refused_naming_the_end_date_cell(tmp_path):
    ws = make_ws(tmp_path)
    tomorrow = date.today() + timedelta(days=1)
    later = _filled(ws, "甲公司", tomorrow)
    cell = _end_cell(later)
    checked = validate_file(later)
    (problem,) = checked.problems
    assert problem.key == "val.end_in_future" and f"{problem.sheet}!{problem.cell}" == cell
    assert checked.audit is None
    assert validate_file(later, today=tomorrow).problems == []  # the day it ends, it may be finished

    done = certpipe(ws, "run")
    assert done.returncode == 1, done.stdout + done.stderr
    assert tomorrow.isoformat() in done.stdout and "晚于今天" in done.stdout, done.stdout
    listed = certpipe(ws, "certificates", "list", "--json")
    assert json.loads(listed.stdout) == []
    problems = (ws.outbox / "_rejected").rglob("problems.txt")
    text = "\n".join(p.read_text(encoding="utf-8") for p in problems)
    assert cell.split("!")[1] in text and "审核尚未结束" in text, text


def test_an_audit_that_ended_today_is_accepted(tmp_path):
    ws = make_ws(tmp_path)
    _filled(ws, "乙公司", date.today())
    done = certpipe(ws, "run")
    assert done.returncode == 0, done.stdout + done.stderr
    (cert,) = json.loads(certpipe(ws, "certificates", "list", "--json").stdout)
    assert cert["issued_on"] == date.today().isoformat()


def test_a_surveillance_that_ended_before_its_certificate_was_issued_is_refused(tmp_path):
    from pipeline.excel.fill import fill_audit

    ws = make_ws(tmp_path)
    _filled(ws, "丙公司", date.today())
    assert certpipe(ws, "run").returncode == 0
    (cert,) = json.loads(certpipe(ws, "certificates", "list", "--json").stdout)
    before = set(ws.root.glob("*.xlsx"))
    made = certpipe(ws, "new", GBT, "-o", str(ws.root), "--type", "surveillance", "--certificate", cert["number"])
    assert made.returncode == 0, made.stderr
    (blank,) = set(ws.root.glob("*.xlsx")) - before
    yesterday = date.today() - timedelta(days=1)
    audit = sample_audit(audit_id=blank.stem, org="丙公司", target="92")
    audit = replace(audit, info=replace(audit.info, audit_type="监督审核", audit_start=yesterday, audit_end=yesterday))
    fill_audit(blank, ws.inbox / blank.name, audit)
    cell = _end_cell(ws.inbox / blank.name)
    done = certpipe(ws, "run")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "早于证书" in done.stdout and yesterday.isoformat() in done.stdout, done.stdout
    text = "\n".join(p.read_text(encoding="utf-8") for p in (ws.outbox / "_rejected").rglob("problems.txt"))
    assert cell.split("!")[1] in text, text
    history = json.loads(certpipe(ws, "certificates", "show", cert["number"], "--json").stdout)["history"]
    assert [e["action"] for e in history] == ["issue"]
