"""PDF twins of the Word documents, by LibreOffice headless.

Many documents per ``soffice`` call (one call per document costs ~1 s of start-up), at most
``instances`` calls at once, each with its own ``-env:UserInstallation`` profile: two instances on one
profile silently lose half the PDFs (docs/architecture.md, "Pitfalls"). Profiles are kept in the user's cache folder
(``libreoffice/profile-N``; a used profile starts ~0.35 s faster than a new one) and each is locked by
the process using it — and by its running ``soffice``, which inherits the lock, so a profile is never
shared even when a worker is killed mid-conversion. Where the cache cannot be used, a temporary
profile is removed when the process ends.

A missing LibreOffice or CJK font is a ``RenderError`` raised before any work, saying what to
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
from multiprocessing.util import Finalize
from pathlib import Path
from typing import IO

from pipeline.errors import RenderError
from pipeline.lock import hold
from pipeline.user_cache import cache_dir

REQUIRED_FONTS = ("Noto Serif CJK SC", "Noto Sans CJK SC")
_SOFFICE_PLACES = ("/usr/bin/soffice", "/usr/lib/libreoffice/program/soffice", "/opt/libreoffice/program/soffice",
                   "/Applications/LibreOffice.app/Contents/MacOS/soffice")
_ALIASES = {
    "Noto Serif CJK SC": ("SimSun", "宋体", "NSimSun", "新宋体", "FangSong", "仿宋", "KaiTi", "楷体", "STSong",
                          "华文宋体", "Songti SC"),
    "Noto Sans CJK SC": ("SimHei", "黑体", "Microsoft YaHei", "微软雅黑", "DengXian", "等线", "STHeiti", "PingFang SC"),
}
_slots: list[tuple[threading.Lock, Path, IO | None]] = []  # per instance: its turn, profile, lock
_slots_lock = threading.Lock()
_slots_pid = 0
_temporary: list[Path] = []


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


def require_pdf_tools() -> None:
    """Raise ``RenderError`` naming what to install when LibreOffice or the CJK fonts are missing."""
    if find_soffice() is None:
        raise RenderError("pdf.no_soffice")
    families = installed_font_families()
    if families is not None:
        missing = [f for f in REQUIRED_FONTS if f not in families]
        if missing:
            raise RenderError("pdf.no_font", {"fonts": ", ".join(missing)})


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


def _remove_temporary() -> None:
    for folder in _temporary:
        shutil.rmtree(folder, ignore_errors=True)


def _profile() -> tuple[Path, IO | None]:
    """A LibreOffice profile no other process uses, and the open file that locks it for us."""
    cache = cache_dir()
    try:
        if cache is None:
            raise OSError("no cache folder")
        root = cache / "libreoffice"
        root.mkdir(parents=True, exist_ok=True)
        for n in range(64):
            held = hold(root / f"profile-{n}.lock")
            if held is not None:
                folder = root / f"profile-{n}"
                folder.mkdir(exist_ok=True)
                _fontconfig(folder)
                return folder, held
    except OSError:  # no writable cache folder: a temporary profile
        pass
    folder = Path(tempfile.mkdtemp(prefix="certpipe-lo-"))
    if not _temporary:
        atexit.register(_remove_temporary)
        Finalize(None, _remove_temporary, exitpriority=10)  # pool workers end without atexit
    _temporary.append(folder)
    _fontconfig(folder)
    return folder, None


def _slot(i: int) -> tuple[threading.Lock, Path, IO | None]:
    global _slots_pid
    with _slots_lock:
        if _slots_pid != os.getpid():  # a forked child: the parent's profiles stay the parent's
            _slots.clear()
            _temporary.clear()
            _slots_pid = os.getpid()
        while len(_slots) <= i:
            _slots.append((threading.Lock(), *_profile()))
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


def _convert_batch(slot: int, batch: list[Path], soffice: str) -> list[Path]:
    lock, profile, held = _slot(slot)
    with lock:
        outdir = Path(tempfile.mkdtemp(prefix=".~pdf-", dir=batch[0].parent))
        try:
            env = dict(os.environ, FONTCONFIG_FILE=str(profile / "fonts.conf"))
            done: list[Path] = []
            pending = list(batch)
            for attempt in (1, 2):
                proc = _soffice(soffice, profile, outdir, pending, env, held)
                for path in pending:
                    produced = outdir / f"{path.stem}.pdf"
                    if produced.is_file() and produced.stat().st_size > 0:
                        target = path.with_suffix(".pdf")
                        shutil.move(str(produced), str(target))
                        done.append(target)
                pending = [p for p in pending if not p.with_suffix(".pdf").is_file()]
                if not pending:
                    return done  # (convert_to_pdf puts them in order)
                if attempt == 1:  # a damaged profile (a kill during its first start) fails every call: anew, once
                    shutil.rmtree(profile / "user", ignore_errors=True)
            missing = [p.name for p in pending]
            if proc.returncode != 0:
                detail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
                raise RenderError("pdf.failed", {"code": proc.returncode, "detail": " ".join(detail)})
            raise RenderError("pdf.missing_output", {"names": ", ".join(missing)})
        finally:
            shutil.rmtree(outdir, ignore_errors=True)


def _soffice(soffice: str, profile: Path, outdir: Path, paths: list[Path], env: dict,
             held: IO | None) -> subprocess.CompletedProcess:
    cmd = [soffice, f"-env:UserInstallation={(profile / 'user').as_uri()}", "--headless", "--norestore",
           "--nologo", "--nodefault", "--nolockcheck", "--convert-to", "pdf:writer_pdf_Export",
           "--outdir", str(outdir), *[str(p) for p in paths]]
    timeout = 120 + 15 * len(paths)
    try:  # the profile's lock goes to soffice too: held while it runs, even if this process is killed
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False,
                              pass_fds=(held.fileno(),) if held is not None and os.name == "posix" else ())
    except subprocess.TimeoutExpired as exc:
        raise RenderError("pdf.timeout", {"seconds": timeout}) from exc


def convert_to_pdf(paths: list[Path], *, instances: int = 2) -> list[Path]:
    """Convert .docx files to PDFs beside them (``x.docx`` → ``x.pdf``); returns the PDFs in order."""
    paths = [Path(p).resolve() for p in paths]
    if not paths:
        return []
    require_pdf_tools()
    soffice = find_soffice()
    assert soffice is not None
    instances = max(1, min(instances, 2 * (os.cpu_count() or 1)))
    batches = _batches(paths, min(instances, len(paths)))
    for i in range(len(batches)):
        _slot(i)
    with ThreadPoolExecutor(max_workers=min(instances, len(batches))) as pool:
        results = list(pool.map(lambda ib: _convert_batch(ib[0], ib[1], soffice), enumerate(batches)))
    by_source = {pdf.with_suffix(""): pdf for batch in results for pdf in batch}
    return [by_source[p.with_suffix("")] for p in paths]
