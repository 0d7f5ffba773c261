"""PDF throughput: ``certpipe run --pdf --workers 2`` against one ``soffice`` call per document.

    .venv/bin/python benchmarks/bench_pdf.py [--n 40] [--rounds 2] [--single 6]

- run --pdf: N filled audits (``benchmarks/corpus.py``), a fresh workspace per round, a new
  process as a user starts it; audits/s with both PDFs (report, and certificate when a level is reached).
- one soffice per document (same round): ``soffice --convert-to pdf`` for one .docx at a time,
  each with the same fontconfig and a warm profile, as a back office script would call it;
  per audit = documents per audit × seconds per call.
- batch conversion (same round, the design issue 6 proposes): the .docx of the run without --pdf
  converted by ``pipeline.word.pdf.convert_to_pdf(all, instances=2)`` — many documents per soffice call,
  two calls at once — and added to the docx-only run time.
Prints medians, then one JSON line. Target (issue 6): ≥ 4 audits/s, ≥ 8× one soffice per document.
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

from bench_throughput import time_run  # noqa: E402
from corpus import RUN_ENV, corpus, fill_inbox  # noqa: E402

from pipeline.word.pdf import _slot, convert_to_pdf, find_soffice  # noqa: E402


def docs_of(files: list[Path]) -> tuple[Path, list[Path]]:
    """Run certpipe (docx only) on ``files`` and return the workspace and its .docx outputs."""
    ws = Path(tempfile.mkdtemp(prefix="bench-pdf-"))
    fill_inbox(files, ws / "inbox")
    subprocess.run([sys.executable, "-m", "pipeline", "--workspace", str(ws), "-q", "run", "--workers", "2"],
                   capture_output=True, check=True, cwd=HERE.parent, env=RUN_ENV)
    return ws, sorted(p for p in (ws / "outbox").rglob("*.docx") if "history" not in p.parts)


def one_call_per_document(docs: list[Path]) -> float:
    """Seconds per document, one soffice process per document."""
    _lock, profile, _held = _slot(0)  # certpipe's profile and fontconfig: warm after the first call
    env = dict(os.environ, FONTCONFIG_FILE=str(profile / "fonts.conf"))
    times = []
    for doc in docs:
        out = Path(tempfile.mkdtemp(prefix="bench-pdf1-"))
        start = time.perf_counter()
        subprocess.run([find_soffice(), f"-env:UserInstallation={(profile / 'user').as_uri()}", "--headless",
                        "--norestore", "--convert-to", "pdf", "--outdir", str(out), str(doc)],
                       capture_output=True, check=True, env=env)
        times.append(time.perf_counter() - start)
        assert (out / f"{doc.stem}.pdf").is_file()
        shutil.rmtree(out)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--single", type=int, default=6, help="documents converted one call each per round")
    args = parser.parse_args()
    files = corpus(500)[: args.n]
    print(f"{args.n} audits, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    ws, docs = docs_of(files)
    per_audit_docs = len(docs) / args.n
    convert_to_pdf(docs[:2], instances=2)  # warm both profiles
    runs, singles, batches = [], [], []
    try:
        for r in range(args.rounds):
            runs.append(args.n / time_run(files, 2, ("--pdf",)))
            singles.append(1 / (one_call_per_document(docs[: args.single]) * per_audit_docs))
            docx_seconds = args.n / time_run(files, 2)
            start = time.perf_counter()
            convert_to_pdf(docs, instances=2)
            batches.append(args.n / (args.n / docx_seconds + time.perf_counter() - start))
            print(f"round {r + 1}: run --pdf {runs[-1]:5.2f} audits/s   one soffice per document {singles[-1]:5.2f} "
                  f"audits/s   docx run + batch conversion {batches[-1]:5.2f} audits/s   "
                  f"load {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(ws, ignore_errors=True)
    run, single, batch = (statistics.median(x) for x in (runs, singles, batches))
    ratio = statistics.median(a / b for a, b in zip(runs, singles, strict=True))
    batch_ratio = statistics.median(a / b for a, b in zip(batches, singles, strict=True))
    print(f"{per_audit_docs:.2f} documents per audit")
    print(f"certpipe run --pdf --workers 2: {run:.2f} audits/s (target ≥ 4), ×{ratio:.1f} one soffice per document "
          f"(target ≥ 8)")
    print(f"docx run + one batch conversion (2 soffice at once): {batch:.2f} audits/s, ×{batch_ratio:.1f}")
    print(json.dumps({"bench": "pdf", "n": args.n, "rounds": args.rounds, "docs_per_audit": round(per_audit_docs, 2),
                      "run_pdf_audits_per_s": round(run, 2), "one_soffice_per_doc_audits_per_s": round(single, 3),
                      "x_one_soffice": round(ratio, 1), "batch_audits_per_s": round(batch, 2),
                      "x_batch": round(batch_ratio, 1), "load": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
