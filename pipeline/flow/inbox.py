"""Which files in the inbox count, and whether one is complete (docs/architecture.md, "Pitfalls").

Office programs and copies leave lock files, temp files and half-written files next to the
workbooks. A name counts when it is a workbook that is not one of those; a file is complete when
its size, mtime and inode have stopped changing (``fingerprint``) and its zip reads
(``readable_zip``). All checks here are cheap: a ``stat`` and two small zip members.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import time
import zipfile
import zlib
from pathlib import Path

from pipeline.flow.intake_file import kind_of
from pipeline.workspace import Workspace

#: Workbooks the pipeline reads.
WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm"})
#: Spreadsheets it cannot read: they still count, so the processing step rejects them with a reason
#: instead of the watcher ignoring them without a word.
FOREIGN_SUFFIXES = frozenset({".xls", ".xlsb", ".ods"})

#: The members every .xlsx/.xlsm has; reading them checks the zip's central directory and CRCs.
REQUIRED_MEMBERS = ("[Content_Types].xml", "xl/workbook.xml")

Fingerprint = tuple[int, int, int]


def name_counts(name: str) -> bool:
    """The name-only part of ``is_candidate`` (no file-system access).

    Ignored: Excel's ``~$name.xlsx`` owner file, LibreOffice's ``.~lock.name.xlsx#``, any ``*.tmp``
    (Excel's renamed original, LibreOffice's ``lu*.tmp``), dot-files (rsync, editors, macOS ``._``),
    Emacs-style ``#name#`` and anything that is not a spreadsheet suffix (Excel's extension-less
    temp file ``ABCD1234``, ``name.xlsx~`` backups, ``name.xlsx.part`` downloads).
    """
    if not name or _editors(name):
        return False
    suffix = os.path.splitext(name)[1].lower()
    return suffix in WORKBOOK_SUFFIXES or suffix in FOREIGN_SUFFIXES


def _editors(name: str) -> bool:
    """An editor's lock, backup or hidden file (``~$x.xlsx``, ``.~lock.x#``, ``x~``, ``#x#``, dot-files)."""
    return name.startswith(("~$", ".", "#")) or name.endswith(("#", "~"))


def is_candidate(path: Path) -> bool:
    """True when ``path`` names a spreadsheet the pipeline should see: a workbook (.xlsx/.xlsm) or a
    spreadsheet it will reject with a reason (.xls/.xlsb/.ods), and not a lock, temp, hidden file or
    directory. A path that does not exist (yet) is judged by its name alone."""
    path = Path(path)
    if not name_counts(path.name):
        return False
    try:
        return not path.is_dir()
    except OSError:
        return True


def needs_zip_check(path: Path) -> bool:
    """Whether completeness includes ``readable_zip``: only for the suffixes the pipeline reads.
    A .xls/.xlsb/.ods is handed over once settled; waiting for it to read as .xlsx would only delay
    its rejection."""
    return Path(path).suffix.lower() in WORKBOOK_SUFFIXES


def fingerprint(path: Path, *, follow: bool = True) -> Fingerprint | None:
    """``(size, mtime_ns, inode)`` of a regular file (following symlinks unless ``follow`` is False);
    None when it is gone (or is not a regular file, or cannot be stat-ed at all). Any write, truncate,
    touch or rename-onto changes it."""
    try:
        st = os.stat(path, follow_symlinks=follow)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


MAX_CHECKED_MEMBER = 16 * 2**20  # larger than any real [Content_Types].xml or workbook.xml


def readable_zip(path: Path) -> bool:
    """True when ``path`` opens as a zip and ``[Content_Types].xml`` and ``xl/workbook.xml`` read in
    full with their CRC checked. False for half-written files (no end-of-central-directory record),
    truncated or corrupt members, encrypted workbooks (an OLE file, not a zip), .xls, and files that
    vanish or cannot be opened. A member claiming to be huge is not inflated (a zip bomb is handed
    over at once, to be rejected by intake's limits). Never raises."""
    try:
        with zipfile.ZipFile(path) as zf:
            for member in REQUIRED_MEMBERS:
                if zf.getinfo(member).file_size > MAX_CHECKED_MEMBER:
                    return True
                # reading to the end decompresses the member in chunks and checks its CRC
                with zf.open(member) as fh:
                    read = 0
                    while chunk := fh.read(1 << 16):
                        read += len(chunk)
                        if read > MAX_CHECKED_MEMBER:  # the header lied about the size
                            return True
    except (
        OSError,
        EOFError,
        KeyError,
        ValueError,
        RuntimeError,
        NotImplementedError,
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
    ):
        return False
    return True


def scan(ws: Workspace) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The inbox's candidate files (regular files only, never followed through a link), oldest first;
    and the entries named like workbooks that are not regular files, with what they are (a link, a
    folder, a named pipe...: reported, never read). Nothing here opens a file."""
    files, others = [], []
    try:
        entries = list(os.scandir(ws.inbox))
    except FileNotFoundError:
        return [], []
    for entry in entries:
        if not name_counts(entry.name):
            continue
        path = ws.inbox / entry.name
        try:
            st = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        except OSError:
            others.append((path, "other"))
            continue
        if stat.S_ISREG(st.st_mode):
            files.append((st.st_mtime_ns, entry.name, path))
        else:
            others.append((path, kind_of(st.st_mode)))
    return [path for _, _, path in sorted(files)], sorted(others)


_EXCEL_TEMP = re.compile(r"^[0-9A-F]{8}$")  # Excel's extension-less temporary file


def strays(ws: Workspace) -> list[str]:
    """Files in the inbox that certpipe leaves alone and a person may have dropped there by mistake
    (``notes.txt``, ``report.docx``): not a spreadsheet, and not an editor's lock or temporary file;
    and folders (``张伟/``, named with a ``/``): the workbooks in them are never taken, only those
    directly in the inbox."""
    try:
        entries = list(os.scandir(ws.inbox))
    except OSError:
        return []
    found = []
    for entry in entries:
        name = entry.name
        if (name_counts(name) or _editors(name) or name.lower().endswith((".tmp", ".part", ".crdownload"))
                or _EXCEL_TEMP.match(name)):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False):
                found.append(name)
            elif entry.is_dir(follow_symlinks=False) and not name.startswith("."):
                found.append(name + "/")
    return sorted(found)


def inbox_files(ws: Workspace) -> list[Path]:
    """The workbooks waiting in the inbox, oldest first."""
    return scan(ws)[0]


def unsettled(paths: list[Path], settle: float, *, now: float | None = None) -> dict[Path, Fingerprint]:
    """The files changed within the last ``settle`` seconds (still being written, perhaps), with their
    fingerprint now. A file with a modification time in the future is judged by the distance."""
    now = time.time() if now is None else now
    young = {}
    for path in paths:
        fp = fingerprint(path, follow=False)
        if fp is not None and abs(now - fp[1] / 1e9) < settle:
            young[path] = fp
    return young
