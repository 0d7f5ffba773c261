"""The chart of the report: the rate per first-level indicator, as a horizontal bar chart PNG.

Drawing a new figure per chart with ``bbox_inches="tight"`` costs 85-145 ms (docs/architecture.md, "Pitfalls").
Here pyplot is never imported (object-oriented API on the Agg canvas) and a chart's layout — axes,
labels, grid, everything but the bars and their values — is drawn by matplotlib once per standard,
language and size and kept as a palette image; each audit draws its bars and values on a copy with
PIL and encodes a small palette PNG (a few ms instead of ~35). Margins come from the label
lengths instead of the tight bounding box, and every colour is set explicitly.

Drawn layouts are also kept on disk, in the user's cache folder (``$XDG_CACHE_HOME/certpipe/charts``,
``~/.cache/...``, ``%LOCALAPPDATA%\\certpipe\\charts``), so a new process draws no chart with
matplotlib at all — importing it and drawing the layouts was ~0.6 s of every worker's start-up. The
folder may be deleted at any time (to redraw after installing other fonts, say); a layout that
cannot be stored is simply drawn again next time.

CJK labels need a CJK font (pitfall 1): the first installed of ``CJK_FONTS`` is used; without one a
chart with Chinese labels is a ``RenderError`` saying to install fonts-noto-cjk.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import threading
from collections import OrderedDict
from decimal import Decimal
from pathlib import Path

from pipeline.errors import RenderError
from pipeline.i18n import t

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
             "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "Noto Sans CJK JP",
             "Droid Sans Fallback")
EMU_PER_INCH = 914400
DPI = 150
BAR, BAR_LOW, BAR_MID = "#2F5597", "#C0504D", "#D89B2B"
MAX_LABEL = 15  # width of a label (in em, a CJK character is one) before it is shortened with "…"
LABELS = 4096  # value texts kept as masks per layout ("87.5%": a few hundred in practice)
LAYOUTS = 8  # kept chart layouts (one per standard, language and size in use)
CACHE_VERSION = 1  # raise when a change to the drawing makes stored layouts wrong


def _width(text: str) -> float:
    """Approximate width of a label in em: CJK characters are one em, others about half."""
    return sum(1.0 if ord(ch) >= 0x2E80 else 0.56 for ch in text)


def _shorten(text: str) -> str:
    if _width(text) <= MAX_LABEL:
        return text
    while _width(text) > MAX_LABEL - 1:
        text = text[:-1]
    return text.rstrip() + "…"


class _Layout:
    """The static part of a chart (axes, labels, grid), drawn once by matplotlib and kept as a
    palette image; per audit the bars and their values are drawn on a copy with PIL (~1 ms)."""

    def __init__(self, base, x0: float, per_point: float, rows: list[tuple[float, float]], font_path: str,
                 font_px: int) -> None:
        from PIL import ImageFont

        self.base, self.x0, self.per_point, self.rows = base, x0, per_point, rows
        self.font_path, self.font_px = font_path, font_px
        self.font = ImageFont.truetype(font_path, font_px)
        self._labels: dict[str, tuple] = {}
        self._encoder = None

    @classmethod
    def draw(cls, labels: tuple[str, ...], size_emu: tuple[int, int], axis_label: str, family: list[str]) -> _Layout:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.font_manager import FontProperties, findfont
        from PIL import Image

        w_in, h_in = size_emu[0] / EMU_PER_INCH, size_emu[1] / EMU_PER_INCH
        n = max(len(labels), 1)
        size = 9.0 if n <= 10 else max(6.0, 9.0 - (n - 10) * 0.25)
        font = FontProperties(family=family, size=size)
        label_pt = max((_width(lb) for lb in labels), default=4) * size + 10
        left = min(0.5, max(0.08, label_pt / (w_in * 72)))
        bottom = min(0.35, (size * 4.4 + 6) / (h_in * 72))
        fig = Figure(figsize=(w_in, h_in), dpi=DPI, facecolor="white")
        canvas = FigureCanvasAgg(fig)
        ax = fig.add_axes((left, bottom, 0.96 - left, 0.97 - bottom))
        ax.set_facecolor("white")
        positions = list(range(len(labels)))
        thickness = 0.62 if n > 3 else 0.45
        ax.set_xlim(0, 112)
        ax.set_ylim(n - 0.5, -0.5)  # first indicator on top
        ax.set_yticks(positions)
        ax.set_yticklabels(labels, fontproperties=font, color="#222222")
        ax.set_xticks([0, 20, 40, 60, 80, 100])
        ax.tick_params(axis="x", labelsize=size, colors="#444444")
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="x", color="#D9D9D9", linewidth=0.6, zorder=0)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_color("#888888")
        ax.set_xlabel(axis_label, fontproperties=font, color="#444444")
        canvas.draw()
        width, height = canvas.get_width_height()
        rgb = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
        base = rgb.quantize(colors=240, method=Image.Quantize.FASTOCTREE)
        palette = (base.getpalette() or [])[: 240 * 3]
        palette += [0] * (240 * 3 - len(palette))
        for colour in (BAR, BAR_LOW, BAR_MID, "#222222"):
            palette += [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
        base.putpalette(palette)
        # Pixel geometry of the bars (display coordinates have their origin at the bottom).
        to_px = ax.transData.transform
        (x0, _), (x100, _) = to_px((0, 0)), to_px((100, 0))
        rows = []
        for y in positions:
            (_, top), (_, low) = to_px((0, y - thickness / 2)), to_px((0, y + thickness / 2))
            rows.append((float(height - top), float(height - low)))
        return cls(base, float(x0), float((x100 - x0) / 100), rows,
                   findfont(FontProperties(family="DejaVu Sans")), round(size * DPI / 72))

    def store(self, path: Path) -> None:
        """Keep this layout in ``path`` (.png) and its geometry beside it (.json)."""
        from pipeline.atomic import write_bytes

        buf = io.BytesIO()
        (self.base if self.base is not None else self._encoder.fresh()).save(buf, "PNG", compress_level=1)
        write_bytes(path.with_suffix(".json"), json.dumps({
            "x0": self.x0, "per_point": self.per_point, "rows": self.rows, "font_path": self.font_path,
            "font_px": self.font_px}).encode())
        write_bytes(path, buf.getvalue())  # last: a layout is read only when its picture exists

    @classmethod
    def load(cls, path: Path) -> _Layout | None:
        from PIL import Image

        try:
            with Image.open(path) as img:
                base = img.copy()
            geometry = json.loads(path.with_suffix(".json").read_bytes())
            return cls(base, geometry["x0"], geometry["per_point"], [tuple(r) for r in geometry["rows"]],
                       geometry["font_path"], geometry["font_px"])
        except (OSError, ValueError, KeyError, TypeError):  # absent, half-deleted, or its font gone
            return None

    def png(self, rates: list[float]) -> bytes:
        from PIL import ImageDraw

        if self._encoder is None:
            from pipeline.word.palette_png import PalettePng

            self._encoder = PalettePng(self.base, DPI)
            self.base = None  # the encoder keeps its pixels: one copy, not two, in every worker
        image = self._encoder.fresh()
        draw = ImageDraw.Draw(image)
        for (top, low), rate in zip(self.rows, rates, strict=True):
            colour = 241 if rate < 60 else 242 if rate < 80 else 240
            right = self.x0 + rate * self.per_point
            if rate > 0:
                draw.rectangle((round(self.x0) + 1, round(min(top, low)), round(right), round(max(top, low))),
                               fill=colour)
            mask, left, high = self._label(f"{rate:g}%")
            image.paste(243, (round(right + 1.2 * self.per_point) + left, round((top + low) / 2) + high), mask)
        return self._encoder.encode(image)  # the rows the bars left alone: compressed once

    def _label(self, text: str) -> tuple:
        """A value's text as a 1-bit mask and where it goes from its anchor (left end, middle), kept:
        values repeat from audit to audit, and drawing the text was half of a chart's time."""
        found = self._labels.get(text)
        if found is None:
            from PIL import Image, ImageDraw

            left, top, right, bottom = (int(v) for v in self.font.getbbox(text, anchor="lm"))
            mask = Image.new("1", (max(right - left, 1), max(bottom - top, 1)), 0)
            ImageDraw.Draw(mask).text((-left, -top), text, font=self.font, fill=1, anchor="lm")
            if len(self._labels) >= LABELS:
                self._labels.clear()
            found = self._labels[text] = (mask, left, top)
        return found


class RateChart:
    """Draws rate charts, keeping the layouts in use (and on disk in ``cache``; ``None``: not kept).
    Thread-safe (one lock)."""

    def __init__(self, cache: Path | None = None) -> None:
        self._layouts: OrderedDict[tuple, _Layout] = OrderedDict()
        self._family: list[str] | None = None
        self._cjk: str | None = None
        self._lock = threading.Lock()
        self.cache = cache

    @property
    def cjk_font(self) -> str | None:
        self._fonts()
        return self._cjk

    def _fonts(self) -> list[str]:
        if self._family is None:
            from matplotlib import font_manager

            names = {f.name for f in font_manager.fontManager.ttflist}
            self._cjk = next((n for n in CJK_FONTS if n in names), None)
            self._family = [self._cjk, "DejaVu Sans"] if self._cjk else ["DejaVu Sans"]
        return self._family

    def png(self, rows: list[tuple[str, Decimal]], size_emu: tuple[int, int], lang: str = "zh") -> bytes:
        """A PNG of the rates (0-100 %) of ``rows`` = [(label, rate)], sized ``size_emu`` (the
        placeholder picture's size in the template, so the chart is never stretched)."""
        labels = tuple(_shorten(label) for label, _ in rows)
        with self._lock:
            axis = t("render.chart_axis", lang)
            key = (labels, size_emu, axis)
            layout = self._layouts.get(key)
            if layout is None:
                layout = self._stored_or_drawn(key, lang)
                self._layouts[key] = layout
                while len(self._layouts) > LAYOUTS:
                    self._layouts.popitem(last=False)
            else:
                self._layouts.move_to_end(key)
            return layout.png([float(rate) for _, rate in rows])

    def _stored_or_drawn(self, key: tuple, lang: str) -> _Layout:
        labels, size_emu, axis = key
        path = None
        if self.cache is not None:
            name = hashlib.sha256(json.dumps([CACHE_VERSION, DPI, *key], ensure_ascii=False).encode()).hexdigest()
            path = self.cache / "charts" / f"{name[:32]}.png"
            stored = _Layout.load(path)
            if stored is not None:
                return stored
        family = self._fonts()
        if self._cjk is None and any(ord(ch) >= 0x2E80 for lb in (*labels, axis) for ch in lb):
            raise RenderError("pdf.no_font", {"fonts": ", ".join(CJK_FONTS[:2])})
        layout = _Layout.draw(labels, size_emu, axis, family)
        if path is not None:
            with contextlib.suppress(OSError):  # a read-only home, a full disk: drawn again next time
                layout.store(path)
        return layout
