"""The rate chart: a PNG at the placeholder's aspect ratio, CJK labels need a CJK font."""

from __future__ import annotations

import io
import struct
import zlib
from decimal import Decimal

import pytest
import zxingcpp
from PIL import Image

from pipeline.errors import RenderError
from pipeline.word.charts import RateChart, _shorten
from pipeline.word.qr import BORDER, UNSIGNED_PREFIX, qr_png, qr_text, split, verify_link

ROWS = [("A 售后服务体系", Decimal("95.71")), ("B 商品服务", Decimal("55")), ("C 顾客服务", Decimal("100"))]


def test_chart_is_a_png_of_the_requested_shape_and_bars_follow_the_rates():
    chart = RateChart()
    assert chart.cjk_font is not None  # fonts-noto-cjk is installed where tests run
    png = chart.png(ROWS, (5760000, 3600000))
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG" and abs(img.width / img.height - 1.6) < 0.01
    other = chart.png([(label, Decimal(10)) for label, _ in ROWS], (5760000, 3600000))
    assert other != png  # same layout, other bars
    assert chart.png(ROWS, (5760000, 3600000)) == png  # deterministic
    square = Image.open(io.BytesIO(chart.png(ROWS, (3600000, 3600000))))
    assert square.width == square.height


def test_a_stored_layout_gives_the_same_chart_without_drawing(tmp_path):
    drawn = RateChart(tmp_path).png(ROWS, (5760000, 3600000))
    assert len(list((tmp_path / "charts").glob("*.png"))) == 1
    later = RateChart(tmp_path)  # another process, say
    assert later.png(ROWS, (5760000, 3600000)) == drawn
    assert later._family is None  # fonts never looked up: nothing was drawn by matplotlib
    assert later.png([(label, Decimal(10)) for label, _ in ROWS], (5760000, 3600000)) != drawn
    for stored in (tmp_path / "charts").glob("*.png"):
        stored.write_bytes(b"damaged")
    assert RateChart(tmp_path).png(ROWS, (5760000, 3600000)) == drawn  # drawn again


def test_bar_colours_mark_low_rates():
    img = Image.open(io.BytesIO(RateChart().png(ROWS, (5760000, 3600000)))).convert("RGB")
    colours = {c for _, c in img.getcolors(1 << 20)}
    assert (0xC0, 0x50, 0x4D) in colours and (0x2F, 0x55, 0x97) in colours  # 55 % red, ≥ 80 % blue


def test_cjk_labels_without_a_cjk_font_are_a_clear_error():
    chart = RateChart()
    chart._family, chart._cjk = ["DejaVu Sans"], None
    with pytest.raises(RenderError) as err:
        chart.png(ROWS, (5760000, 3600000))
    assert "fonts-noto-cjk" in str(err.value)
    assert chart.png([("A Service", Decimal(90))], (5760000, 3600000), "en")  # an English chart still works


def test_long_labels_are_shortened_by_width():
    assert _shorten("4.1 领导和承诺") == "4.1 领导和承诺"
    assert _shorten("5.10 项目成员意识水平与持续改进能力评价").endswith("…")
    assert _shorten("C Customer service and complaints") != "C Customer service and complaints"
    assert _shorten("C Customer service") == "C Customer service"


def png_chunks(png: bytes) -> list[bytes]:
    """The chunk types of ``png``, each chunk's CRC checked (PIL does not check IDAT's)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    kinds, pos = [], 8
    while pos < len(png):
        (length,) = struct.unpack_from(">I", png, pos)
        kind, data = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + length]
        assert struct.unpack_from(">I", png, pos + 8 + length) == (zlib.crc32(kind + data),), kind
        kinds.append(kind)
        pos += 12 + length
    return kinds


def read_qr(img: Image.Image) -> zxingcpp.Barcode:
    """The QR code zxing-cpp reads in ``img``, dark on light only (it would also read an inverted one)."""
    found = zxingcpp.read_barcode(img.convert("L"), try_invert=False)
    assert found is not None, "zxing-cpp found no barcode"
    assert found.format == zxingcpp.BarcodeFormat.QRCode
    return found


def test_qr_text_is_the_verify_link_with_the_token():
    token = "AQABAgMEBQYHCAkK-_x"
    text = qr_text("CP-2025-GBT-00001", token, "https://v.example.cn/")
    assert text == f"https://v.example.cn/c/CP-2025-GBT-00001#{token}"
    assert split(text) == ("CP-2025-GBT-00001", token)
    assert verify_link("https://v.example.cn", "CP 1") == "https://v.example.cn/c/CP%201"
    assert split(verify_link("https://v.example.cn", "CP 1")) == ("CP 1", None)  # unsigned: the link alone
    assert qr_text("N-1", token, "") == token and split(token) == (None, token)  # no verify base: the token
    assert qr_text("N-1", "", "") == UNSIGNED_PREFIX + "N-1" and split(UNSIGNED_PREFIX + "N-1") == ("N-1", None)
    img = Image.open(io.BytesIO(qr_png(text)))
    assert img.mode == "1" and img.width == img.height and img.width % 8 == 0
    assert read_qr(img).text == text  # what a phone scanning the certificate gets


@pytest.mark.parametrize("scale", [8, 3, 1, 16])
def test_qr_png_reads_back_as_the_payload(scale):
    text = "北京某某信息技术服务有限公司 " + qr_text("ISI-2026-00012", "x" * 240, "https://verify.example.cn/")
    png = qr_png(text, scale=scale)
    img = Image.open(io.BytesIO(png))
    img.load()  # decodes the image data: a valid PNG for PIL
    assert img.format == "PNG" and img.mode == "1" and "dpi" not in img.info
    assert png_chunks(png) == [b"IHDR", b"IDAT", b"IEND"]  # no pHYs: no DPI, as when PIL wrote it
    modules = img.width // scale - 2 * BORDER
    assert img.width == img.height == (modules + 2 * BORDER) * scale and (modules - 21) % 4 == 0  # a QR version
    quiet = BORDER * scale
    grey = img.convert("L")
    for box in ((0, 0, img.width, quiet), (0, img.height - quiet, img.width, img.height),
                (0, 0, quiet, img.height), (img.width - quiet, 0, img.width, img.height)):
        assert grey.crop(box).getextrema() == (255, 255)  # the quiet zone is white
    assert grey.getpixel((quiet, quiet)) == 0  # the finder pattern's corner is black
    found = read_qr(img)
    assert found.text == text and found.bytes == text.encode("utf-8")
    assert split(found.text) == ("ISI-2026-00012", "x" * 240)


def test_qr_png_rejects_a_scale_below_one():
    with pytest.raises(ValueError):
        qr_png("x", scale=0)


@pytest.mark.parametrize("org", ["北京某某科技有限公司", "北京华为技术有限公司", "Café Müller GmbH",
                                 'R&D <北京> "分公司"'])
def test_qr_code_is_utf8_bytes_whatever_the_text(org):
    """Always UTF-8 in byte mode, no ECI: what scanners in China expect. (An encoder that picks
    Kanji mode for Shift-JIS-encodable names or adds ECI headers would fail here: the raw bytes
    differ although zxing-cpp's own text decoding hides it.)"""
    text = f"{UNSIGNED_PREFIX}N-1 {org}"
    found = read_qr(Image.open(io.BytesIO(qr_png(text))))
    assert found.bytes == text.encode("utf-8") and found.text == text
    assert found.symbology_identifier == "]Q1"  # model 2, no ECI


def test_without_a_home_folder_nothing_is_cached_and_charts_still_draw(monkeypatch):
    from pathlib import Path

    from pipeline import user_cache
    from pipeline.word import pdf

    def no_home():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert user_cache.cache_dir() is None
    assert RateChart(user_cache.cache_dir()).png(ROWS, (5760000, 3600000))
    folder, held = pdf._profile()  # a temporary LibreOffice profile instead
    assert held is None and folder.name.startswith("certpipe-lo-") and (folder / "fonts.conf").is_file()
