"""Memory of one ``certpipe run`` over many audits: RSS of the whole process tree, sampled.

    .venv/bin/python benchmarks/bench_memory.py [--n 10000] [--workers 2] [--marks 1000,5000,10000]

Starts ``certpipe --workspace W run --workers 2`` on N filled audits and samples every 0.25 s, from
/proc, the RSS of the process and all its descendants (summed: pages shared after fork count once
per process, so this overstates what the machine loses) and their PSS (shared pages divided among
the processes sharing them: what the tree really costs). Prints the figures when 1k, 5k, 10k audits
have been archived (the tree, the parent alone and the largest worker), the peak, then one JSON line.
Targets: peak RSS ≤ 250 MB (issue 19; 400 MB in issue 6), flat in N.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from corpus import RUN_ENV, corpus, fill_inbox  # noqa: E402


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as fh:
                    ppid = int(fh.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _kb(path: str, key: str) -> int:
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_memory(root: int) -> tuple[float, float, int, float, float]:
    """(RSS MB summed, PSS MB summed, processes, RSS MB of ``root`` alone, largest RSS MB of a
    descendant) of ``root`` and its descendants: which process grows, when one does."""
    tree, todo, pids = _children(), [root], []
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo += tree.get(pid, [])
    each = {p: _kb(f"/proc/{p}/status", "VmRSS:") for p in pids}
    pss = sum(_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids)
    child = max((kb for p, kb in each.items() if p != root), default=0)
    return sum(each.values()) / 1024, pss / 1024, len(pids), each[root] / 1024, child / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--marks", default="1000,5000,10000")
    args = parser.parse_args()
    marks = [m for m in (int(x) for x in args.marks.split(",")) if m <= args.n] or [args.n]
    files = corpus(args.n)
    ws = Path(tempfile.mkdtemp(prefix="bench-mem-"))
    print(f"{args.n} audits, {args.workers} workers, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    try:
        fill_inbox(files, ws / "inbox")
        inbox = ws / "inbox"
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "pipeline", "--workspace", str(ws), "-q", "run", "--workers",
                                 str(args.workers)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                cwd=HERE.parent, env=RUN_ENV)
        peak_rss = peak_pss = peak_parent = peak_child = 0.0
        at: dict[int, dict] = {}
        pending = list(marks)
        while proc.poll() is None:
            rss, pss, count, parent, child = tree_memory(proc.pid)
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            peak_parent, peak_child = max(peak_parent, parent), max(peak_child, child)
            done = args.n - sum(1 for _ in os.scandir(inbox))  # an input leaves the inbox once archived
            while pending and done >= pending[0]:
                mark = pending.pop(0)
                at[mark] = {"rss_mb": round(rss, 1), "pss_mb": round(pss, 1), "peak_rss_mb": round(peak_rss, 1),
                            "processes": count, "seconds": round(time.perf_counter() - start, 1),
                            "parent_rss_mb": round(parent, 1), "peak_parent_rss_mb": round(peak_parent, 1),
                            "peak_worker_rss_mb": round(peak_child, 1)}
                print(f"{mark:6d} archived after {at[mark]['seconds']:7.1f} s: tree RSS {rss:6.1f} MB, "
                      f"PSS {pss:6.1f} MB, peak RSS so far {peak_rss:6.1f} MB ({count} processes); "
                      f"parent {parent:5.1f} MB (peak {peak_parent:5.1f}), largest worker peak {peak_child:5.1f} MB",
                      flush=True)
            time.sleep(0.25)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"certpipe run failed (rc={proc.returncode}): {proc.stderr.read()[-2000:]!r}")
    finally:
        shutil.rmtree(ws, ignore_errors=True)
    rss_at = [at[m]["peak_rss_mb"] for m in marks if m in at]
    growth = (rss_at[-1] - rss_at[0]) if len(rss_at) > 1 else 0.0
    print(f"peak tree RSS {peak_rss:.1f} MB (target ≤ 250), peak PSS {peak_pss:.1f} MB, "
          f"peak RSS growth from {marks[0]} to {marks[-1]} audits: {growth:+.1f} MB; {args.n / seconds:.1f} audits/s")
    print(json.dumps({"bench": "memory", "n": args.n, "workers": args.workers, "peak_rss_mb": round(peak_rss, 1),
                      "peak_pss_mb": round(peak_pss, 1), "at": at, "rss_growth_mb": round(growth, 1),
                      "audits_per_s": round(args.n / seconds, 1), "load": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
