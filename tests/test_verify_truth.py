"""``certpipe verify`` tells the whole truth: every field a certificate prints is bound by its signature
(scope and approval number by their digests), an old document after a decision changed the
certificate is out of date, and a photo's headline claims nothing of the printed text. Real
certificates a real run issued, edited the way a forger would (the .docx's XML, re-zipped)."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import zipfile
from dataclasses import replace

import pytest
import segno
from PIL import Image

from pipeline.config import Config, Issuer
from pipeline.core.token import decode, encode, normalise, printed_hash
from pipeline.flow.keys import init_keys, load_signer
from pipeline.flow.run import run_inbox
from pipeline.word.qr import qr_png, qr_text, split
from pipeline.workspace import Workspace
from tests.helpers.workspace import make_ws, sample_audit, workbook
from tests.test_verify import qr_of

BASE = "https://cert.example.cn"
ISSUER = Issuer(verify_url=BASE, name="北京示例认证中心", address="北京市海淀区示例路 1 号", signatory="王建国",
                approval_no="CNCA-R-2026-001")
ORG = "北京某某信息技术服务有限公司"


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    """A signing workspace that issued one certificate (no specimen): (workspace, .docx, its details)."""
    ws = make_ws(tmp_path_factory.mktemp("truth"))
    init_keys(ws)
    workbook(ws, "a.xlsx", sample_audit("info-system-integration", audit_id="V-2026-001", target="190", org=ORG))
    result = run_inbox(ws, Config(issuer=ISSUER), workers=1, settle=0)
    assert [o.status for o in result.outcomes] == ["done"]
    (cert,) = ws.outbox.glob("*/*-certificate.docx")
    with sqlite3.connect(ws.ledger) as db:
        details = json.loads(db.execute("SELECT details FROM certificates").fetchone()[0])
    assert details["scope"] and details["credit_code"]
    return ws, cert, details


def copy_ws(ws: Workspace, tmp_path) -> Workspace:
    """A copy of the workspace a test may change (the module's stays as issued)."""
    shutil.copytree(ws.root, tmp_path / "ws")
    return Workspace(tmp_path / "ws")


def edited(cert, dest, old: str, new: str):
    """The certificate with the first ``old`` replaced by ``new`` in its printed text (word/document.xml;
    the scope's words may recur in the standard's title)."""
    with zipfile.ZipFile(cert) as src, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "word/document.xml":
                text = data.decode("utf-8")
                assert old in text, old
                data = text.replace(old, new, 1).encode("utf-8")
            dst.writestr(item, data)
    return dest


def with_qr(cert, dest, text: str):
    """The certificate with its QR code's picture replaced by one of ``text``."""
    with zipfile.ZipFile(cert) as src, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as dst:
        replaced = False
        for item in src.infolist():
            data = src.read(item)
            if item.filename.startswith("word/media/") and _qr(data):
                data, replaced = qr_png(text), True
            dst.writestr(item, data)
    assert replaced
    return dest


def _qr(data: bytes) -> bool:
    import zxingcpp

    try:
        return zxingcpp.read_barcode(Image.open(io.BytesIO(data)).convert("L")) is not None
    except OSError:
        return False


def run_verify(cli, ws, *args):
    code, out, _ = cli("-W", ws.root, "verify", *map(str, args), "--json")
    return code, json.loads(out)


# ---- 1. every printed field is bound -------------------------------------------------------------
def test_the_token_signs_the_scope_and_approval_number_and_the_issued_docx_is_genuine(issued, cli):
    ws, cert, details = issued
    claims = decode(split(qr_of(cert))[1]).claims
    assert claims.scope_hash == printed_hash(details["scope"]) != ""
    assert claims.approval_hash == printed_hash(ISSUER.approval_no) != ""
    code, data = run_verify(cli, ws, cert)
    assert (code, data["result"], data["tampered_fields"], data["unchecked_fields"]) == (0, "genuine", [], [])


@pytest.mark.parametrize("field", ["scope", "credit_code", "approval_no", "standard"])
def test_a_forged_printed_field_is_tampered(issued, cli, tmp_path, field):
    ws, cert, details = issued
    old, new = {"scope": (details["scope"], "全部软件与硬件服务"),
                "credit_code": (details["credit_code"], "91110000MA99999999"),
                "approval_no": (ISSUER.approval_no, "CNCA-R-2026-999"),
                "standard": (details["standard"], "GB/T 99999-2026")}[field]
    forged = edited(cert, tmp_path / "t.docx", old, new)
    code, data = run_verify(cli, ws, forged)
    assert (code, data["result"], data["tampered_fields"]) == (1, "tampered", [field])
    code, out, _ = cli("-W", ws.root, "verify", forged)
    assert code == 1 and out.startswith("内容被改动") and "真实有效" not in out


def test_a_scope_whose_lines_break_elsewhere_is_still_the_same(issued):
    """The digest is of the text without spaces or line breaks: a page's text, wrapped, matches."""
    from pipeline.flow.verify import printed_differences

    ws, cert, details = issued
    claims = decode(split(qr_of(cert))[1]).claims
    page = "\n".join(["证书编号：" + claims.number, ORG, "统一社会信用代码 " + details["credit_code"],
                      "信息系统集成技术规范", "一级", "2026年11月29日", "2029年11月28日",
                      "认证范围", details["scope"][:3], details["scope"][3:], "认证机构批准号 CNCA-R-2026-001"])
    assert "scope" not in printed_differences(claims, page, ws)  # the ledger's scope not told: found by lines
    assert "approval_no" not in printed_differences(claims, page, ws)
    assert "scope" in printed_differences(claims, page.replace(details["scope"][3:], "其他服务"), ws)
    assert normalise("ＣＮＣＡ－Ｒ 2026\u3000001") == "CNCA-R2026001"


def test_an_old_token_without_digests_still_verifies_and_says_what_it_could_not_check(issued, cli, tmp_path):
    """A certificate issued before the scope was signed: genuine; its printed scope is compared with
    the ledger's, and what could not be checked (the approval number; the scope too when the ledger
    does not know it) is said."""
    ws, cert, details = issued
    claims = decode(split(qr_of(cert))[1]).claims
    old = replace(claims, scope_hash=None, approval_hash=None)
    signer = load_signer(ws)
    token = encode(old, signer.key_id, signer.sign)
    assert decode(token).claims == old and token.startswith("AQ")  # version 1
    assert len(encode(claims, signer.key_id, signer.sign)) - len(token) == 22  # what version 2 adds
    doc = with_qr(cert, tmp_path / "old.docx", qr_text(claims.number, token, BASE))
    code, data = run_verify(cli, ws, doc)  # the scope compared with the ledger's: only the approval number not
    assert (code, data["result"], data["unchecked_fields"]) == (0, "genuine", ["approval_no"])
    code, out, _ = cli("-W", ws.root, "verify", doc)
    assert code == 0 and "不包含认证机构批准号" in out
    assert "内容未被改动，证书有效" not in out and "认证机构批准号不在签名中" in out.splitlines()[0]
    forged = edited(doc, tmp_path / "forged.docx", details["scope"], "全部软件与硬件服务")
    code, data = run_verify(cli, ws, forged)
    assert (code, data["result"], data["tampered_fields"]) == (1, "tampered", ["scope"])
    bare = copy_ws(ws, tmp_path)  # a ledger that does not know the scope: neither is checked, and it says so
    with sqlite3.connect(bare.ledger) as db:
        db.execute("UPDATE certificates SET details = json_remove(details, '$.scope')")
    code, data = run_verify(cli, bare, forged)
    assert (code, data["result"], data["unchecked_fields"]) == (0, "genuine", ["scope", "approval_no"])
    code, out, _ = cli("-W", bare.root, "verify", forged)
    assert code == 0 and "不包含认证范围、认证机构批准号" in out


def test_the_qr_code_of_a_version_2_token_stays_at_version_13(issued):
    """word/qr.py's measured case: a 14-character organisation name, a 19-character number."""
    ws, cert, _ = issued
    claims = decode(split(qr_of(cert))[1]).claims
    typical = replace(claims, number="GBT27922-2026-00012", organisation="深圳市某某科技服务股份有限公司",
                      standard="gbt27922-2011", level="five-star")
    signer = load_signer(ws)
    text = qr_text(typical.number, encode(typical, signer.key_id, signer.sign), BASE)
    code = segno.make(text, error="m", mode="byte", encoding="utf-8", micro=False, boost_error=False)
    assert code.version == 13, (len(text), code.version)


# ---- 2. an out-of-date certificate ---------------------------------------------------------------
def test_an_old_document_after_a_level_change_is_out_of_date(issued, cli, tmp_path):
    """A surveillance decision moved the certificate to another level (the ledger's level and details,
    as ``decisions._new_level`` writes them): the old document is genuine but not current, exit 1."""
    ws, cert, _ = issued
    ws = copy_ws(ws, tmp_path)
    with sqlite3.connect(ws.ledger) as db:
        db.execute("UPDATE certificates SET level = 'grade3', details = json_set(details, '$.level', 'grade3')")
    for given in (cert, qr_of(cert)):
        code, data = run_verify(cli, ws, given)
        assert (code, data["result"], data["changed_fields"], data["current"]) == \
            (1, "outdated", ["level"], {"level": "grade3"}), given
    code, out, _ = cli("-W", ws.root, "verify", cert)
    first = out.splitlines()[0]
    assert code == 1 and "不是最新" in first and "等级" in first and "真实有效" not in out
    assert "登记中现为 等级：三级" in out
    code, out, _ = cli("-W", ws.root, "--lang", "en", "verify", cert)
    assert code == 1 and "out of date" in out and "level" in out


@pytest.mark.slow
def test_after_a_real_surveillance_decision_the_old_certificate_is_out_of_date(tmp_path):
    """The tester's case with the real commands: issued, a surveillance at another level approved
    (``decide``): the first certificate's .docx is out of date, the new one current."""
    from tests.helpers.workspace import certpipe

    ws = make_ws(tmp_path)
    init_keys(ws)

    def blank(*args: str):
        before = set(ws.root.glob("*.xlsx"))
        assert certpipe(ws, "new", "gbt27922-2011", "-o", str(ws.root), *args).returncode == 0
        (made,) = set(ws.root.glob("*.xlsx")) - before
        return made

    def fill(made, target: str, audit_type: str):
        from pipeline.excel.fill import fill_audit

        audit = sample_audit(audit_id=made.stem, org="辛公司", target=target)
        audit = replace(audit, info=replace(audit.info, audit_type=audit_type))
        fill_audit(made, ws.inbox / f"{made.stem}.xlsx", audit)

    first = blank("--org", "辛公司")
    fill(first, "92", "初次认证")
    assert certpipe(ws, "run").returncode == 0
    (number,) = [c["number"] for c in json.loads(certpipe(ws, "certificates", "list", "--json").stdout)]
    old = ws.outbox / first.stem / f"{first.stem}-certificate.docx"
    done = certpipe(ws, "verify", str(old), "--json")
    assert json.loads(done.stdout)["changed_fields"] == []
    surveillance = blank("--type", "surveillance", "--certificate", number)
    fill(surveillance, "82", "监督审核")
    assert certpipe(ws, "run").returncode == 0
    assert certpipe(ws, "decide", surveillance.stem, "--approve", "--by", "赵决定").returncode == 0
    done = certpipe(ws, "verify", str(old), "--json")
    data = json.loads(done.stdout)
    assert (done.returncode, data["result"], data["changed_fields"]) == (1, "outdated", ["level"])
    new = ws.outbox / surveillance.stem / f"{surveillance.stem}-certificate.docx"
    data = json.loads(certpipe(ws, "verify", str(new), "--json").stdout)
    assert data["changed_fields"] == [] and data["result"] != "outdated"


def test_an_old_document_after_the_scope_changed_is_out_of_date(issued, cli, tmp_path):
    ws, cert, _ = issued
    ws = copy_ws(ws, tmp_path)
    with sqlite3.connect(ws.ledger) as db:
        db.execute("UPDATE certificates SET details = json_set(details, '$.scope', '运维服务')")
    code, data = run_verify(cli, ws, qr_of(cert))
    assert (code, data["result"], data["changed_fields"], data["current"]) == \
        (1, "outdated", ["scope"], {"scope": "运维服务"})


# ---- 3. a photo's headline -----------------------------------------------------------------------
def _photo(cert, path):
    with zipfile.ZipFile(cert) as zf:
        qr = next(Image.open(io.BytesIO(zf.read(n))) for n in zf.namelist()
                  if n.startswith("word/media/") and _qr(zf.read(n)))
    photo = Image.new("L", (1200, 900), 235)
    photo.paste(qr.convert("L").resize((450, 450)), (350, 200))
    photo.save(path)
    return path


def test_a_photo_says_the_printed_text_was_not_compared(issued, cli, tmp_path):
    ws, cert, _ = issued
    photo = _photo(cert, tmp_path / "photo.png")
    code, out, _ = cli("-W", ws.root, "verify", photo)
    lines = out.splitlines()
    assert code == 0 and "未被核对" in lines[0] and "内容未被改动" not in lines[0] and "真实有效" not in lines[0]
    assert any("照片只读取了二维码" in line for line in lines[1:])
    code, out, _ = cli("-W", ws.root, "--lang", "en", "verify", photo)
    assert code == 0 and "not compared" in out.splitlines()[0] and "nothing was altered" not in out


def test_a_pasted_link_is_not_called_a_photo(issued, cli):
    ws, cert, _ = issued
    code, out, _ = cli("-W", ws.root, "verify", qr_of(cert))
    assert code == 0 and "照片" not in out and "没有核对任何印刷文件" in out
    assert "内容未被改动" not in out.splitlines()[0]


def test_a_photo_of_a_specimen_has_the_caveat(tmp_path, cli):
    ws = make_ws(tmp_path)
    init_keys(ws)
    workbook(ws, "a.xlsx", sample_audit(audit_id="S-2026-001", target="95"))
    run_inbox(ws, Config(issuer=Issuer(verify_url=BASE)), workers=1, settle=0)
    (cert,) = ws.outbox.glob("*/*-certificate.docx")
    photo = _photo(cert, tmp_path / "specimen.png")
    code, out, _ = cli("-W", ws.root, "verify", photo)
    assert code == 1 and out.startswith("样本") and "内容未被改动" not in out
    assert "照片只读取了二维码" in out
