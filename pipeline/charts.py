"""The chart of the report: the rate per first-level indicator, as a horizontal bar chart PNG.

One ``RateChart`` holds one matplotlib ``Figure`` (object-oriented API on the Agg canvas; pyplot is
never imported) and redraws it for every audit: a new figure per chart plus ``bbox_inches="tight"``
costs 85-145 ms, reusing one costs a fraction (MEASUREMENTS.md). Margins are computed from the label
lengths instead of the tight bounding box, and colours are set explicitly.

CJK labels need a CJK font (pitfall 1): the first installed of ``CJK_FONTS`` is used; without one a
chart with Chinese labels is a ``RenderError`` saying to install fonts-noto-cjk.
"""

from __future__ import annotations

import io
import threading
from decimal import Decimal

from pipeline.errors import RenderError
from pipeline.i18n import t

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
             "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "Noto Sans CJK JP",
             "Droid Sans Fallback")
EMU_PER_INCH = 914400
DPI = 150
BAR, BAR_LOW, BAR_MID = "#2F5597", "#C0504D", "#D89B2B"
MAX_LABEL = 16  # characters of a label before it is shortened with "…"


def _width(text: str) -> float:
    """Approximate width of a label in em: CJK characters are one em, others about half."""
    return sum(1.0 if ord(ch) >= 0x2E80 else 0.56 for ch in text)


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


class RateChart:
    """Draws rate charts on one reused Figure. Thread-safe (a lock around the figure)."""

    def __init__(self) -> None:
        self._fig = None
        self._ax = None
        self._canvas = None
        self._font = None
        self._lock = threading.Lock()

    def _setup(self) -> None:
        from matplotlib import font_manager
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        names = {f.name for f in font_manager.fontManager.ttflist}
        family = next((n for n in CJK_FONTS if n in names), None)
        self._font = family
        self._fig = Figure(figsize=(6.3, 3.9), dpi=DPI, facecolor="white")
        self._canvas = FigureCanvasAgg(self._fig)
        self._ax = self._fig.add_axes((0.3, 0.12, 0.62, 0.84))
        self._rc = {"family": [family, "DejaVu Sans"] if family else ["DejaVu Sans"]}

    @property
    def cjk_font(self) -> str | None:
        if self._fig is None:
            self._setup()
        return self._font

    def png(self, rows: list[tuple[str, Decimal]], size_emu: tuple[int, int], lang: str = "zh") -> bytes:
        """A PNG of the rates (0-100 %) of ``rows`` = [(label, rate)], sized ``size_emu`` (the
        placeholder picture's size in the template, so the chart is never stretched)."""
        with self._lock:
            if self._fig is None:
                self._setup()
            labels = [_shorten(label) for label, _ in rows]
            if self._font is None and any(ord(ch) >= 0x2E80 for lb in labels for ch in lb):
                params = {"fonts": ", ".join(CJK_FONTS[:2])}
                raise RenderError(t("pdf.no_font", lang, **params), hint=t("pdf.no_font.hint", lang),
                                  key="pdf.no_font", params=params)
            return self._draw(labels, [float(rate) for _, rate in rows], size_emu, lang)

    def _draw(self, labels: list[str], rates: list[float], size_emu: tuple[int, int], lang: str) -> bytes:
        from matplotlib.font_manager import FontProperties

        fig, ax = self._fig, self._ax
        w_in, h_in = size_emu[0] / EMU_PER_INCH, size_emu[1] / EMU_PER_INCH
        fig.set_size_inches(w_in, h_in, forward=False)
        n = max(len(labels), 1)
        size = 9.0 if n <= 10 else max(6.0, 9.0 - (n - 10) * 0.25)
        font = FontProperties(family=self._rc["family"], size=size)
        ax.clear()
        ax.set_facecolor("white")
        colours = [BAR_LOW if r < 60 else BAR_MID if r < 80 else BAR for r in rates]
        positions = list(range(len(rates)))
        ax.barh(positions, rates, height=0.62 if n > 3 else 0.45, color=colours, zorder=2)
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
        for y, r in zip(positions, rates, strict=True):
            ax.text(r + 1.2, y, f"{r:g}%", va="center", ha="left", fontproperties=font, color="#222222")
        ax.set_xlabel(t("render.chart_axis", lang), fontproperties=font, color="#444444")
        label_pt = max((_width(lb) for lb in labels), default=4) * size + 10
        left = min(0.5, max(0.08, label_pt / (w_in * 72)))
        bottom = min(0.35, (size * 4.4 + 6) / (h_in * 72))
        ax.set_position((left, bottom, 0.96 - left, 0.97 - bottom))
        buf = io.BytesIO()
        self._canvas.print_png(buf, metadata={"Software": None})
        return buf.getvalue()
