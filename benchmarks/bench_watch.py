"""Watch latency and a burst: ``certpipe watch`` running, workbooks moved into the inbox.

    .venv/bin/python benchmarks/bench_watch.py [--files 50] [--gap 0.5] [--back-to-back 20] [--burst 1000]

- latency: one workbook at a time is renamed into the inbox (a move: one ``created`` event) and the
  clock runs until its output folder appears in the outbox (published by an atomic rename); the next
  one follows ``--gap`` seconds after the previous left the inbox. Printed: median and p95 minus the
  settle time (the wait the watcher imposes on purpose). Then ``--back-to-back`` files each dropped
  the moment the previous one left the inbox: they meet the register rewrite the watcher does when
  it falls idle, so this latency grows with the number of certificates in the register.
- burst: ``--burst`` workbooks renamed into the inbox at once; time until every one is published
  and archived, then the ledger is checked: each input exactly once (one ``done`` row per file, no
  duplicates, no second revision of any output).
Ends with one JSON line. Target (issue 6): ≤ 300 ms above the settle time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import python_calamine  # noqa: E402
from corpus import corpus  # noqa: E402


def audit_id(path: Path) -> str:
    rows = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("_meta").to_python()
    return next(str(r[1]) for r in rows if r[0] == "audit_id")


def wait_for(predicate, timeout: float, poll: float = 0.005) -> float:
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > timeout:
            raise SystemExit("timed out waiting for the watcher")
        time.sleep(poll)
    return time.perf_counter()


def percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--settle", type=float, default=1.0)
    parser.add_argument("--gap", type=float, default=0.5)
    parser.add_argument("--back-to-back", type=int, default=20)
    args = parser.parse_args()
    files = corpus(args.burst + args.files + 1 + args.back_to_back)
    burst, singles = files[: args.burst], files[args.burst: args.burst + args.files + 1]
    quick = files[args.burst + args.files + 1:]
    ws = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    side = ws / "incoming"  # same filesystem as the inbox: a rename is one event, as a move is
    side.mkdir()
    (ws / "inbox").mkdir()
    (ws / "certpipe.toml").write_text("[intake]\naccept_unknown_audits = true\n", encoding="utf-8")  # made elsewhere
    outbox = ws / "outbox"
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}, settle {args.settle} s")
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "--workspace", str(ws), "-q", "watch",
                             "--settle", str(args.settle)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=HERE.parent)
    def one(src: Path, gap: float) -> float:
        ident = audit_id(src)
        staged = side / src.name
        shutil.copyfile(src, staged)
        start = time.perf_counter()
        os.rename(staged, ws / "inbox" / src.name)
        end = wait_for(lambda: (outbox / ident).is_dir(), timeout=120)
        wait_for(lambda: not (ws / "inbox" / src.name).exists(), timeout=30)
        time.sleep(gap)
        return (end - start - args.settle) * 1000

    try:
        one(singles[0], 2.0)  # the first file also pays for start-up (imports, templates): not counted
        latencies = sorted(one(src, args.gap) for src in singles[1:])
        median, p95 = statistics.median(latencies), percentile(latencies, 0.95)
        print(f"latency over {len(latencies)} files, minus settle: median {median:.0f} ms, p95 {p95:.0f} ms "
              f"(target ≤ 300 ms)")
        b2b = sorted(one(src, 0.0) for src in quick) or [0.0]
        print(f"back to back ({len(quick)} files): median {statistics.median(b2b):.0f} ms, "
              f"p95 {percentile(b2b, 0.95):.0f} ms above settle")

        for src in burst:
            shutil.copyfile(src, side / src.name)
        start = time.perf_counter()
        for src in burst:
            os.rename(side / src.name, ws / "inbox" / src.name)
        wait_for(lambda: not any(os.scandir(ws / "inbox")), timeout=3600, poll=0.1)
        burst_seconds = time.perf_counter() - start
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
    db = sqlite3.connect(ws / ".certpipe" / "ledger.sqlite")
    statuses = dict(db.execute("SELECT status, COUNT(*) FROM inputs GROUP BY status").fetchall())
    distinct = db.execute("SELECT COUNT(DISTINCT name) FROM inputs WHERE status = 'done'").fetchone()[0]
    db.close()
    published = [p for p in outbox.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))]
    second = [p.name for p in published if (p / "history").exists()]
    total = args.burst + len(singles) + len(quick)
    exactly_once = (statuses.get("done") == total and distinct == total and len(published) == total and not second)
    shutil.rmtree(ws, ignore_errors=True)
    print(f"burst of {args.burst}: all published and archived in {burst_seconds:.1f} s "
          f"({args.burst / burst_seconds:.1f}/s); ledger {statuses}; exactly once: {exactly_once}")
    print(json.dumps({"bench": "watch", "settle_s": args.settle, "files": len(latencies),
                      "latency_median_ms": round(median), "latency_p95_ms": round(p95),
                      "back_to_back_median_ms": round(statistics.median(b2b)), "burst": args.burst,
                      "burst_seconds": round(burst_seconds, 1), "exactly_once": exactly_once,
                      "load": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
