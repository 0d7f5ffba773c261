"""Time workbook generation (workbooks/s) and intake+validate (ms per workbook).

    .venv/bin/python benchmarks/bench_workbook.py [--rounds N]

Generation: ``build_workbook`` for every built-in standard. Intake+validate: ``validate_file`` on
a workbook filled by ``fill_workbook`` (openpyxl-written) and on the LibreOffice-saved fixtures.
Prints medians; the machine is noisy, so compare runs made back to back."""

from __future__ import annotations

import argparse
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

BEST: list[float] = []  # the fastest round of each measurement, printed in brackets: less noise


def median_ms(fn, rounds: int) -> float:
    fn()  # warm up (imports, caches)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    BEST.append(min(times) * 1000)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"{'standard':28} {'leaves':>6} {'generate ms':>12} {'workbooks/s':>12} {'intake ms':>10} "
              f"{'intake+validate ms':>19}")
        for std in all_standards():
            blank = folder / f"{std.key}.xlsx"
            gen = median_ms(lambda std=std, blank=blank: build_workbook(std, info(), blank), max(10, rounds // 10))
            filled = folder / f"{std.key}-filled.xlsx"
            fill_workbook(blank, filled, full_scores(std))
            read = median_ms(lambda filled=filled: read_workbook(filled), rounds)
            check = median_ms(lambda filled=filled: validate_file(filled), rounds)
            print(f"{std.key:28} {len(std.leaves):6} {gen:12.1f} {1000 / gen:12.1f} {read:10.2f} {check:11.2f} "
                  f"(best {BEST[-1]:.2f})")
        print()
        print(f"{'LibreOffice-saved fixture':40} {'intake ms':>10} {'intake+validate ms':>19}")
        for name in ("lo-filled-gbt27922.xlsx", "lo-resaved-isi.xlsx", "lo-problems-qhxc002.xlsx"):
            path = WORKBOOKS / name
            read = median_ms(lambda path=path: read_workbook(path), rounds)
            check = median_ms(lambda path=path: validate_file(path), rounds)
            print(f"{name:40} {read:10.2f} {check:11.2f} (best {BEST[-1]:.2f})")


if __name__ == "__main__":
    main()
