"""A notice of a certificate's change says it is a specimen when the certificate would be one: a
workspace whose ``[issuer]`` is incomplete (or absent) gets a notice with the SPECIMEN watermark and a
line saying why, and what is not set in words where the signatory's name would be, never a blank."""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import replace
from datetime import date
from pathlib import Path

import docx

from pipeline.config import Config
from pipeline.excel.fill import fill_audit
from pipeline.word.notice import notice_context
from tests.helpers.issuer import BODY, TOML, complete_issuer
from tests.helpers.workspace import certpipe, make_ws, sample_audit

STD = "info-system-integration"  # official: only the issuer can make its notices specimens


def _text(path: Path) -> str:
    """The body's paragraphs and table cells, as a reader sees them."""
    d = docx.Document(str(path))
    cells = [c.text for t in d.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in d.paragraphs] + cells)


def _watermark(path: Path) -> list[str]:
    """The text of every watermark shape in the document's headers (each header still holding a
    paragraph, without which Word calls the file corrupt)."""
    with zipfile.ZipFile(path) as zf:
        headers = [zf.read(n).decode() for n in zf.namelist() if re.match(r"word/header\d*\.xml", n)]
    assert headers and all("<w:p" in xml.split(">", 2)[2] for xml in headers)
    return [m for xml in headers for m in re.findall(r'<v:textpath [^>]*string="([^"]*)"', xml)]


def _issued(ws) -> str:
    """A certificate issued in ``ws`` by the commands a clerk uses; its number."""
    done = certpipe(ws, "new", STD, "-o", str(ws.root), "--org", "丑公司")
    assert done.returncode == 0, done.stdout + done.stderr
    (blank,) = ws.root.glob("*.xlsx")
    audit = sample_audit(STD, audit_id=blank.stem, org="丑公司", target="185")
    fill_audit(blank, ws.inbox / f"{blank.stem}.xlsx", replace(audit, info=replace(audit.info, lead_auditor="王立")))
    done = certpipe(ws, "run")
    assert done.returncode == 0, done.stdout + done.stderr
    listed = certpipe(ws, "certificates", "list", "--json")
    (cert,) = json.loads(listed.stdout)
    return cert["number"]


def test_a_notice_of_a_workspace_whose_issuer_is_incomplete_is_a_specimen_and_names_no_blank(tmp_path):
    ws = make_ws(tmp_path)
    toml = ws.root / "certpipe.toml"
    number = _issued(ws)  # no certpipe.toml: no [issuer] at all

    def change(action: str, reason: str) -> Path:
        done = certpipe(ws, "certificates", action, number, "--by", "甲", "--reason", reason)
        assert done.returncode == 0, done.stdout + done.stderr
        (notice,) = ws.outbox.glob(f"*/notices/*-{action}.docx")
        return notice

    # no [issuer] table: a specimen, the signatory and the body said to be unset
    suspended = change("suspend", "未接受监督")
    text = _text(suspended)
    assert "认证机构信息未填写完整，本通知书不作为正式通知" in text
    assert "授权签字人：（授权签字人未设置）" in text and "（认证机构名称未设置）" in text
    assert _watermark(suspended) == ["样本 SPECIMEN"]
    assert not re.search(r"授权签字人：\s*$", text, re.M)  # never a blank where the name goes

    # [issuer] without its signatory: still a specimen; the name it has is printed
    body = {k: v for k, v in BODY.items() if k != "signatory"}
    toml.write_text("[issuer]\n" + "".join(f'{k} = "{v}"\n' for k, v in body.items()), encoding="utf-8")
    restored = change("restore", "已整改")
    text = _text(restored)
    assert "本通知书不作为正式通知" in text and "授权签字人：（授权签字人未设置）" in text
    assert BODY["name"] in text and _watermark(restored) == ["样本 SPECIMEN"]

    # the body complete: an official notice, signed by name, no specimen mark anywhere
    toml.write_text(TOML, encoding="utf-8")
    withdrawn = change("withdraw", "严重违规")
    text = _text(withdrawn)
    assert f"授权签字人：{BODY['signatory']}" in text and BODY["name"] in text
    assert "SPECIMEN" not in text and "样本" not in text and _watermark(withdrawn) == []


def test_the_notice_context_says_specimen_as_the_certificate_would_in_either_language():
    common = dict(number="CP-1", action="suspend", status="suspended", when=date(2026, 11, 29), reason="r",
                  until=None, organisation="o", credit_code="", standard="s", level="l", event_id=1)
    bare = notice_context(Config(), lang="en", **common)
    assert bare["specimen"] and bare["specimen_text"] == "SPECIMEN"
    assert bare["issuer"]["signatory"] == "(signatory not set)" and "not a valid notice" in bare["specimen_reason"]
    official = notice_context(Config(issuer=complete_issuer()), lang="zh", **common)
    assert not official["specimen"] and official["issuer"]["signatory"] == BODY["signatory"]
    provisional = notice_context(Config(issuer=complete_issuer()), lang="zh", provisional=True, **common)
    assert provisional["specimen"] and "暂定标准" in provisional["specimen_reason"]
