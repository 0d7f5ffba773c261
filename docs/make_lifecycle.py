"""Draw docs/images/lifecycle.png, the states of a certificate and the changes between them, from
the one table the code uses (``pipeline.core.lifecycle.CHANGES``):
``.venv/bin/python docs/make_lifecycle.py``."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from pipeline.core.lifecycle import CHANGES, STATUSES
from pipeline.i18n import t

HERE = Path(__file__).resolve().parent
PLACES = {"pending": (0.0, 2.0), "issued": (3.2, 2.0), "refused": (0.0, 0.3), "suspended": (6.4, 3.6),
          "withdrawn": (9.6, 3.6), "cancelled": (9.6, 2.0), "expired": (6.4, 0.3), "superseded": (3.2, 0.3)}
BENDS = {("suspended", "restore"): 0.25, ("issued", "suspend"): 0.25, ("suspended", "expire"): -0.45}
LABEL_AT = {("issued", "cancel"): 0.3, ("issued", "withdraw"): 0.62, ("suspended", "supersede"): 0.64}  # along a straight arrow, where the label goes


def _font() -> str:
    for name in ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei"):
        if any(f.name == name for f in font_manager.fontManager.ttflist):
            return name
    return "DejaVu Sans"


def main() -> None:
    plt.rcParams["font.family"] = _font()
    fig, ax = plt.subplots(figsize=(11, 4.6), dpi=110)
    ax.set_xlim(-1.0, 10.6)
    ax.set_ylim(-0.2, 4.1)
    ax.axis("off")
    boxes = {}
    for status in STATUSES:
        x, y = PLACES[status]
        boxes[status] = FancyBboxPatch((x - 0.85, y - 0.3), 1.7, 0.6, boxstyle="round,pad=0.05",
                                       fc="#DCE3EF" if status == "issued" else "#F3F3F3", ec="#1F3864", lw=1.2)
        ax.add_patch(boxes[status])
        ax.text(x, y + 0.07, t(f"cert.status.{status}", "zh"), ha="center", va="center", fontsize=11)
        ax.text(x, y - 0.16, status, ha="center", va="center", fontsize=8, color="#555555")
    for (before, action), after in CHANGES.items():
        (x1, y1), (x2, y2) = PLACES[before], PLACES[after]
        bend = BENDS.get((before, action), 0.0)
        ax.add_patch(FancyArrowPatch((x1, y1), (x2, y2), connectionstyle=f"arc3,rad={bend}", arrowstyle="-|>",
                                     mutation_scale=14, lw=1.1, color="#1F3864", patchA=boxes[before],
                                     patchB=boxes[after]))
        # the middle of an arc3 curve: the chord's middle moved by half the bend, across the chord
        at = LABEL_AT.get((before, action), 0.5)
        mx, my = x1 + at * (x2 - x1) + bend * (y2 - y1) / 2, y1 + at * (y2 - y1) - bend * (x2 - x1) / 2
        ax.text(mx, my, f"{t(f'cert.action.{action}', 'zh')} {action}", ha="center", va="center", fontsize=8,
                color="#7A4E00", bbox={"fc": "white", "ec": "none", "pad": 0.5})
    fig.tight_layout()
    out = HERE / "images" / "lifecycle.png"
    fig.savefig(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
