"""Time the scheme manager's operations on the built-in standards (ms, medians).

    .venv/bin/python benchmarks/bench_standards.py [--rounds N]

parse+check: a definition's YAML read and checked (provenance included); provenance summary: every
value resolved (the first time; later calls are cached per loaded definition); export / import: the
Excel authoring workbook written and read back through the checker; diff: two definitions compared;
migrate: a filled workbook's entries carried into a new workbook of the same definition."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import api  # noqa: E402
from pipeline.core.definition import parse_definition  # noqa: E402
from pipeline.core.provenance import _summarise  # noqa: E402
from pipeline.core.standard_diff import diff  # noqa: E402
from pipeline.flow.standards import definition_paths, load_standard  # noqa: E402
from tests.helpers.workspace import make_ws, sample_audit, workbook  # noqa: E402


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
    parser.add_argument("--rounds", type=int, default=10)
    rounds = parser.parse_args().rounds
    print(f"{'standard':26} {'parse+check':>11} {'provenance':>10} {'export':>8} {'import':>8} {'diff':>6} "
          f"{'migrate':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ws = make_ws(root)
        for n, (key, path) in enumerate(definition_paths().items()):
            times = one(key, path, root, ws, n, rounds)
            print(f"{key:26} " + " ".join(f"{v:>{w}.1f}" for v, w in zip(times, (11, 10, 8, 8, 6, 8), strict=True)))


def one(key: str, path: Path, root: Path, ws, n: int, rounds: int) -> list[float]:
    text = path.read_text(encoding="utf-8")
    std = load_standard(key)
    book = root / f"{key}.xlsx"
    sent = workbook(ws, f"{key}.xlsx", sample_audit(key, audit_id=f"B-2026-{n:03d}"))
    counter = iter(range(10**6))
    return [
        median_ms(lambda: parse_definition(text, path.name), rounds),
        median_ms(lambda: _summarise(std), rounds),
        median_ms(lambda: api.export_standard(key, book, force=True), rounds),
        median_ms(lambda: api.import_standard(book, root / f"{key}-{next(counter)}.yaml", workspace=root), rounds),
        median_ms(lambda: diff(std, std), rounds),
        median_ms(lambda: api.migrate_workbook(sent, root / f"m-{key}-{next(counter)}.xlsx", workspace=ws), rounds),
    ]

if __name__ == "__main__":
    main()
