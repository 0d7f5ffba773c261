"""A certificate's signed token: what the certificate says, in a few hundred URL-safe characters that
anyone holding the issuer's public key can check offline. Pure: encoding, decoding and the check;
the keys themselves live in ``flow/keys.py``.

Layout (version 1), then base64url without padding::

    1 byte   version (1)
    1 byte   flags (bit 0: a specimen certificate of a provisional standard)
    8 bytes  key id: the first 8 bytes of SHA-256 of the raw Ed25519 public key
    2 bytes  issue date, days since 2000-01-01 (big-endian)
    2 bytes  expiry date, the same
    5 × (1 byte length + UTF-8): certificate number, organisation, credit code, standard key, level key
    64 bytes Ed25519 signature of ``DOMAIN`` + every byte above

Version 2 is version 1 with the version byte 2 and, after the five texts, two digests of what the
certificate prints that is too long for the token (``printed_hash``)::

    8 bytes  the scope's digest (all zero: no scope printed)
    8 bytes  the body's approval number's digest (all zero: none printed)

A digest is the first 8 bytes of SHA-256 of ``PRINTED_DOMAIN`` + the text normalised
(``normalise``: NFKC, every space and line break removed), so a page's text, however its lines are
broken, can be checked against it; forging a text of the same digest is a second preimage of 64
bits. The 16 bytes add 22 characters to the token. A version 1 token (issued before) still decodes
and verifies: its ``scope_hash`` and ``approval_hash`` are ``None`` (not signed, so not checked).

A typical token is about 180 bytes, 240 characters (version 2: 196 bytes, 262 characters). The
domain prefix keeps a signature over a token from meaning anything else the same key might ever sign.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

VERSION = 2
VERSIONS = (1, 2)
DOMAIN = b"certpipe-certificate-v1\x00"
EPOCH = date(2000, 1, 1)
KEY_ID_BYTES = 8
SIGNATURE_BYTES = 64
FIELDS = ("number", "organisation", "credit_code", "standard", "level", "issue_date", "expiry_date")
_HEAD = struct.Struct(">BB8sHH")
_TEXTS = ("number", "organisation", "credit_code", "standard", "level")
HASH_BYTES = 8
PRINTED_DOMAIN = b"certpipe-printed-v1\x00"
_NO_HASH = bytes(HASH_BYTES)
# every space and line break (after NFKC, the ideographic and no-break spaces are plain ones); the same
# set as assets/verify.js would need, written out rather than ``\s`` (whose meaning differs by language)
_SPACES = re.compile("[\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]+")


def normalise(text: str) -> str:
    """A printed text as it is compared: NFKC (full-width letters and digits as half-width), without
    any space or line break (a page's text breaks lines where its layout does)."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def printed_hash(text: str) -> str:
    """The digest (16 hex digits) a version 2 token signs of a printed text; ``""`` for an empty one."""
    norm = normalise(text)
    if not norm:
        return ""
    return hashlib.sha256(PRINTED_DOMAIN + norm.encode("utf-8")).digest()[:HASH_BYTES].hex()


class TokenError(ValueError):
    """A token that cannot be read at all (not base64url, wrong version, cut short)."""


@dataclass(frozen=True)
class Claims:
    """What a certificate's token vouches for."""

    number: str
    organisation: str
    credit_code: str
    standard: str  # the standard's key
    level: str  # the level's key
    issue_date: date
    expiry_date: date
    specimen: bool = False
    #: ``printed_hash`` of the printed scope and approval number ("" none printed); ``None``: a version 1
    #: token, which signs neither
    scope_hash: str | None = None
    approval_hash: str | None = None

    def to_json(self) -> dict:
        return {"number": self.number, "organisation": self.organisation, "credit_code": self.credit_code,
                "standard": self.standard, "level": self.level, "issue_date": self.issue_date.isoformat(),
                "expiry_date": self.expiry_date.isoformat(), "specimen": self.specimen,
                "scope_hash": self.scope_hash, "approval_hash": self.approval_hash}


@dataclass(frozen=True)
class Token:
    """A decoded token: its claims, the key id, and the signed bytes with their signature."""

    claims: Claims
    key_id: str  # hex
    signed: bytes  # DOMAIN + body
    signature: bytes


def key_id(public_raw: bytes) -> str:
    """The key id of a raw 32-byte Ed25519 public key: 16 hex digits."""
    return hashlib.sha256(public_raw).digest()[:KEY_ID_BYTES].hex()


def _days(day: date) -> int:
    n = (day - EPOCH).days
    if not 0 <= n <= 0xFFFF:
        raise ValueError(f"date out of range: {day}")
    return n


def body(claims: Claims, kid: str) -> bytes:
    """The token's bytes before the signature: version 2, or version 1 for claims without digests."""
    digests = claims.scope_hash is not None or claims.approval_hash is not None
    out = bytearray(_HEAD.pack(VERSION if digests else 1, 1 if claims.specimen else 0, bytes.fromhex(kid),
                               _days(claims.issue_date), _days(claims.expiry_date)))
    for name in _TEXTS:
        raw = getattr(claims, name).encode("utf-8")
        if len(raw) > 255:
            raise ValueError(f"{name} longer than 255 bytes")
        out += bytes([len(raw)]) + raw
    if digests:
        for digest in (claims.scope_hash, claims.approval_hash):
            raw = bytes.fromhex(digest) if digest else _NO_HASH
            if len(raw) != HASH_BYTES:
                raise ValueError("a digest is 8 bytes")
            out += raw
    return bytes(out)


def encode(claims: Claims, kid: str, sign: Callable[[bytes], bytes]) -> str:
    """The token of ``claims``, signed by ``sign`` (the private key of ``kid``)."""
    data = body(claims, kid)
    signature = sign(DOMAIN + data)
    if len(signature) != SIGNATURE_BYTES:
        raise ValueError("an Ed25519 signature is 64 bytes")
    return base64.urlsafe_b64encode(data + signature).rstrip(b"=").decode("ascii")


def decode(token: str) -> Token:
    """The token's parts, unchecked. ``TokenError`` when it is not a token at all."""
    text = token.strip()
    if not text or len(text) > 2000 or not all(c.isascii() and (c.isalnum() or c in "-_") for c in text):
        raise TokenError("not base64url")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise TokenError("not base64url") from exc
    if len(raw) < _HEAD.size + 5 + SIGNATURE_BYTES or raw[0] not in VERSIONS:
        raise TokenError("not a version 1 or 2 token")
    version = raw[0]
    data, signature = raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]
    _, flags, kid, issued, expires = _HEAD.unpack_from(data)
    at, texts = _HEAD.size, []
    for _ in _TEXTS:
        if at >= len(data):
            raise TokenError("cut short")
        n = data[at]
        chunk = data[at + 1:at + 1 + n]
        if len(chunk) != n:
            raise TokenError("cut short")
        try:
            texts.append(chunk.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise TokenError("not UTF-8") from exc
        at += 1 + n
    digests: list[str | None] = [None, None]
    if version == 2:
        if at + 2 * HASH_BYTES > len(data):
            raise TokenError("cut short")
        digests = [("" if d == _NO_HASH else d.hex()) for d in (data[at:at + HASH_BYTES],
                                                                  data[at + HASH_BYTES:at + 2 * HASH_BYTES])]
        at += 2 * HASH_BYTES
    if at != len(data):
        raise TokenError("trailing bytes")
    claims = Claims(*texts, issue_date=EPOCH + timedelta(days=issued), expiry_date=EPOCH + timedelta(days=expires),
                    specimen=bool(flags & 1), scope_hash=digests[0], approval_hash=digests[1])
    return Token(claims, kid.hex(), DOMAIN + data, signature)


def check(token: Token, keys: Mapping[str, Callable[[bytes, bytes], bool]]) -> str:
    """``"genuine"``, ``"forged"`` (the signature does not match) or ``"unknown_key"``; ``keys`` maps a
    key id to a function ``(signature, data) -> bool`` (``flow/keys.py`` makes them)."""
    verify = keys.get(token.key_id)
    if verify is None:
        return "unknown_key"
    return "genuine" if verify(token.signature, token.signed) else "forged"
