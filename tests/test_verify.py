"""``certpipe verify``: genuine, tampered, forged, unknown key, not in force, unreadable — from a
number, a token, a link, a photo, a .docx and a .pdf of certificates a real run issued."""

from __future__ import annotations

import io
import json
import shutil
import zipfile

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from pipeline.config import Config, Issuer
from pipeline.core.token import decode, encode
from pipeline.flow import verify as verify_module
from pipeline.flow.keys import Signer, init_keys
from pipeline.flow.run import run_inbox
from pipeline.flow.standards import level_words
from pipeline.word.qr import split
from tests.helpers.workspace import make_ws, sample_audit, workbook

BASE = "https://cert.example.cn"
#: A certification body whose details are complete: its certificates are no specimens.
ISSUER = Issuer(verify_url=BASE, name="北京示例认证中心", address="北京市海淀区示例路 1 号", signatory="王建国",
                approval_no="CNCA-R-2026-001")


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    """A workspace with a signing key that issued one certificate: (workspace, certificate .docx)."""
    ws = make_ws(tmp_path_factory.mktemp("verify"))
    init_keys(ws)
    # a standard whose definition is official, and a body whose details are complete: no specimen
    workbook(ws, "a.xlsx", sample_audit("info-system-integration", audit_id="V-2026-001", target="190",
                                        org="北京某某信息技术服务有限公司"))
    result = run_inbox(ws, Config(issuer=ISSUER), workers=1, settle=0)
    assert [o.status for o in result.outcomes] == ["done"]
    (cert,) = ws.outbox.glob("*/*-certificate.docx")
    return ws, cert


def qr_of(docx_path) -> str:
    import zxingcpp

    with zipfile.ZipFile(docx_path) as zf:
        for name in zf.namelist():
            if name.startswith("word/media/"):
                found = zxingcpp.read_barcode(Image.open(io.BytesIO(zf.read(name))).convert("L"))
                if found is not None:
                    return found.text
    raise AssertionError("no QR code in the certificate")


def run_verify(cli, ws, *args):
    code, out, _ = cli("-W", ws.root, "verify", *map(str, args), "--json")
    return code, json.loads(out)


def test_the_issued_docx_is_genuine_and_its_link_and_token_too(issued, cli):
    ws, cert = issued
    code, data = run_verify(cli, ws, cert)
    assert (code, data["result"], data["status"], data["printed_checked"]) == (0, "genuine", "issued", True)
    assert data["signed"]["organisation"] == "北京某某信息技术服务有限公司"
    link = qr_of(cert)
    number, token = split(link)
    assert link.startswith(f"{BASE}/c/{number}#")
    for given in (link, token):
        code, data = run_verify(cli, ws, given)
        assert (code, data["result"], data["number"]) == (0, "genuine", number)
    code, data = run_verify(cli, ws, number)  # the number alone: what the register says
    assert (code, data["result"], data["status"], data["signed"]) == (0, "genuine", "issued", None)
    code, out, _ = cli("-W", ws.root, "--lang", "en", "verify", number)
    assert code == 0 and "in force" in out
    code, out, _ = cli("-W", ws.root, "verify", cert)  # the standard by its name, as with the number alone
    assert "信息系统集成" in out and "info-system-integration" not in out


def test_a_docx_whose_printed_level_was_edited_is_tampered(issued, cli, tmp_path):
    ws, cert = issued
    claims = decode(split(qr_of(cert))[1]).claims
    printed = level_words(claims.standard, claims.level, "zh").split()[-1]  # 五星, say
    other = "一星" if printed != "一星" else "二星"
    edited = tmp_path / "edited.docx"
    with zipfile.ZipFile(cert) as src, zipfile.ZipFile(edited, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "word/document.xml":
                text = data.decode("utf-8")
                assert printed in text
                data = text.replace(printed, other).encode("utf-8")
            dst.writestr(item, data)
    code, data = run_verify(cli, ws, edited)
    assert (code, data["result"], data["tampered_fields"]) == (1, "tampered", ["level"])
    code, out, _ = cli("-W", ws.root, "--lang", "en", "verify", edited)
    assert code == 1 and "tampered" in out and "level" in out


def test_an_edited_token_is_forged_and_a_strangers_is_unknown_key(issued, cli):
    ws, cert = issued
    link = qr_of(cert)
    number, token = split(link)
    claims = decode(token).claims
    import base64

    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    level = claims.level.encode()
    forged_raw = raw.replace(level, b"x" * len(level))
    forged = base64.urlsafe_b64encode(forged_raw).rstrip(b"=").decode()
    code, data = run_verify(cli, ws, f"{BASE}/c/{number}#{forged}")
    assert (code, data["result"]) == (1, "forged")
    stranger = Signer(Ed25519PrivateKey.generate())
    code, data = run_verify(cli, ws, encode(claims, stranger.key_id, stranger.sign))
    assert (code, data["result"], data["key_id"]) == (1, "unknown_key", stranger.key_id)


def test_a_withdrawn_certificate_is_genuine_but_withdrawn(issued, cli, monkeypatch):
    ws, cert = issued
    monkeypatch.setattr(verify_module, "certificate_status", lambda ws, number, **kw: "withdrawn")
    code, data = run_verify(cli, ws, cert)
    assert (code, data["result"], data["status"]) == (1, "not_in_force", "withdrawn")
    code, out, _ = cli("-W", ws.root, "--lang", "en", "verify", qr_of(cert))
    assert code == 1 and "genuine, but the certificate is withdrawn" in out


def test_an_expired_certificate_and_an_unknown_number(issued, cli):
    ws, cert = issued
    claims = decode(split(qr_of(cert))[1]).claims
    verdict = verify_module.verify(qr_of(cert), ws, today=claims.expiry_date.replace(year=claims.expiry_date.year + 1))
    assert (verdict.result, verdict.status) == ("not_in_force", "expired")
    code, data = run_verify(cli, ws, "NOPE-2026-00001")
    assert (code, data["result"]) == (1, "not_found")


def test_a_photo_of_the_qr_code_is_genuine(issued, cli, tmp_path):
    ws, cert = issued
    with zipfile.ZipFile(cert) as zf:
        qr = next(Image.open(io.BytesIO(zf.read(n))) for n in zf.namelist() if n.startswith("word/media/")
                  and _is_qr(zf.read(n)))
    photo = Image.new("L", (1600, 1200), 235)
    photo.paste(qr.convert("L").resize((500, 500)), (500, 300))
    photo = photo.rotate(4, fillcolor=235)
    path = tmp_path / "photo.jpg"
    photo.convert("RGB").save(path, quality=80)
    code, data = run_verify(cli, ws, path)
    assert (code, data["result"], data["printed_checked"]) == (0, "genuine", False)


def _is_qr(data: bytes) -> bool:
    import zxingcpp

    return zxingcpp.read_barcode(Image.open(io.BytesIO(data)).convert("L")) is not None


def test_unreadable_inputs(issued, cli, tmp_path):
    ws, _ = issued
    blank = tmp_path / "blank.png"
    Image.new("L", (300, 300), 255).save(blank)
    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(b"%PDF-1.4 not really")
    bad_docx = tmp_path / "bad.docx"
    bad_docx.write_bytes(b"PK\x03\x04 broken")
    for path in (blank, garbage, bad_docx):  # (a missing file: test_a_mistyped_file_is_said_missing...)
        code, data = run_verify(cli, ws, path)
        assert (code, data["result"]) == (2, "unreadable"), path
    code, out, _ = cli("-W", ws.root, "--lang", "en", "verify", blank)
    assert code == 2 and "unreadable" in out and "Traceback" not in out


def test_an_unsigned_certificate_says_unsigned(tmp_path, cli):
    ws = make_ws(tmp_path)
    workbook(ws, "a.xlsx", sample_audit(audit_id="U-2026-001", target="95"))
    run_inbox(ws, Config(issuer=ISSUER), workers=1, settle=0)
    (cert,) = ws.outbox.glob("*/*-certificate.docx")
    code, data = run_verify(cli, ws, cert)
    assert (code, data["result"], data["status"]) == (1, "unsigned", "issued")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftoppm") is None,
                    reason="LibreOffice / poppler-utils not installed")
def test_the_certificate_pdf_is_genuine_and_its_printed_text_is_compared(issued, cli, tmp_path):
    from pipeline.word import pdf

    ws, cert = issued
    copy = tmp_path / cert.name
    shutil.copy(cert, copy)
    (made,) = pdf.convert_to_pdf([copy])
    code, data = run_verify(cli, ws, made)
    assert (code, data["result"], data["printed_checked"]) == (0, "genuine", True)


def test_a_specimen_is_genuine_but_no_certificate(tmp_path, cli):
    """Made while the issuer's details were incomplete: signed and unaltered, but it proves nothing."""
    ws = make_ws(tmp_path)
    init_keys(ws)
    workbook(ws, "a.xlsx", sample_audit(audit_id="S-2026-001", target="95"))
    run_inbox(ws, Config(issuer=Issuer(verify_url=BASE)), workers=1, settle=0)
    (cert,) = ws.outbox.glob("*/*-certificate.docx")
    code, data = run_verify(cli, ws, cert)
    assert (code, data["result"], data["status"]) == (1, "specimen", "issued")
    code, out, _ = cli("-W", ws.root, "verify", cert)
    assert code == 1 and out.splitlines()[0].startswith("样本，不是正式证书")


def test_a_mistyped_file_is_said_missing_not_unreadable(tmp_path, cli):
    ws = make_ws(tmp_path)
    code, out, err = cli("-W", ws.root, "verify", tmp_path / "证书.docx")
    assert code == 2 and "没有文件" in out + err and "二维码" not in out + err
