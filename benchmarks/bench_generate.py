"""Workbook generation: ``certpipe new --schedule`` with N rows, and per-workbook times.

    .venv/bin/python benchmarks/bench_generate.py [--rows 1000] [--rounds 3]

- schedule: ``certpipe new --schedule s.csv -o DIR`` in a new process (start-up, reading the
  schedule, id allocation and writing every file counted); workbooks/s = rows / wall time.
- per workbook, in this process: ``build_workbook`` (template prepared once per standard and
  language, patched per audit) against ``build_workbook(fast=False)`` (openpyxl builds and saves
  every workbook: what certpipe did before), in the same rounds.
Prints medians, then one JSON line. Target (issue 6): ≥ 60 workbooks/s on 2 cores.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.excel.build import build_workbook  # noqa: E402
from pipeline.flow.standards import all_standards  # noqa: E402
from tests.workbook_helpers import info  # noqa: E402


def write_schedule(path: Path, rows: int) -> None:
    keys = [s.key for s in all_standards()]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["组织名称", "标准", "开始日期", "结束日期", "审核组长", "地址", "认证范围", "审核类型",
                    "审核组成员"])
        for i in range(rows):
            w.writerow([f"测试电器有限公司{i:04d}", keys[i % len(keys)], "2025-03-18", "2025-03-19", "王芳",
                        "北京市海淀区中关村大街 1 号", "家用电器售后服务", "初次认证", "李强"])


def time_schedule(schedule: Path, rows: int) -> float:
    out = Path(tempfile.mkdtemp(prefix="bench-gen-"))
    try:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pipeline", "new", "--schedule", str(schedule), "-o", str(out)],
                              capture_output=True, text=True, cwd=ROOT, check=False)
        seconds = time.perf_counter() - start
        made = len(list(out.glob("*.xlsx")))
        if proc.returncode != 0 or made != rows:
            raise SystemExit(f"certpipe new failed (rc={proc.returncode}, {made}/{rows}):\n{proc.stdout[-2000:]}"
                             f"\n{proc.stderr[-2000:]}")
        return seconds
    finally:
        shutil.rmtree(out, ignore_errors=True)


def per_workbook_ms(fast: bool, folder: Path, count: int) -> float:
    stds = all_standards()
    times = []
    for i in range(count):
        std = stds[i % len(stds)]
        start = time.perf_counter()
        build_workbook(std, info(f"T-{i:05d}"), folder / f"{'f' if fast else 's'}{i}.xlsx", fast=fast)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    folder = Path(tempfile.mkdtemp(prefix="bench-gen-"))
    try:
        schedule = folder / "schedule.csv"
        write_schedule(schedule, args.rows)
        for std in all_standards():  # prepare the templates: the per-workbook figures are steady state
            build_workbook(std, info(), folder / "warm.xlsx")
        rates, fast, slow = [], [], []
        for r in range(args.rounds):
            rates.append(args.rows / time_schedule(schedule, args.rows))
            fast.append(per_workbook_ms(True, folder, 200))
            slow.append(per_workbook_ms(False, folder, 20))
            print(f"round {r + 1}: schedule {rates[-1]:6.1f} workbooks/s   per workbook {fast[-1]:5.2f} ms "
                  f"(openpyxl every time {slow[-1]:6.1f} ms)   load {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rate, f, s = statistics.median(rates), statistics.median(fast), statistics.median(slow)
    ratio = statistics.median(b / a for a, b in zip(fast, slow, strict=True))
    print(f"certpipe new --schedule ({args.rows} rows): {rate:.0f} workbooks/s, start-up included (target ≥ 60)")
    print(f"per workbook: {f:.2f} ms patched template vs {s:.1f} ms openpyxl (×{ratio:.0f})")
    print(json.dumps({"bench": "generate", "rows": args.rows, "rounds": args.rounds,
                      "schedule_workbooks_per_s": round(rate, 1), "per_workbook_ms": round(f, 2),
                      "openpyxl_per_workbook_ms": round(s, 2), "x_openpyxl": round(ratio, 1),
                      "load": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
