"""A palette PNG written from an image that differs from a base image in a few rows.

A chart (``word/charts.py``) is its layout (axes, labels, grid: the *base*) with bars and values
drawn on a copy. Encoding the whole picture was most of a chart's time, though half of its rows are
the base's rows unchanged. Here the picture is cut into bands of ``BAND`` rows; a band equal to the
base's is written from its compressed form kept from the first time, and only the others are
compressed. Each band is compressed on its own (raw deflate ended by a full flush: on a byte
boundary, with no reference to another band), so the kept bands and the new ones join into one
valid zlib stream: the zlib header, the bands in order, a final empty block, and the Adler-32 of
the whole, combined from the bands' own checksums as zlib's ``adler32_combine`` does. CPU time of a
900 × 450 chart with 6 bars: 0.43 ms, against 0.74 ms for PIL's ``save`` (``Z_RLE``, level 1).
Rows are written unfiltered (filter type 0), 8 bits per pixel, with the base's palette and resolution.
"""

from __future__ import annotations

import struct
import zlib

BAND = 16  # rows a band: small enough to keep most unchanged rows, large enough to compress well
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ZLIB_HEADER = b"\x78\x01"
_FINAL_EMPTY_BLOCK = b"\x03\x00"  # a final block of fixed codes holding only its end
_ADLER_BASE = 65521


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def adler32_combine(first: int, second: int, second_length: int) -> int:
    """The Adler-32 of two pieces one after the other, from each one's Adler-32 and the second's
    length (zlib's ``adler32_combine``)."""
    rem = second_length % _ADLER_BASE
    sum1 = first & 0xFFFF
    sum2 = (rem * sum1) % _ADLER_BASE
    sum1 = (sum1 + (second & 0xFFFF) + _ADLER_BASE - 1) % _ADLER_BASE
    sum2 = (sum2 + ((first >> 16) & 0xFFFF) + ((second >> 16) & 0xFFFF) + _ADLER_BASE - rem) % _ADLER_BASE
    return sum1 | (sum2 << 16)


class PalettePng:
    """Encodes images of ``base``'s size, mode ``P`` and palette (drawn on copies of ``base``)."""

    def __init__(self, base, dpi: int) -> None:
        if base.mode != "P":
            raise ValueError(f"a palette image is needed, not {base.mode!r}")
        self.width, self.height = base.size
        self.row = self.width  # bytes a row, 8 bits a pixel
        palette = base.getpalette() or []
        head = struct.pack(">IIBBBBB", self.width, self.height, 8, 3, 0, 0, 0)
        per_metre = round(dpi / 0.0254)
        self.head = (_SIGNATURE + _chunk(b"IHDR", head) + _chunk(b"PLTE", bytes(palette))
                     + _chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)))
        self.base = base.tobytes()
        self.palette = palette
        self._kept: dict[int, tuple[bytes, int, int]] = {}  # band's first row → (deflated, adler, length)

    def fresh(self):
        """A new copy of the base to draw on."""
        from PIL import Image

        image = Image.frombytes("P", (self.width, self.height), self.base)
        image.putpalette(self.palette)
        return image

    def encode(self, image) -> bytes:
        """The PNG of ``image`` (a copy of the base, drawn on)."""
        if image.size != (self.width, self.height) or image.mode != "P":
            raise ValueError("not an image of this base's size and mode")
        raw, row = image.tobytes(), self.row
        parts, adler, comp = [_ZLIB_HEADER], 1, None
        for top in range(0, self.height, BAND):
            start, end = top * row, min(top + BAND, self.height) * row
            if raw[start:end] == self.base[start:end]:
                band = self._kept.get(top)
                if band is None:
                    band = self._kept[top] = self._deflate(_compressor(), self.base, top)
            else:
                band = self._deflate(comp or (comp := _compressor()), raw, top)
            data, band_adler, length = band
            parts.append(data)
            adler = adler32_combine(adler, band_adler, length)
        parts += [_FINAL_EMPTY_BLOCK, struct.pack(">I", adler)]
        return self.head + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b"")

    def _deflate(self, comp, raw: bytes, top: int) -> tuple[bytes, int, int]:
        """One band's rows, compressed to stand alone: a full flush ends it on a byte boundary and
        starts the next band of the same compressor with no reference to this one."""
        row = self.row
        lines = b"".join(b"\0" + raw[y * row:(y + 1) * row] for y in range(top, min(top + BAND, self.height)))
        return comp.compress(lines) + comp.flush(zlib.Z_FULL_FLUSH), zlib.adler32(lines), len(lines)


def _compressor():
    # Z_RLE: a chart is runs of one colour (faster than the default strategy, and smaller)
    return zlib.compressobj(1, zlib.DEFLATED, -15, 8, zlib.Z_RLE)
