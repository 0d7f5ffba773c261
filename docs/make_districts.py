"""The picture of the districts in docs/architecture.md, read from the code: every import of the package
(found with ``ast`` by the same helpers ``tests/test_architecture.py`` checks the rules with), counted
from district to district, and drawn as boxes and arrows.

    .venv/bin/python docs/make_districts.py [--out docs/images/districts.png]

A solid arrow is a district importing another at module level, labelled with the number of those
imports (one per module imported); a dashed one, or the ``+N deferred`` part of a label, counts the
imports made inside a function or under ``TYPE_CHECKING`` (loaded when first used)."""

from __future__ import annotations

import argparse
import importlib.util
import io
from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from PIL import Image

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _rules():
    """``tests/test_architecture.py`` as a module: its ``imports``, ``district`` and ``module_name``."""
    spec = importlib.util.spec_from_file_location("certpipe_architecture", ROOT / "tests" / "test_architecture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: ``pipeline/__main__.py`` runs the CLI; ``pipeline/__init__.py`` hands out the API's names; the web
#: console is a shell over the API with the CLI's rights, drawn in the CLI's box.
FOLD = {"main": "cli", "package": "api", "web": "cli"}

#: What each box says under its name.
JOBS = {
    "cli": "the certpipe command",
    "api": "the public Python API",
    "flow": "files moving: inbox → outbox",
    "excel": "the workbook contract",
    "word": "reports and certificates",
    "core": "the domain, pure",
    "base": "errors, messages, config, paths",
}

# Where the boxes go (centre x, centre y) on a 12 × 9 canvas. ``base`` is a bar on the left and ``core``
# one on the right, so that every district's arrow to either is a straight horizontal line; no two
# boxes share a row, and excel sits above word's row and left of it, so no such line crosses a box.
BOX_W, BOX_H = 2.5, 0.95
CENTRES = {"cli": (6.0, 8.0), "api": (6.0, 6.55), "flow": (6.0, 5.1), "excel": (4.25, 3.55),
           "word": (7.75, 2.25)}
BAR_Y = (0.35, 8.65)
BASE_X = (0.3, 1.5)
CORE_X = (10.5, 11.7)
FILL = {"base": "#e8e8e8", "core": "#d9ead3", "excel": "#d0e0f0", "word": "#dcd3ec", "flow": "#fce5cd",
        "api": "#fff2cc", "cli": "#f4cccc"}


def count_imports() -> tuple[Counter, Counter, Counter]:
    """(module-level imports, deferred imports) per (district, district imported), and the modules of
    each district (``__init__.py`` and ``__main__.py`` not counted)."""
    rules = _rules()
    now, later, modules = Counter(), Counter(), Counter()
    for path in sorted(rules.PACKAGE.rglob("*.py")):
        here = rules.module_name(path)
        a = FOLD.get(rules.district(here), rules.district(here))
        if path.name not in ("__init__.py", "__main__.py"):
            modules[a] += 1
        for target, _names, _line, at_top in rules.imports(path):
            b = FOLD.get(rules.district(target), rules.district(target))
            if a != b:
                (now if at_top else later)[(a, b)] += 1
    return now, later, modules


def _label(now: int, later: int) -> str:
    if now and later:
        return f"{now} (+{later} deferred)"
    return str(now) if now else f"{later} deferred"


def draw(out: Path) -> None:
    now, later, modules = count_imports()
    fig = Figure(figsize=(10.5, 7.9))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 12)
    ax.set_ylim(-0.45, 9.0)
    ax.axis("off")

    def box(name: str, x0: float, y0: float, w: float, h: float, vertical: bool = False) -> None:
        ax.add_patch(FancyBboxPatch((x0, y0), w, h, boxstyle="round,pad=0.02,rounding_size=0.12",
                                    fc=FILL[name], ec="#444444", lw=1.2, zorder=3))
        count = f"{modules[name]} module" + ("s" if modules[name] != 1 else "")
        where = {"base": "pipeline/*.py", "api": "pipeline/api/"}.get(name, f"pipeline/{name}/")
        cx, cy = x0 + w / 2, y0 + h / 2
        if vertical:  # a bar: the words run upwards
            ax.text(cx - 0.2, cy, name, ha="center", va="center", fontsize=16, weight="bold", rotation=90, zorder=4)
            ax.text(cx + 0.22, cy, f"{JOBS[name]}  ·  {where}  ·  {count}", ha="center", va="center", fontsize=8.5,
                    color="#333333", rotation=90, zorder=4)
        else:
            ax.text(cx, cy + 0.2, name, ha="center", va="center", fontsize=16, weight="bold", zorder=4)
            ax.text(cx, cy - 0.22, f"{JOBS[name]}\n{where} · {count}", ha="center", va="center", fontsize=8.5,
                    color="#333333", zorder=4, linespacing=1.3)

    box("base", BASE_X[0], BAR_Y[0], BASE_X[1] - BASE_X[0], BAR_Y[1] - BAR_Y[0], vertical=True)
    box("core", CORE_X[0], BAR_Y[0] + 0.9, CORE_X[1] - CORE_X[0], BAR_Y[1] - BAR_Y[0] - 0.9, vertical=True)
    for name, (cx, cy) in CENTRES.items():
        box(name, cx - BOX_W / 2, cy - BOX_H / 2, BOX_W, BOX_H)

    def arrow(a: str, b: str, start: tuple[float, float], end: tuple[float, float], *, rad: float = 0.0,
              at: float = 0.5, offset: tuple[float, float] = (0, 0.17)) -> None:
        n, m = now[(a, b)], later[(a, b)]
        if not (n or m):
            return
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=16, lw=1.4,
                                     color="#333333" if n else "#777777", linestyle="-" if n else (0, (4, 3)),
                                     connectionstyle=f"arc3,rad={rad}", shrinkA=0, shrinkB=0, zorder=2))
        x = start[0] + (end[0] - start[0]) * at + offset[0]
        y = start[1] + (end[1] - start[1]) * at + offset[1]
        ax.text(x, y, _label(n, m), ha="center", va="center", fontsize=9.5, zorder=5,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.9})

    def left(name: str) -> tuple[float, float]:
        return CENTRES[name][0] - BOX_W / 2, CENTRES[name][1]

    def right(name: str) -> tuple[float, float]:
        return CENTRES[name][0] + BOX_W / 2, CENTRES[name][1]

    def top(name: str, dx: float = 0.0) -> tuple[float, float]:
        return CENTRES[name][0] + dx, CENTRES[name][1] + BOX_H / 2

    def bottom(name: str, dx: float = 0.0) -> tuple[float, float]:
        return CENTRES[name][0] + dx, CENTRES[name][1] - BOX_H / 2

    # every district to base (left) and to core (right): straight lines
    for name in CENTRES:
        y = CENTRES[name][1]
        arrow(name, "base", left(name), (BASE_X[1], y), at=0.5)
        arrow(name, "core", right(name), (CORE_X[0], y), at=0.5)
    # core to base: under everything
    y = BAR_Y[0] + 0.35
    ax.add_patch(FancyArrowPatch((CORE_X[0] + 0.6, BAR_Y[0] + 0.9), (CORE_X[0] + 0.6, y), arrowstyle="-",
                                 lw=1.4, color="#333333", shrinkA=0, shrinkB=0, zorder=2))
    arrow("core", "base", (CORE_X[0] + 0.6, y), (BASE_X[1], y), at=0.5)
    # the districts between themselves
    arrow("cli", "api", bottom("cli"), top("api"), offset=(0.35, 0))
    arrow("api", "flow", bottom("api"), top("flow"), offset=(0.55, 0))
    arrow("flow", "excel", bottom("flow", -0.7), top("excel", 0.3), offset=(-0.55, 0.05))
    arrow("flow", "word", bottom("flow", 0.7), top("word", -0.3), offset=(0.15, 0.35), at=0.35)
    arrow("api", "excel", left("api"), top("excel", -0.6), rad=0.25, offset=(-0.75, 0.15), at=0.45)
    arrow("api", "word", right("api"), top("word", 0.6), rad=-0.25, offset=(0.75, -0.05), at=0.62)

    ax.text(6.0, -0.2, "arrow: imports   ·   solid: at module level, with the number of imports   ·   "
            "dashed / deferred: inside a function or under TYPE_CHECKING", ha="center", va="center", fontsize=8.5,
            color="#333333")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, facecolor="white")
    image = Image.open(buffer).convert("RGB")
    out.parent.mkdir(parents=True, exist_ok=True)
    image.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(out, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "images" / "districts.png")
    out = parser.parse_args().out
    draw(out)
    print(out, f"{out.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
