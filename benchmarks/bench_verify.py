"""Verification and publishing speed: tokens verified per second on one core, and ``publish`` of a
register of many certificates (ledger rows synthesised).

    .venv/bin/python benchmarks/bench_verify.py [--tokens 2000] [--certificates 10000]

Tokens: ``core.token.decode`` + ``check`` with the workspace's trusted keys (what ``certpipe verify``
does with a token, without the ledger look-up), and the whole ``flow.verify.verify`` of a QR link
(with the ledger look-up). Publish: a ledger with N certificates inserted directly, then
``publish_site`` into an empty folder (wall and CPU time: the rest is waiting for the disk), and again
(nothing changed). Prints the figures and one JSON
line. The issue's targets: 1,000 tokens per second on one core; 10,000 certificates in seconds.
No assertion: a figure to read.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.config import Config, Issuer
from pipeline.core.token import Claims, check, decode, encode
from pipeline.flow.keys import init_keys, load_signer, verifiers
from pipeline.flow.ledger import Ledger
from pipeline.flow.site import publish_site
from pipeline.flow.verify import verify
from pipeline.word.qr import qr_text
from pipeline.workspace import Workspace

BASE = "https://cert.example.cn"


def synthesise(ws: Workspace, count: int) -> list[Claims]:
    """``count`` certificates in the ledger's ``certificates`` table, as issued ones look."""
    claims = []
    rows = []
    for i in range(count):
        issued = date(2026, 1, 1) + timedelta(days=i % 365)
        number = f"CP-2026-GBT27922-{i + 1:05d}"
        c = Claims(number, f"测试服务有限公司{i:05d}号", f"91110000MA{i:08d}", "gbt27922-2011",
                   ("three-star", "four-star", "five-star")[i % 3], issued, issued + timedelta(days=3 * 365 - 1))
        claims.append(c)
        details = {"organisation": c.organisation, "credit_code": c.credit_code, "standard": "GB/T 27922-2011",
                   "standard_key": c.standard, "edition": "2011", "level": c.level,
                   "issue_date": c.issue_date.isoformat(), "expiry_date": c.expiry_date.isoformat(),
                   "audit_id": f"B-2026-{i:05d}", "provisional": False}
        rows.append((number, f"B-2026-{i:05d}", "GBT27922", 2026, i + 1, c.issue_date.isoformat(),
                     json.dumps(details, ensure_ascii=False)))
    with Ledger(ws.ledger) as ledger, ledger.transaction() as db:
        db.executemany("INSERT INTO certificates (number, audit_id, standard, year, seq, issued_at, details) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    return claims


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--certificates", type=int, default=10000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp) / "ws")
        for folder in (ws.inbox, ws.outbox, ws.archive):
            folder.mkdir(parents=True)
        init_keys(ws)
        signer = load_signer(ws)
        claims = synthesise(ws, max(args.certificates, 1))
        tokens = [encode(c, signer.key_id, signer.sign) for c in claims[:args.tokens]]
        keys = verifiers(ws)

        start = time.perf_counter()
        results = [check(decode(tok), keys) for tok in tokens]
        pure = len(tokens) / (time.perf_counter() - start)
        assert set(results) == {"genuine"}

        links = [qr_text(c.number, tok, BASE) for c, tok in zip(claims, tokens[:500], strict=False)]
        start = time.perf_counter()
        verdicts = [verify(link, ws) for link in links]
        whole = len(links) / (time.perf_counter() - start)
        assert {v.result for v in verdicts} <= {"genuine", "not_in_force"}

        config = Config(issuer=Issuer(verify_url=BASE))
        used = time.process_time()
        first = publish_site(ws, config, Path(tmp) / "public")
        first_cpu = time.process_time() - used
        again = publish_site(ws, config, Path(tmp) / "public")
    figures = {"tokens_per_s": round(pure), "verify_links_per_s": round(whole),
               "publish_certificates": first.count, "publish_s": round(first.seconds, 2),
               "publish_files": first.written, "publish_cpu_s": round(first_cpu, 2),
               "publish_again_s": round(again.seconds, 2),
               "publish_again_files": again.written}
    print(f"token decode + Ed25519 check: {pure:,.0f} tokens/s on one core")
    print(f"verify of a QR link (decode, check, ledger status): {whole:,.0f} per second")
    print(f"publish {first.count:,} certificates: {first.seconds:.2f} s, {first_cpu:.2f} s of it on the CPU "
          f"({first.written:,} files); "
          f"again, nothing changed: {again.seconds:.2f} s ({again.written} files)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
