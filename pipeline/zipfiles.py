"""Writing a zip from members compressed once: what the Word documents and the fast blank workbooks
are made of (a template's constant members are compressed once and copied into every file)."""

from __future__ import annotations

import struct
import zipfile
import zlib
from dataclasses import dataclass

#: Members kept stored: already compressed images.
STORED = (".png", ".jpg", ".jpeg", ".gif", ".emf", ".wmf")


@dataclass(frozen=True)
class Member:
    """A zip member ready to be written: compressed once, copied into every document."""

    name: bytes
    method: int
    crc: int
    size: int
    data: bytes
    dostime: int
    dosdate: int
    attr: int


def pack_member(info: zipfile.ZipInfo, raw: bytes, level: int) -> Member:
    stored = info.filename.lower().endswith(STORED)
    if stored:
        data, method = raw, zipfile.ZIP_STORED
    else:
        comp = zlib.compressobj(level, zlib.DEFLATED, -15)
        data, method = comp.compress(raw) + comp.flush(), zipfile.ZIP_DEFLATED
    y, mo, d, h, mi, sec = info.date_time
    return Member(info.filename.encode("utf-8"), method, zlib.crc32(raw), len(raw), data,
                   (h << 11) | (mi << 5) | (sec // 2), ((max(y, 1980) - 1980) << 9) | (mo << 5) | d,
                   info.external_attr)


def zip_bytes(members: list[Member]) -> bytes:
    """A plain zip (no zip64: documents are small) of members already compressed."""
    out, central = bytearray(), bytearray()
    for m in members:
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x800, m.method, m.dostime, m.dosdate, m.crc,
                           len(m.data), m.size, len(m.name), 0)
        out += m.name
        out += m.data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x800, m.method, m.dostime, m.dosdate,
                               m.crc, len(m.data), m.size, len(m.name), 0, 0, 0, 0, m.attr, offset)
        central += m.name
    start = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), start, 0)
    return bytes(out)
