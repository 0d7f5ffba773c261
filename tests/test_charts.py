"""The rate chart: a PNG at the placeholder's aspect ratio, CJK labels need a CJK font."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from PIL import Image

from pipeline.charts import RateChart, _shorten
from pipeline.errors import RenderError
from pipeline.qr import parse, payload, qr_png, verify_link

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


def test_qr_payload_carries_the_verification_data():
    text = payload(number="CP-2025-GBT-00001", org='R&D <北京> "分公司"', credit_code="91110108MA01ABCD2X",
                   standard="GB/T 27922-2011 (2011)", level="★★★★★ 五星", issued="2025-04-01",
                   expires="2028-03-31", surveillance="2026-03-31", verify_url="https://v.example.cn/c/",
                   specimen=True)
    fields = parse(text)
    assert fields["NO"] == "CP-2025-GBT-00001" and fields["ORG"] == 'R&D <北京> "分公司"'
    assert fields["USCC"] == "91110108MA01ABCD2X" and fields["LEVEL"] == "★★★★★ 五星"
    assert fields["EXPIRES"] == "2028-03-31" and fields["URL"] == "https://v.example.cn/c/CP-2025-GBT-00001"
    assert text.splitlines()[0] == "CERTPIPE-CERT SPECIMEN"
    assert verify_link("https://v.example.cn/?no={number}", "CP 1") == "https://v.example.cn/?no=CP%201"
    assert "URL" not in parse(payload(number="1", org="o", credit_code="c", standard="s", level="l",
                                      issued="i", expires="e", surveillance="s"))
    img = Image.open(io.BytesIO(qr_png(text)))
    assert img.mode == "1" and img.width == img.height and img.width % 8 == 0
