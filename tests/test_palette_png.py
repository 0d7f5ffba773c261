"""The chart's PNG encoder (pipeline/word/palette_png.py): bands equal to the base's are written from
their kept compressed form, the others compressed anew, one valid PNG either way."""

from __future__ import annotations

import io
import random
import zlib

import pytest
from PIL import Image, ImageDraw

from pipeline.word.palette_png import PalettePng, adler32_combine


def _base(width: int = 301, height: int = 77) -> Image.Image:
    img = Image.new("P", (width, height), 0)
    img.putpalette([v for i in range(256) for v in (i, 255 - i, (i * 7) % 256)])
    draw = ImageDraw.Draw(img)
    for x in range(0, width, 37):
        draw.line((x, 0, x, height - 1), fill=200)
    draw.text((3, 3), "axis 0 20 40", fill=17)
    return img


def test_adler32_combine_is_zlibs():
    rng = random.Random(3)
    for _ in range(200):
        a = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300)))
        b = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 70000, 7)))
        assert adler32_combine(zlib.adler32(a), zlib.adler32(b), len(b)) == zlib.adler32(a + b)


@pytest.mark.parametrize("height", [1, 15, 16, 17, 77])
def test_every_drawing_decodes_to_its_pixels_and_palette(height):
    base = _base(height=height)
    encoder = PalettePng(base, 150)
    rng = random.Random(height)
    for k in range(12):
        img = base.copy()
        draw = ImageDraw.Draw(img)
        for _ in range(k % 4):  # none, or a few bars anywhere: bands kept, bands new, both
            top = rng.randrange(height)
            draw.rectangle((rng.randrange(40), top, rng.randrange(40, 301), min(height - 1, top + rng.randrange(9))),
                           fill=rng.randrange(240, 244))
        png = encoder.encode(img)
        back = Image.open(io.BytesIO(png))
        back.load()
        assert back.mode == "P" and back.size == img.size
        assert back.tobytes() == img.tobytes()
        assert back.getpalette()[:768] == img.getpalette()[:768]
        assert round(back.info["dpi"][0]) == 150
        # and zlib itself accepts the stream (checksum included), not only PIL's reader
        idat = png[png.index(b"IDAT") + 4:png.index(b"IEND") - 8]
        assert len(zlib.decompress(idat)) == height * (img.width + 1)


def test_a_band_once_drawn_on_is_not_kept_for_the_base():
    """The kept compressed bands are the base's: an image drawn on in a band, encoded first, must not
    leave its band to the next image that leaves that band alone."""
    base = _base()
    encoder = PalettePng(base, 150)
    drawn = base.copy()
    ImageDraw.Draw(drawn).rectangle((0, 0, 300, 20), fill=241)
    encoder.encode(drawn)
    plain = Image.open(io.BytesIO(encoder.encode(base.copy())))
    assert plain.tobytes() == base.tobytes()


def test_only_images_of_the_base_are_encoded():
    encoder = PalettePng(_base(), 150)
    with pytest.raises(ValueError):
        encoder.encode(_base(width=300))
    with pytest.raises(ValueError):
        PalettePng(_base().convert("RGB"), 150)


def test_a_fresh_copy_is_the_base():
    """The chart draws on ``fresh()`` copies (the encoder keeps the base's pixels; the layout drops its own)."""
    base = _base()
    copy = PalettePng(base, 150).fresh()
    assert copy.mode == "P" and copy.tobytes() == base.tobytes()
    assert copy.getpalette() == base.getpalette()
