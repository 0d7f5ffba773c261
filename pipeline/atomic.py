"""Writing a file so that nobody ever sees it half-written: a temporary file in the same folder,
flushed, then renamed over the target."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from openpyxl import Workbook


def save_workbook(wb: Workbook, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".~certpipe-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
