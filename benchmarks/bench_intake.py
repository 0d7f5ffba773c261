"""Intake + validate: ms per workbook, saved by openpyxl and by LibreOffice.

    .venv/bin/python benchmarks/bench_intake.py [--rounds 200]

openpyxl-saved: a workbook of every built-in standard filled by ``fill_workbook`` (valid, every
indicator scored). LibreOffice-saved: the fixtures in ``tests/fixtures/workbooks/`` (filled and
re-saved through UNO; one with problems). ``read_workbook`` alone and ``validate_file`` (read +
every check), medians over the rounds after a warm-up. Ends with one JSON line.
Target (issue 6): ≤ 5 ms per workbook.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.workbook_helpers import WORKBOOKS, full_scores, info  # noqa: E402

from pipeline.excel.build import build_workbook  # noqa: E402
from pipeline.excel.fill import fill_workbook  # noqa: E402
from pipeline.excel.intake import read_workbook  # noqa: E402
from pipeline.flow.check_file import validate_file  # noqa: E402
from pipeline.flow.standards import all_standards  # noqa: E402

LIBREOFFICE = ("lo-filled-gbt27922.xlsx", "lo-resaved-isi.xlsx", "lo-problems-qhxc002.xlsx")


def median_ms(fn, rounds: int) -> float:
    fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    rounds = parser.parse_args().rounds
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        paths: dict[str, tuple[str, Path]] = {}
        for std in all_standards():
            blank = build_workbook(std, info(), Path(tmp) / f"{std.key}.xlsx")
            filled = Path(tmp) / f"{std.key}-filled.xlsx"
            fill_workbook(blank, filled, full_scores(std))
            paths[f"openpyxl {std.key}"] = ("openpyxl", filled)
        for name in LIBREOFFICE:
            paths[f"LibreOffice {name}"] = ("libreoffice", WORKBOOKS / name)
        print(f"{'workbook':48} {'intake ms':>10} {'intake+validate ms':>19} {'problems':>9}")
        for label, (saver, path) in paths.items():
            read = median_ms(lambda path=path: read_workbook(path), rounds)
            check = median_ms(lambda path=path: validate_file(path), rounds)
            problems = len(validate_file(path).problems)
            results[label] = {"saved_by": saver, "intake_ms": round(read, 2), "validate_ms": round(check, 2),
                              "problems": problems}
            print(f"{label:48} {read:10.2f} {check:19.2f} {problems:9d}")
    by = {s: statistics.median(r["validate_ms"] for r in results.values() if r["saved_by"] == s)
          for s in ("openpyxl", "libreoffice")}
    print(f"median intake+validate: openpyxl-saved {by['openpyxl']:.2f} ms, LibreOffice-saved "
          f"{by['libreoffice']:.2f} ms (target ≤ 5)")
    print(json.dumps({"bench": "intake", "rounds": rounds, "openpyxl_validate_ms": round(by["openpyxl"], 2),
                      "libreoffice_validate_ms": round(by["libreoffice"], 2), "per_file": results,
                      "load": os.getloadavg()[0]}, ensure_ascii=False))


if __name__ == "__main__":
    main()
