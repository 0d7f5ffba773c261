"""Rendering speed: report + certificate + chart per audit, docx only, against the naive way.

    .venv/bin/python benchmarks/bench_render.py [--rounds 30]

Fast: one ``Renderer`` (templates prepared once, one reused matplotlib Figure). Naive, measured in
the same run with the same context: a new pyplot figure saved with ``bbox_inches="tight"`` and
``DocxTemplate(path).render(ctx)`` + ``replace_pic`` + ``save`` for each document. Prints medians
per step and the ratio, then one JSON line. Target (issue 4): ≤ 30 ms per audit per core.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.config import Config
from pipeline.core.scoring import score
from pipeline.flow.standards import all_standards
from pipeline.word.context import chart_rows
from pipeline.word.qr import qr_png, qr_text
from pipeline.word.render import Renderer, find_template, make_env
from pipeline.word.template_check import SAMPLE_CERTIFICATE, sample_audit


def median_ms(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def naive_chart(rows) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.3, 3.9), dpi=150)
    ax.barh(range(len(rows)), [float(r) for _, r in rows])
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([label for label, _ in rows], fontfamily=["Noto Sans CJK SC", "DejaVu Sans"])
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def naive_doc(path: Path, ctx: dict, pics: dict[str, bytes], out: Path) -> None:
    from docxtpl import DocxTemplate

    tpl = DocxTemplate(path)
    tpl.render(ctx, make_env(), autoescape=True)
    for name, blob in pics.items():
        tpl.replace_pic(f"certpipe:{name}", io.BytesIO(blob))
    tpl.save(out)


def measure(renderer: Renderer, std, out: Path, rounds: int) -> dict:
    audit = sample_audit(std)
    card = score(std, audit.entries)
    renderer.render(audit, std, card, out, certificate=SAMPLE_CERTIFICATE)  # warm: prepare, import
    ctx = renderer.context(audit, std, card, certificate=SAMPLE_CERTIFICATE)
    report = renderer.template("report", std.key, "zh")
    cert = renderer.template("certificate", std.key, "zh")
    size = report.placeholders["chart"].size_emu
    rows = chart_rows(card, "zh")
    chart = renderer.chart.png(rows, size)
    qr = qr_png(qr_text("CP-1", "x" * 247, "https://cert.example.cn"))
    naive_chart(rows)  # warm pyplot
    runs = iter(range(10**6))  # a fresh folder per round: a bulk run writes new files, not over old ones

    r = {
        "audit_ms": median_ms(lambda: renderer.render(audit, std, card, out / f"{std.key}-{next(runs)}",
                                                      certificate=SAMPLE_CERTIFICATE), rounds),
        "chart_ms": median_ms(lambda: renderer.chart.png(rows, size), rounds),
        "report_docx_ms": median_ms(lambda: report.write(out / f"r{next(runs)}.docx", ctx, {"chart": chart}), rounds),
        "certificate_docx_ms": median_ms(lambda: cert.write(out / f"c{next(runs)}.docx", ctx, {"qr": qr}), rounds),
        # a signed certificate's QR text: the link and a typical 247-character token
        "qr_ms": median_ms(lambda: qr_png(qr_text("CP-2025-X-00001", "x" * 247, "https://cert.example.cn")),
                           rounds),
        "context_ms": median_ms(lambda: renderer.context(audit, std, card, certificate=SAMPLE_CERTIFICATE),
                                rounds),
    }
    report_path = find_template("report", std.key, "zh", None)
    cert_path = find_template("certificate", std.key, "zh", None)

    def naive() -> None:
        png = naive_chart(rows)
        naive_doc(report_path, ctx, {"chart": png}, out / "nr.docx")
        naive_doc(cert_path, ctx, {"qr": qr_png("x")}, out / "nc.docx")

    r["naive_audit_ms"] = median_ms(naive, max(5, rounds // 3))
    r["ratio"] = r["naive_audit_ms"] / r["audit_ms"]
    r["indicators"] = len(card.indicators)
    return r


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    rounds = parser.parse_args().rounds
    renderer = Renderer(Config())
    out = Path(tempfile.mkdtemp(prefix="bench-render-"))  # emptied after each standard
    results = {}
    for std in all_standards():
        try:
            r = results[std.key] = measure(renderer, std, out, rounds)
        finally:
            shutil.rmtree(out, ignore_errors=True)
        print(f"{std.key:26s} {r['indicators']:3d} rows  audit {r['audit_ms']:6.1f} ms "
              f"(chart {r['chart_ms']:5.1f}, report {r['report_docx_ms']:5.1f}, "
              f"certificate {r['certificate_docx_ms']:5.1f}, qr {r['qr_ms']:4.1f}, context {r['context_ms']:4.1f})   "
              f"naive {r['naive_audit_ms']:6.1f} ms   ×{r['ratio']:.1f}")
    overall = statistics.median(r["audit_ms"] for r in results.values())
    naive_overall = statistics.median(r["naive_audit_ms"] for r in results.values())
    print(f"median per audit: {overall:.1f} ms (naive {naive_overall:.1f} ms, ×{naive_overall / overall:.1f}); "
          f"target ≤ 30 ms")
    print(json.dumps({"bench": "render", "rounds": rounds, "median_audit_ms": round(overall, 2),
                      "median_naive_ms": round(naive_overall, 2), "ratio": round(naive_overall / overall, 2),
                      "per_standard": {k: {n: round(v, 2) for n, v in r.items()} for k, r in results.items()}},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
