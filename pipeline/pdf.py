"""PDF twins of the Word documents, by LibreOffice headless.

Many documents per ``soffice`` call (one call per document costs ~1 s of start-up), at most
``instances`` calls at once, each with its own ``-env:UserInstallation`` profile: two instances on one
profile silently lose half the PDFs (MEASUREMENTS.md). Profiles live for the process and are removed
at exit. A missing LibreOffice or CJK font is a ``RenderError`` raised before any work, saying what to
install. LibreOffice runs with a fontconfig file that maps the Windows Chinese fonts a clerk may pick
(宋体, 黑体, 微软雅黑 ...) to the installed Noto CJK SC fonts, so they do not fall back to the
Japanese glyph variants (pitfall 3).
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pipeline.errors import RenderError
from pipeline.i18n import t

REQUIRED_FONTS = ("Noto Serif CJK SC", "Noto Sans CJK SC")
_SOFFICE_PLACES = ("/usr/bin/soffice", "/usr/lib/libreoffice/program/soffice", "/opt/libreoffice/program/soffice",
                   "/Applications/LibreOffice.app/Contents/MacOS/soffice")
_ALIASES = {
    "Noto Serif CJK SC": ("SimSun", "宋体", "NSimSun", "新宋体", "FangSong", "仿宋", "KaiTi", "楷体", "STSong",
                          "华文宋体", "Songti SC"),
    "Noto Sans CJK SC": ("SimHei", "黑体", "Microsoft YaHei", "微软雅黑", "DengXian", "等线", "STHeiti", "PingFang SC"),
}
_slots: list[tuple[threading.Lock, Path]] = []
_slots_lock = threading.Lock()


def find_soffice() -> str | None:
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return next((p for p in _SOFFICE_PLACES if os.access(p, os.X_OK)), None)


_families: set[str] | None = None


def installed_font_families() -> set[str] | None:
    """Font families fontconfig knows (what LibreOffice sees), or None when fc-list is absent.
    Asked once per process when every required font is there (``fc-list`` costs 10-70 ms, and
    ``require_pdf_tools`` runs for every audit of a ``run --pdf``)."""
    global _families
    if _families is not None:
        return _families
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return None
    try:
        out = subprocess.run([fc_list, ":", "family"], capture_output=True, text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = {name.strip() for line in out.splitlines() for name in line.split(",")}
    if all(font in found for font in REQUIRED_FONTS):
        _families = found  # a missing font is looked for again: it may be installed meanwhile
    return found


def require_pdf_tools(lang: str = "zh") -> None:
    """Raise ``RenderError`` naming what to install when LibreOffice or the CJK fonts are missing."""
    if find_soffice() is None:
        raise RenderError(t("pdf.no_soffice", lang), hint=t("pdf.no_soffice.hint", lang), key="pdf.no_soffice")
    families = installed_font_families()
    if families is not None:
        missing = [f for f in REQUIRED_FONTS if f not in families]
        if missing:
            params = {"fonts": ", ".join(missing)}
            raise RenderError(t("pdf.no_font", lang, **params), hint=t("pdf.no_font.hint", lang),
                              key="pdf.no_font", params=params)


def _fontconfig(folder: Path) -> Path:
    rules = "".join(
        f"<alias binding=\"same\"><family>{alias}</family><prefer><family>{target}</family></prefer></alias>"
        for target, aliases in _ALIASES.items() for alias in aliases
    )
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"{rules}</fontconfig>", encoding="utf-8")
    return conf


def _cleanup() -> None:
    for _, folder in _slots:
        shutil.rmtree(folder, ignore_errors=True)


def _slot(i: int) -> tuple[threading.Lock, Path]:
    with _slots_lock:
        if not _slots:
            atexit.register(_cleanup)
        while len(_slots) <= i:
            folder = Path(tempfile.mkdtemp(prefix=f"certpipe-lo{len(_slots)}-"))
            _fontconfig(folder)
            _slots.append((threading.Lock(), folder))
        return _slots[i]


def _batches(paths: list[Path], count: int) -> list[list[Path]]:
    """Spread ``paths`` over ``count`` batches; no two files of one batch share a name."""
    batches: list[list[Path]] = [[] for _ in range(max(1, count))]
    names: list[set[str]] = [set() for _ in batches]
    for i, path in enumerate(paths):
        order = list(range(i % len(batches), len(batches))) + list(range(i % len(batches)))
        for b in order:
            if path.stem not in names[b]:
                break
        else:
            batches.append([])
            names.append(set())
            b = len(batches) - 1
        batches[b].append(path)
        names[b].add(path.stem)
    return [b for b in batches if b]


def _convert_batch(slot: int, batch: list[Path], soffice: str, lang: str) -> list[Path]:
    lock, profile = _slot(slot)
    with lock:
        outdir = Path(tempfile.mkdtemp(prefix=".~pdf-", dir=batch[0].parent))
        try:
            env = dict(os.environ, FONTCONFIG_FILE=str(profile / "fonts.conf"))
            cmd = [soffice, f"-env:UserInstallation={(profile / 'user').as_uri()}", "--headless", "--norestore",
                   "--nologo", "--nodefault", "--nolockcheck", "--convert-to", "pdf:writer_pdf_Export",
                   "--outdir", str(outdir), *[str(p) for p in batch]]
            timeout = 120 + 15 * len(batch)
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
            except subprocess.TimeoutExpired as exc:
                raise RenderError(t("pdf.timeout", lang, seconds=timeout)) from exc
            done, missing = [], []
            for path in batch:
                produced = outdir / f"{path.stem}.pdf"
                if produced.is_file() and produced.stat().st_size > 0:
                    target = path.with_suffix(".pdf")
                    shutil.move(str(produced), str(target))
                    done.append(target)
                else:
                    missing.append(path.name)
            if proc.returncode != 0 and missing:
                detail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
                raise RenderError(t("pdf.failed", lang, code=proc.returncode, detail=" ".join(detail)))
            if missing:
                raise RenderError(t("pdf.missing_output", lang, names=", ".join(missing)))
            return done
        finally:
            shutil.rmtree(outdir, ignore_errors=True)


def convert_to_pdf(paths: list[Path], *, instances: int = 2, lang: str = "zh") -> list[Path]:
    """Convert .docx files to PDFs beside them (``x.docx`` → ``x.pdf``); returns the PDFs in order."""
    paths = [Path(p).resolve() for p in paths]
    if not paths:
        return []
    require_pdf_tools(lang)
    soffice = find_soffice()
    assert soffice is not None
    instances = max(1, min(instances, 2 * (os.cpu_count() or 1)))
    batches = _batches(paths, min(instances, len(paths)))
    for i in range(len(batches)):
        _slot(i)
    with ThreadPoolExecutor(max_workers=min(instances, len(batches))) as pool:
        results = list(pool.map(lambda ib: _convert_batch(ib[0], ib[1], soffice, lang), enumerate(batches)))
    by_source = {pdf.with_suffix(""): pdf for batch in results for pdf in batch}
    return [by_source[p.with_suffix("")] for p in paths]
