"""The per-file time limit's own cost, and how soon an overrun is interrupted.

    .venv/bin/python benchmarks/bench_timelimit.py [--blocks 2000]

- cost: an empty ``with time_limit(60):`` block (a watchdog thread started and told to stop), per
  block; a file takes three such blocks (copy, check, render), so this is paid three times a file.
- latency: how long after its limit a busy pure-Python block is interrupted (SIGINT to the main
  thread on POSIX; ``interrupt_main`` elsewhere).
Prints medians, then one JSON line. Target: the limit costs under 1 % of a file's ~10 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.flow.timelimit import TimeLimit, time_limit


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=2000)
    args = parser.parse_args()
    costs = []
    for _ in range(args.blocks):
        started = time.perf_counter()
        with time_limit(60):
            pass
        costs.append(time.perf_counter() - started)
    late = []
    for _ in range(20):
        started = time.perf_counter()
        try:
            with time_limit(0.05):
                while True:
                    sum(range(100))
        except TimeLimit:
            late.append(time.perf_counter() - started - 0.05)
    result = {"block_us": round(statistics.median(costs) * 1e6, 1),
              "interrupt_late_ms": round(statistics.median(late) * 1e3, 2)}
    print(f"time_limit block: {result['block_us']} µs (median of {args.blocks}); "
          f"an overrun interrupted {result['interrupt_late_ms']} ms after its limit (median of 20)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
