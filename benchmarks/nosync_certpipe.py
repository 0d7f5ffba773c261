"""``certpipe`` with durability switched off — a what-if for benchmarks ONLY, never for real work.

    .venv/bin/python benchmarks/nosync_certpipe.py --workspace W run --workers 2

``os.fsync`` does nothing and the ledger runs with ``PRAGMA synchronous=OFF``: the difference from a
normal run is what the per-file fsyncs (publish) and per-transaction syncs (SQLite WAL) cost. On the
measuring machine one fsync took ~4 ms and a docx-only audit made ~13 of them."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.fsync = lambda fd: None

from pipeline.flow import ledger  # noqa: E402

_init = ledger.Ledger.__init__


def _fast_init(self, path):
    _init(self, path)
    self.db.execute("PRAGMA synchronous=OFF")


ledger.Ledger.__init__ = _fast_init

from pipeline.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.argv[0] = "certpipe"
    sys.exit(main())
