"""The per-file time limit's own cost, and how soon an overrun is interrupted.

    .venv/bin/python benchmarks/bench_timelimit.py [--blocks 2000] [--run 20 --rounds 3]

- cost: an empty ``with time_limit(60):`` block, per block; a file takes three such blocks (copy,
  check, render), so this is paid three times a file.
- busy cost: what a block adds to 1 ms of work inside it, Python and system calls (median wall
  time of such blocks minus the median of the same work without a block). This is where a
  watchdog woken for every block showed: it took Python's lock from the busy main thread and
  handed it back.
- latency: how long after its limit a busy pure-Python block is interrupted (SIGINT to the main
  thread on POSIX; ``interrupt_main`` elsewhere).
- with ``--run N``: what the hard limit costs ``certpipe run --workers 1`` (its files are processed in
  a worker process that can be ended, no longer in the driver's own): wall time of the command as a
  user starts it, on an empty inbox (start-up alone) and on N workbooks (``benchmarks/corpus.py``),
  a fresh workspace each round, medians of ``--rounds``. Run it from an older checkout to compare.
Prints medians, then one JSON line. Target: the limit costs under 1 % of a file's ~10 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from pipeline.flow.timelimit import TimeLimit, time_limit  # noqa: E402


def run_once(files: list[Path]) -> float:
    """Seconds of ``certpipe run --workers 1`` on ``files`` in a fresh workspace."""
    ws = Path(tempfile.mkdtemp(prefix="bench-timelimit-"))
    try:
        (ws / "inbox").mkdir()
        (ws / "certpipe.toml").write_text("[intake]\naccept_unknown_audits = true\n", encoding="utf-8")
        for src in files:
            shutil.copyfile(src, ws / "inbox" / src.name)
        env = {**os.environ, "CERTPIPE_WATCH_SETTLE_SECONDS": "0"}
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "pipeline", "--workspace", str(ws), "-q", "run", "--workers", "1"],
                              cwd=HERE.parent, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if done.returncode not in (0, 1):
            raise SystemExit(done.stdout + done.stderr)
        return seconds
    finally:
        shutil.rmtree(ws, ignore_errors=True)


def drivers(n: int, rounds: int) -> dict:
    from corpus import corpus

    files = corpus(n)
    empty, full = [], []
    for _ in range(rounds):  # interleaved, so load from other work hits both alike
        empty.append(run_once([]))
        full.append(run_once(files))
    result = {"run_w1_empty_s": round(statistics.median(empty), 2), "run_w1_files": n,
              "run_w1_s": round(statistics.median(full), 2)}
    print(f"certpipe run --workers 1: empty inbox {result['run_w1_empty_s']} s, {n} workbooks "
          f"{result['run_w1_s']} s (medians of {rounds})")
    return result


def _work(seconds: float) -> None:
    """Work as a file's steps do it for ``seconds``: Python, and system calls that let go of the
    interpreter's lock (where another thread waiting for it takes it)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        sum(range(50))
        os.stat(HERE)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=2000)
    parser.add_argument("--run", type=int, default=0, help="also time `certpipe run --workers 1` on this many files")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    costs = []
    for _ in range(args.blocks):
        started = time.perf_counter()
        with time_limit(60):
            pass
        costs.append(time.perf_counter() - started)
    busy, bare = [], []
    for _ in range(args.blocks // 4):  # interleaved
        started = time.perf_counter()
        _work(0.001)
        bare.append(time.perf_counter() - started)
        started = time.perf_counter()
        with time_limit(60):
            _work(0.001)
        busy.append(time.perf_counter() - started)
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
              "busy_block_us": round((statistics.median(busy) - statistics.median(bare)) * 1e6, 1),
              "interrupt_late_ms": round(statistics.median(late) * 1e3, 2)}
    print(f"time_limit block: {result['block_us']} µs (median of {args.blocks}); around 1 ms of work: "
          f"+{result['busy_block_us']} µs (medians of {len(busy)}); "
          f"an overrun interrupted {result['interrupt_late_ms']} ms after its limit (median of 20)")
    if args.run:
        result |= drivers(args.run, args.rounds)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
