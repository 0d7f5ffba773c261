"""The QR code of a certificate (segno): a link a phone opens, carrying the signed token.

The text is ``<verify base>/c/<number>#<token>`` (``[issuer] verify_url`` is the verify base: where
the public register is served, ``certpipe publish``). The token (``core/token.py``) is after ``#``: a
browser never sends it to the server, and the register's page checks it in the browser. Without a
verify base the QR code carries the token alone (``certpipe verify`` reads it); a workspace without a
signing key makes unsigned certificates, whose QR code carries only the link (or ``UNSIGNED_PREFIX``
and the number), which ``certpipe verify`` reports as unsigned.

Measured on a typical certificate (number ``GBT27922-2026-00012``, a 14-character Chinese
organisation name, standard ``gbt27922-2011``, verify base ``https://cert.example.cn``): a version 2
token (which also signs the digests of the printed scope and approval number: 22 characters more
than version 1's 247) of 267 characters, 313 characters in all, **QR version 13 (69 × 69 modules) at
error-correction level M** (``tests/test_verify_truth.py``), as with version 1. Version 13 holds up to
331 bytes: an organisation name of up to 18 Chinese characters stays at version 13 (version 1: 23). Printed
25 mm wide with its quiet zone that is 0.32 mm a module: the certificate's PDF rendered at 150 dpi,
scaled to 25 mm and turned 3° reads (``tests/test_signed_qr.py``); in the same trial it still read at
22 mm turned 7°, at 20 mm only straight. A longer organisation name grows the version (about one
version for every 6 more Chinese characters)."""

from __future__ import annotations

import struct
import zlib
from urllib.parse import quote

import segno

MASK, BORDER = 1, 4
ERROR = "m"
_LEVEL = bytes([0xFF, 0x00] + [0x00] * 254)  # module (0 light, 1 dark) → a byte of 8 pixels (1 white)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
UNSIGNED_PREFIX = "CERTPIPE-UNSIGNED:"


def verify_link(verify_url: str, number: str, token: str = "") -> str:
    """``<verify base>/c/<number>`` and ``#<token>`` when signed; empty without a verify base."""
    base = verify_url.strip().rstrip("/")
    if not base:
        return ""
    link = f"{base}/c/{quote(number, safe='')}"
    return f"{link}#{token}" if token else link


def qr_text(number: str, token: str, verify_url: str) -> str:
    """What the certificate's QR code carries."""
    link = verify_link(verify_url, number, token)
    if link:
        return link
    return token or UNSIGNED_PREFIX + number


def split(text: str) -> tuple[str | None, str | None]:
    """(number, token) from a QR code's text, a link or a bare token; ``None`` for what is absent."""
    text = text.strip()
    if text.startswith(UNSIGNED_PREFIX):
        return text[len(UNSIGNED_PREFIX):].strip() or None, None
    head, _, token = text.partition("#")
    number = None
    if "/c/" in head:
        from urllib.parse import unquote

        number = unquote(head.rsplit("/c/", 1)[1].strip("/").split("?", 1)[0]) or None
    elif not token and "://" not in head:
        token = head
    return number, (token.strip() or None)


def qr_png(text: str, *, scale: int = 8) -> bytes:
    """A black-and-white PNG of the QR code of ``text`` (UTF-8, byte mode, error correction M).

    Each module is ``scale`` × ``scale`` pixels (``scale`` an integer ≥ 1), with a quiet zone of
    ``BORDER`` modules: the image is ``(modules + 2 * BORDER) * scale`` pixels square, no DPI set.

    The mask is fixed: any mask is valid and readable, and segno's search for the best of eight is
    most of its time. The PNG (1-bit greyscale, 0 black, no filtering) is written here directly from
    the module matrix, without PIL: about 0.3 ms where PIL's resize, convert and save took about 3.5."""
    if not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be an integer ≥ 1, not {scale!r}")
    code = segno.make(text, error=ERROR, mode="byte", encoding="utf-8", micro=False, mask=MASK, boost_error=False)
    modules = len(code.matrix) + 2 * BORDER
    side = modules * scale
    if scale % 8 == 0:  # a module is scale // 8 whole bytes of a row
        light, dark = b"\xff" * (scale // 8), b"\x00" * (scale // 8)
        pad = light * BORDER
        if scale == 8:
            rows = [pad + bytes(row).translate(_LEVEL) + pad for row in code.matrix]
        else:
            rows = [pad + b"".join(dark if m else light for m in row) + pad for row in code.matrix]
        quiet = light * modules
    else:  # pack the bits: 1 light, 0 dark, the last byte padded with 0 bits
        nbytes = (side + 7) // 8
        shift = nbytes * 8 - side
        light, dark = "1" * scale, "0" * scale
        pad = light * BORDER

        def packed(bits: str) -> bytes:
            return (int(bits, 2) << shift).to_bytes(nbytes, "big")

        rows = [packed(pad + "".join(dark if m else light for m in row) + pad) for row in code.matrix]
        quiet = packed(light * modules)
    quiet_lines = (b"\x00" + quiet) * (BORDER * scale)  # each scanline: filter type 0 (None), then the row
    raw = quiet_lines + b"".join((b"\x00" + row) * scale for row in rows) + quiet_lines
    # Level 4, measured on a typical certificate: ~0.25 ms, ~1.1 KB. On this very repetitive data the
    # higher levels are slower (level 9: ~7 ms) and at best 1 % smaller; levels 1-3 are ~2 KB.
    return b"".join((
        _PNG_SIGNATURE,
        _chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)),  # 1 bit, greyscale
        _chunk(b"IDAT", zlib.compress(raw, 4)),
        _chunk(b"IEND", b""),
    ))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
