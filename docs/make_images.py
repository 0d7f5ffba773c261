"""Pictures for the guides, made from the REAL files: a demo workspace is processed by certpipe,
LibreOffice (headless) prints the workbooks, report and certificate to PDF, pdftoppm renders
pages to PNG, and Pillow trims the margins and reduces the palette to keep the files small.

    .venv/bin/python docs/make_images.py [--out docs/images]

Needs soffice and pdftoppm (poppler-utils) and fonts-noto-cjk, as PDF output does."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageChops

HERE = Path(__file__).resolve().parent
CERTPIPE = Path(sys.executable).with_name("certpipe")
AUDIT = "DEMO-2026-002"  # GB/T 27922, three stars: every part of the output is present

# picture name → (source document, page, dpi, keep the top fraction of the page or None)
PICTURES = {
    "workbook-cover.png": ("workbook.xlsx", 1, 70, 0.55),
    "workbook-scoring.png": ("workbook.xlsx", 2, 80, 0.86),
    "workbook-guide.png": ("workbook.xlsx", 3, 70, 0.55),
    "workbook-bands.png": ("bands.xlsx", 2, 80, 0.6),
    "rejected-list.png": ("problems.xlsx", 1, 110, 0.25),
    "rejected-cover.png": ("problems.xlsx", 2, 70, 0.5),
    "rejected-scoring.png": ("problems.xlsx", 3, 80, 0.35),
    "report-cover.png": ("report.docx", 1, 60, None),
    "report-scores.png": ("report.docx", 3, 70, None),
    "certificate.png": ("certificate.docx", 1, 70, None),
}


def trim(image: Image.Image, pad: int = 10) -> Image.Image:
    """Cut the white margins (keeping ``pad`` pixels)."""
    rgb = image.convert("RGB")
    box = ImageChops.difference(rgb, Image.new("RGB", rgb.size, "white")).getbbox()
    if not box:
        return rgb
    left, top, right, bottom = box
    return rgb.crop((max(left - pad, 0), max(top - pad, 0), min(right + pad, rgb.width),
                     min(bottom + pad, rgb.height)))


def save_small(image: Image.Image, path: Path) -> None:
    image.quantize(colors=96, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "images")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="certpipe-images-") as tmp_name:
        tmp = Path(tmp_name)
        subprocess.run([str(CERTPIPE), "-q", "demo", str(tmp / "ws")], check=True, capture_output=True)
        ws = tmp / "ws"
        sources = {
            "workbook.xlsx": next(ws.glob(f"archive/*/{AUDIT}-*.xlsx")),
            "bands.xlsx": next(ws.glob("archive/*/DEMO-2026-007-*.xlsx")),  # information-system spec: % bands
            "problems.xlsx": next(ws.glob("outbox/_rejected/*/*-problems.xlsx")),
            "report.docx": ws / "outbox" / AUDIT / f"{AUDIT}-report.docx",
            "certificate.docx": ws / "outbox" / AUDIT / f"{AUDIT}-certificate.docx",
        }
        docs = tmp / "docs"
        docs.mkdir()
        for name, source in sources.items():
            shutil.copy(source, docs / name)
        subprocess.run(["soffice", f"-env:UserInstallation={(tmp / 'lo').as_uri()}", "--headless", "--norestore",
                        "--convert-to", "pdf", "--outdir", str(docs), *sorted(str(docs / n) for n in sources)],
                       check=True, capture_output=True, timeout=300)
        for picture, (source, page, dpi, top) in PICTURES.items():
            pdf = docs / (Path(source).stem + ".pdf")
            stem = tmp / f"page-{Path(picture).stem}"
            subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile",
                            str(pdf), str(stem)], check=True)
            image = Image.open(f"{stem}.png")
            if top:
                image = image.crop((0, 0, image.width, int(image.height * top)))
            save_small(trim(image), out / picture)
        # the README's picture: workbook → report → certificate, side by side
        parts = [Image.open(out / n).convert("RGB") for n in ("workbook-scoring.png", "report-scores.png",
                                                                "certificate.png")]
        height = 300
        parts = [p.resize((round(p.width * height / p.height), height), Image.Resampling.LANCZOS) for p in parts]
        gap = 16
        strip = Image.new("RGB", (sum(p.width for p in parts) + gap * (len(parts) - 1), height), "white")
        x = 0
        for part in parts:
            strip.paste(part, (x, 0))
            x += part.width + gap
        save_small(strip, out / "overview.png")
    total = sum(p.stat().st_size for p in out.glob("*.png"))
    print(f"{len(PICTURES) + 1} pictures in {out}, {total // 1024} KB")


if __name__ == "__main__":
    main()
