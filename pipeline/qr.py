"""The QR code of a certificate (segno): the certificate's verification data as UTF-8 text.

Lines are ``KEY:value`` with fixed ASCII keys so a verifier can parse them; the link to the issuer's
verification page (``config.issuer.verify_url`` + the certificate number) comes last when set."""

from __future__ import annotations

import io
from urllib.parse import quote

import segno

MASK, BORDER = 1, 4
_GREY = bytes([255, 0] + [0] * 254)  # module value (0 light, 1 dark) → grey level
FIELDS = ("NO", "ORG", "USCC", "STD", "LEVEL", "ISSUED", "EXPIRES", "SURV")


def verify_link(verify_url: str, number: str) -> str:
    """``verify_url`` with the certificate number: ``{number}`` in it is replaced, else appended."""
    if not verify_url:
        return ""
    if "{number}" in verify_url:
        return verify_url.replace("{number}", quote(number, safe=""))
    return verify_url + quote(number, safe="")


def payload(*, number: str, org: str, credit_code: str, standard: str, level: str, issued: str,
            expires: str, surveillance: str, verify_url: str = "", specimen: bool = False) -> str:
    values = (number, org, credit_code, standard, level, issued, expires, surveillance)
    lines = ["CERTPIPE-CERT" + (" SPECIMEN" if specimen else "")]
    lines += [f"{key}:{' '.join(str(v).split())}" for key, v in zip(FIELDS, values, strict=True)]
    link = verify_link(verify_url, number)
    if link:
        lines.append(f"URL:{link}")
    return "\n".join(lines)


def parse(text: str) -> dict[str, str]:
    """The fields of a payload (what a verifier reading the QR code gets)."""
    out = {}
    for line in text.splitlines()[1:]:
        key, _, value = line.partition(":")
        out[key] = value
    return out


def qr_png(text: str, *, scale: int = 8) -> bytes:
    """A black-and-white PNG of the QR code of ``text`` (UTF-8, byte mode, error correction M).

    The mask is fixed: any mask is valid and readable, and segno's search for the best of eight is
    most of its time (18 of 22 ms here). The PNG is written by PIL as a 1-bit image."""
    from PIL import Image

    code = segno.make(text, error="m", mode="byte", encoding="utf-8", micro=False, mask=MASK)
    width = len(code.matrix) + 2 * BORDER
    quiet = b"\xff" * (width * BORDER)
    pad = b"\xff" * BORDER
    modules = b"".join(pad + bytes(row).translate(_GREY) + pad for row in code.matrix)
    side = width
    image = Image.frombytes("L", (side, side), quiet + modules + quiet)
    image = image.resize((side * scale, side * scale), Image.Resampling.NEAREST).convert("1")
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()
