"""The web console under load: dashboard and audit search p95 with many audits in the ledger, and the
public certificate page's requests per second through a real server.

    .venv/bin/python benchmarks/bench_console.py [--audits 10000] [--requests 200] [--seconds 10]

- a workspace whose ledger holds ``--audits`` synthesised audits (organisations, accepted inputs,
  certificates: ``tests/helpers/console.py``), one logged-in reviewer;
- dashboard and search: each page requested ``--requests`` times in this process through the ASGI
  interface (httpx's ASGI transport: routing, session, ledger queries, templates; no sockets);
  search is measured for several queries: none, a part of an organisation's name, a credit code, a
  certificate number's beginning, standard + level, and a page deep in the list (keyset paging);
- the public page ``/c/<number>``: ``certpipe serve`` started as a user starts it (uvicorn, one
  process), then ``--clients`` threads with keep-alive connections ask for random certificates for
  ``--seconds`` seconds (the load generator shares the machine's cores with the server).
Prints a table, then one JSON line. Targets (issue 16): dashboard and search p95 < 100 ms with 10,000
audits; the public page ≥ 300 requests/s on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from pipeline import api  # noqa: E402
from pipeline.web import create_app  # noqa: E402
from pipeline.workspace import Workspace  # noqa: E402
from tests.helpers.console import csrf_of, synthesise_audits  # noqa: E402


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) >= 20 else max(samples)


async def timed(client: httpx.AsyncClient, url: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = await client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return times


async def in_process(ws: Workspace, audits: int, requests: int) -> dict[str, list[float]]:
    app = create_app(ws)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        page = await client.get("/login")
        await client.post("/login", data={"csrf": csrf_of(page.text), "name": "reviewer", "password": "bench-pass-1"})
        deep = f"SYN-2026-{audits // 2:06d}"
        urls = {
            "dashboard": "/",
            "search: all": "/audits",
            "search: organisation": "/audits?organisation=组织77号",
            "search: credit code": f"/audits?credit_code=91{audits // 3:016d}",
            "search: certificate": f"/audits?certificate=CP-2026-SYN-{audits // 4:06d}",
            "search: standard+level": "/audits?standard=gbt27922-2011&level=five-star",
            "search: deep page": f"/audits?after={deep}",
            "search: no match": "/audits?organisation=没有这个组织",
        }
        results = {}
        for name, url in urls.items():
            await timed(client, url, 3)  # warm up
            results[name] = await timed(client, url, requests)
        return results


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def public_rate(ws: Workspace, audits: int, seconds: float, clients: int) -> tuple[float, float]:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "pipeline", "-W", str(ws.root), "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the console did not start") from None
                time.sleep(0.1)
        counts = [0] * clients
        latencies: list[float] = []
        stop = time.monotonic() + seconds

        def hammer(i: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            rng = random.Random(i)
            while time.monotonic() < stop:
                start = time.perf_counter()
                conn.request("GET", f"/c/CP-2026-SYN-{rng.randint(1, audits):06d}")
                response = conn.getresponse()
                response.read()
                assert response.status == 200
                latencies.append((time.perf_counter() - start) * 1000)
                counts[i] += 1
            conn.close()

        threads = [threading.Thread(target=hammer, args=(i,)) for i in range(clients)]
        begun = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sum(counts) / (time.monotonic() - begun), p95(latencies)
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--audits", type=int, default=10000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp) / "ws")
        for folder in (ws.inbox, ws.outbox, ws.archive):
            folder.mkdir(parents=True)
        start = time.perf_counter()
        synthesise_audits(ws, args.audits)
        made = time.perf_counter() - start
        api.add_user("reviewer", "reviewer", "bench-pass-1", ws)
        results = asyncio.run(in_process(ws, args.audits, args.requests))
        rate, public_p95 = public_rate(ws, args.audits, args.seconds, args.clients)
    print(f"{args.audits} audits synthesised in {made:.1f} s; {args.requests} requests per page; "
          f"cores: {os.cpu_count()}")
    print(f"{'page':<26}{'median ms':>10}{'p95 ms':>10}")
    summary = {"audits": args.audits, "requests": args.requests}
    for name, times in results.items():
        print(f"{name:<26}{statistics.median(times):>10.1f}{p95(times):>10.1f}")
        summary[name] = {"median_ms": round(statistics.median(times), 2), "p95_ms": round(p95(times), 2)}
    print(f"public page /c/<number>: {rate:.0f} requests/s ({args.clients} keep-alive clients, "
          f"{args.seconds:g} s), p95 {public_p95:.1f} ms")
    summary["public_requests_per_s"] = round(rate, 1)
    summary["public_p95_ms"] = round(public_p95, 2)
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
