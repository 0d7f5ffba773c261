"""Filled workbooks for the benchmarks: N distinct audits across the built-in standards.

The demo samples (one audit per level of every standard, and one failing) are filled once with
openpyxl; every further workbook is a copy with its own audit id (same length, patched in the sheet
XML), so each has distinct content (the ledger would take equal files for duplicates) and its own
output folder. Made once per N and kept in ``$TMPDIR/certpipe-bench-corpus-N``."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import zipfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.excel.build import build_workbook  # noqa: E402
from pipeline.excel.fill import fill_audit  # noqa: E402
from pipeline.excel.samples import samples  # noqa: E402
from pipeline.flow.standards import all_standards  # noqa: E402


def _proto_id(i: int) -> str:
    return f"BP{i:02d}-00000000"


def prototypes(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    stds = all_standards()
    by_key = {s.key: s for s in stds}
    for i, sample in enumerate(s for s in samples(stds) if not s.problems):
        audit = replace(sample.audit, info=replace(sample.audit.info, audit_id=_proto_id(i)))
        blank = build_workbook(by_key[audit.standard_key], audit.info, folder / f"blank-{i}.xlsx")
        target = folder / f"proto-{i:02d}.xlsx"
        fill_audit(blank, target, audit)
        blank.unlink()
        made.append(target)
    return made


def clone(proto: Path, proto_index: int, n: int, dest: Path) -> None:
    old = _proto_id(proto_index).encode()
    new = f"BP{proto_index:02d}-{n:08d}".encode()
    with zipfile.ZipFile(proto) as src, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                data = data.replace(old, new)
            out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)


def _definitions_stamp() -> str:
    """The built-in definitions' keys, editions and scoring hashes: a corpus made from other ones is
    made again (its workbooks would go through the check for workbooks made before the scoring hash,
    which new workbooks never take, and measure that instead)."""
    return "\n".join(f"{s.key} {s.edition} {s.fingerprint()}" for s in sorted(all_standards(), key=lambda s: s.key))


def corpus(n: int) -> list[Path]:
    """``n`` filled, valid workbooks (made once, then reused while the definitions are the same)."""
    folder = Path(tempfile.gettempdir()) / f"certpipe-bench-corpus-{n}"
    stamp = folder / "_definitions.txt"
    files = sorted(folder.glob("*.xlsx")) if folder.is_dir() else []
    if len(files) == n and stamp.is_file() and stamp.read_text(encoding="utf-8") == _definitions_stamp():
        return files
    shutil.rmtree(folder, ignore_errors=True)
    protos = prototypes(folder / "_protos")
    for k in range(n):
        i = k % len(protos)
        clone(protos[i], i, k, folder / f"audit-{k:05d}.xlsx")
    shutil.rmtree(folder / "_protos")
    stamp.write_text(_definitions_stamp(), encoding="utf-8")
    return sorted(folder.glob("*.xlsx"))


#: The environment certpipe runs in here: the files were just copied in, but they are complete, so
#: ``run`` need not wait for them to settle (a real inbox's files are older than the settle time).
#: Python may cache compiled modules, as on every installation (a shell that forbids it would add
#: ~0.7 s of compiling to every command's start).
RUN_ENV = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
           "CERTPIPE_WATCH_SETTLE_SECONDS": "0"}


def fill_inbox(files: list[Path], inbox: Path) -> None:
    """The files into a workspace's inbox. The corpus was made outside the workspace, so its audits
    are accepted as external ([intake] accept_unknown_audits; each is then recorded, as in real use)."""
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox.parent / "certpipe.toml").write_text("[intake]\naccept_unknown_audits = true\n", encoding="utf-8")
    for f in files:
        shutil.copyfile(f, inbox / f.name)


if __name__ == "__main__":
    print(len(corpus(int(sys.argv[1]) if len(sys.argv) > 1 else 500)))
