"""Which files in the inbox count, and whether one is complete (docs/architecture.md, "Pitfalls").

Office programs and copies leave lock files, temp files and half-written files next to the
workbooks. A name counts when it is a workbook that is not one of those; a file is complete when
its size, mtime and inode have stopped changing (``fingerprint``) and its zip reads
(``readable_zip``). All checks here are cheap: a ``stat`` and two small zip members.
"""

from __future__ import annotations

import os
import stat
import zipfile
import zlib
from pathlib import Path

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
    if not name or name.startswith(("~$", ".", "#")) or name.endswith(("#", "~")):
        return False
    suffix = os.path.splitext(name)[1].lower()
    return suffix in WORKBOOK_SUFFIXES or suffix in FOREIGN_SUFFIXES


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


def fingerprint(path: Path) -> Fingerprint | None:
    """``(size, mtime_ns, inode)`` of a regular file, following symlinks; None when it is gone (or is
    not a regular file, or cannot be stat-ed at all). Any write, truncate, touch or rename-onto
    changes it."""
    try:
        st = os.stat(path)
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


def inbox_files(ws: Workspace) -> list[Path]:
    """The workbooks waiting in the inbox, oldest first (a file that leaves meanwhile is skipped)."""
    if not ws.inbox.is_dir():
        return []
    found = []
    for path in ws.inbox.iterdir():
        if is_candidate(path):
            try:
                found.append((path.stat().st_mtime_ns, path.name, path))
            except FileNotFoundError:
                continue
    return [path for _, _, path in sorted(found)]
