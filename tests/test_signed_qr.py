"""The certificate's signed token and QR code: forged, unknown key, rotated key; the printed QR code
read back from the PDF at 25 mm."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pipeline.config import Config, Issuer
from pipeline.core.certificates import CertificateInfo
from pipeline.core.scoring import score
from pipeline.core.token import Claims, TokenError, check, decode, encode
from pipeline.flow.keys import Signer, init_keys, load_signer, rotate_keys, verifiers
from pipeline.flow.standards import load_standard
from pipeline.word.qr import split
from pipeline.word.render import Renderer
from pipeline.word.template_check import sample_audit
from tests.helpers.workspace import make_ws

CLAIMS = Claims("GBT27922-2026-00012", "北京某某信息技术服务有限公司", "91110000MA01ABCD2X", "gbt27922-2011",
                "three-star", date(2026, 11, 1), date(2029, 10, 31))


def _edited(token: str, old: str, new: str) -> str:
    """The token with one signed field changed, its signature kept: what a forger can do."""
    import base64

    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    edited = raw.replace(old.encode(), new.encode())
    assert edited != raw and len(edited) == len(raw)
    return base64.urlsafe_b64encode(edited).rstrip(b"=").decode()


def test_a_token_round_trips_and_an_edited_level_is_forged(tmp_path):
    ws = make_ws(tmp_path)
    init_keys(ws)
    signer = load_signer(ws)
    token = encode(CLAIMS, signer.key_id, signer.sign)
    assert len(token) < 260 and token.isascii()
    decoded = decode(token)
    assert decoded.claims == CLAIMS and decoded.key_id == signer.key_id
    assert check(decoded, verifiers(ws)) == "genuine"
    forged = _edited(token, "three-star", "five--star")
    assert decode(forged).claims.level == "five--star"
    assert check(decode(forged), verifiers(ws)) == "forged"
    assert check(decode(_edited(token, "北京某某", "上海某某")), verifiers(ws)) == "forged"
    for junk in ("", "not a token!", token[:40], "A" * 300):
        with pytest.raises(TokenError):
            decode(junk)


def test_a_strangers_key_is_unknown_and_a_rotated_key_still_verifies(tmp_path):
    ws = make_ws(tmp_path)
    init_keys(ws)
    stranger = Signer(Ed25519PrivateKey.generate())
    assert check(decode(encode(CLAIMS, stranger.key_id, stranger.sign)), verifiers(ws)) == "unknown_key"
    # a stranger claiming our key id: the signature does not match
    ours = load_signer(ws)
    assert check(decode(encode(CLAIMS, ours.key_id, stranger.sign)), verifiers(ws)) == "forged"
    old_token = encode(CLAIMS, ours.key_id, ours.sign)
    rotate_keys(ws)
    new = load_signer(ws)
    assert new.key_id != ours.key_id
    assert check(decode(old_token), verifiers(ws)) == "genuine"
    assert check(decode(encode(CLAIMS, new.key_id, new.sign)), verifiers(ws)) == "genuine"


def test_a_workspace_without_a_key_makes_unsigned_certificates(tmp_path):
    import io
    import zipfile

    import zxingcpp
    from PIL import Image

    std = load_standard("gbt27922-2011")
    audit = sample_audit(std)
    card = score(std, audit.entries)
    cert = CertificateInfo("GBT-2026-00001", date(2026, 1, 5), date(2029, 1, 4), date(2027, 1, 5))
    renderer = Renderer(Config(issuer=Issuer(verify_url="https://cert.example.cn")))
    _, path = renderer.render(audit, std, card, tmp_path, certificate=cert)
    holder = renderer.template("certificate", std.key, "zh").placeholders["qr"]
    with zipfile.ZipFile(path) as zf:
        found = zxingcpp.read_barcode(Image.open(io.BytesIO(zf.read(holder.member))).convert("L"))
    assert found.text == "https://cert.example.cn/c/GBT-2026-00001"
    assert split(found.text) == ("GBT-2026-00001", None)


def read_printed_qr(pdf_path, tmp_path, *, width_mm: float = 25.0, degrees: float = 3.0):
    """The certificate's first page rendered at 150 dpi by pdftoppm, scaled so that its QR code
    (3.8 cm in the template) is ``width_mm`` wide, turned by ``degrees``, read by zxing-cpp."""
    import zxingcpp
    from PIL import Image

    stem = tmp_path / "page"
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(pdf_path), str(stem)], check=True)
    (page,) = tmp_path.glob("page*.png")
    img = Image.open(page).convert("L")
    factor = width_mm / 38.0
    img = img.resize((round(img.width * factor), round(img.height * factor)), Image.Resampling.BILINEAR)
    img = img.rotate(degrees, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=255)
    return zxingcpp.read_barcode(img, try_invert=False)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftoppm") is None,
                    reason="LibreOffice / poppler-utils not installed")
def test_the_printed_qr_code_reads_at_25_mm_and_is_genuine(tmp_path):
    from pipeline.word import pdf

    ws = make_ws(tmp_path)
    init_keys(ws)
    std = load_standard("gbt27922-2011")
    audit = sample_audit(std, org="北京某某信息技术服务有限公司")
    card = score(std, audit.entries)
    cert = CertificateInfo("GBT27922-2026-00012", date(2026, 11, 1), date(2029, 10, 31), date(2027, 11, 1))
    renderer = Renderer(Config(issuer=Issuer(verify_url="https://cert.example.cn")), signer=load_signer(ws))
    _, docx_path = renderer.render(audit, std, card, tmp_path / "out", certificate=cert)
    (made,) = pdf.convert_to_pdf([docx_path])
    found = read_printed_qr(made, tmp_path)
    assert found is not None, "the QR code printed 25 mm wide did not read at 150 dpi"
    number, token = split(found.text)
    assert number == cert.number and found.text.startswith("https://cert.example.cn/c/")
    decoded = decode(token)
    assert check(decoded, verifiers(ws)) == "genuine"
    assert decoded.claims.organisation == "北京某某信息技术服务有限公司"
    assert found.ec_level == "M" and found.extra["Version"] == "13"  # what qr.py's docstring states
