"""The records side at scale: ``certpipe find`` and the console's audit search on a ledger of 100,000
audits, and changes of 1,000 certificates (suspend, then restore).

    .venv/bin/python benchmarks/bench_records.py [--audits 100000] [--rounds 20]
        [--certificates 1000] [--cli 20] [--skip-find] [--skip-transitions]

The ledger is made fast with SQL that mirrors what a run records (``synthesise``): the tables are
created by ``flow.ledger.Ledger`` itself (its schema and indexes), then organisations (with their
name history), audits, accepted and rejected inputs, certificates with their state and their issue
events are inserted in one transaction. About one organisation in three has two audits; about one
audit in ten has a rejected input before its accepted one; 80 % of the audits hold a certificate.

- find: ``api.find`` (what ``certpipe find`` calls: it opens the ledger read-only each time) for an
  organisation's full name, a name fragment shared by many (the answer is cut at ``FIND_LIMIT``), a
  fragment of one, a credit code, an audit id, a certificate number, and a text nothing matches;
- search: ``flow.console_queries.search`` (the console's audit search) by standard + level, by a
  date range, by a name fragment, and all of them together;
- transitions: a workspace with ``--certificates`` certificates, each with its folder in the outbox
  (so ``status.json`` and the notice are written there, as for a real certificate); every
  certificate suspended then restored in one ``api.change_certificates``, then (``--single`` of them)
  one ``api.change_certificate`` each (what ``certpipe certificates suspend|restore`` calls: notice
  docx, ``status.json``, ``register.xlsx`` rewritten whole each time), without and with ``[publish]
  dir`` (the public register rewritten after every call); and ``--cli`` changes as separate
  ``certpipe`` processes, for the start-up.

Medians and p95 in ms, and the median CPU time of this process (other load moves it least); then
one JSON line. Targets (issue 19): find ≤ 50 ms on 100,000 audits;
1,000 suspensions (or restorations) ≤ 5 s. No assertion: figures to read.
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
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import api  # noqa: E402
from pipeline.flow.console_queries import AuditQuery, search  # noqa: E402
from pipeline.flow.ledger import Ledger  # noqa: E402
from pipeline.flow.orgs import name_key  # noqa: E402
from pipeline.workspace import Workspace  # noqa: E402

CITIES = ("北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "西安", "南京", "苏州", "天津", "重庆", "长沙",
          "郑州", "青岛", "厦门", "宁波", "合肥", "昆明", "沈阳")
CORES = ("华信", "恒达", "瑞通", "中科", "远航", "金桥", "安泰", "博远", "鼎盛", "锦程", "宏图", "新元", "启明",
         "天成", "海纳", "睿思", "同创", "凯旋", "正和", "嘉禾", "永信", "广誉", "东方", "九州", "明德")
TRADES = ("物业服务", "信息技术", "餐饮管理", "物流", "家政服务", "商贸", "酒店管理", "软件", "汽车服务",
          "电子商务", "人力资源", "教育咨询", "健康管理", "安防科技", "环境工程", "文化传媒")
LEVELS = ("pass", "three-star", "four-star", "five-star")
STANDARD = "gbt27922-2011"
STAMP = "2026-03-01T10:00:00+08:00"


def org_name(i: int) -> str:
    combos = len(CITIES) * len(CORES) * len(TRADES)
    k, branch = i % combos, i // combos
    name = (f"{CITIES[k % len(CITIES)]}{CORES[k // len(CITIES) % len(CORES)]}"
            f"{TRADES[k // (len(CITIES) * len(CORES)) % len(TRADES)]}有限公司")
    return name + (f"第{branch}分公司" if branch else "")


def audit_id(i: int) -> str:
    return f"B-2026-{i:06d}"


def number_of(i: int) -> str:
    return f"CP-2026-GBT27922-{i:06d}"


def day_of(i: int) -> str:
    return (date(2025, 1, 1) + timedelta(days=i % 540)).isoformat()


def synthesise(ws: Workspace, audits: int, *, outbox: bool = False) -> None:
    """``audits`` audits in ``ws``'s ledger as a run records them (SQL mirroring the ledger's own
    inserts, into the schema ``Ledger`` makes); ``outbox``: each audit's folder too."""
    orgs = max(1, audits * 2 // 3)
    with Ledger(ws.ledger) as ledger, ledger.transaction() as db:
        db.executemany("INSERT INTO organisations (id, credit_code, name_key, name, address, created_at) "
                       "VALUES (?, ?, ?, ?, '某市某路1号', ?)",
                       [(o, f"91{o:016d}", name_key(org_name(o)), org_name(o), STAMP) for o in range(1, orgs + 1)])
        db.executemany("INSERT INTO organisation_names (org_id, name, address, since, source) "
                       "VALUES (?, ?, '某市某路1号', ?, 'generated')",
                       [(o, org_name(o), STAMP) for o in range(1, orgs + 1)])
        db.executemany("INSERT INTO audits (audit_id, org_id, standard, edition, audit_type, origin, created_by, "
                       "created_at) VALUES (?, ?, ?, '2011', '初次认证', 'generated', 'bench', ?)",
                       [(audit_id(i), (i - 1) % orgs + 1, STANDARD, f"{day_of(i)}T09:00:00+08:00")
                        for i in range(1, audits + 1)])
        inputs = []
        for i in range(1, audits + 1):
            when = f"{day_of(i)}T10:00:00+08:00"
            if i % 10 == 0:
                inputs.append((f"r{i:063x}", f"{audit_id(i)}.xlsx", when, when, when, "rejected", audit_id(i), STANDARD,
                               None, None, None, None, f"outbox/_rejected/{audit_id(i)}"))
            certified = i % 5 != 0
            inputs.append((f"{i:064x}", f"{audit_id(i)}.xlsx", when, when, when, "done", audit_id(i), STANDARD, 1,
                           number_of(i) if certified else None, str(60 + i % 40), LEVELS[i % 4],
                           f"outbox/{audit_id(i)}"))
        db.executemany("INSERT INTO inputs (sha256, name, size, mtime, received_at, finished_at, status, audit_id, "
                       "standard, revision, certificate_no, total, level, output) "
                       "VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", inputs)
        certified = [i for i in range(1, audits + 1) if i % 5 != 0]
        db.executemany(
            "INSERT INTO certificates (number, audit_id, standard, year, seq, issued_at, details, org_id, level, "
            "status, issued_on, expires_on, surveillance_due) VALUES (?, ?, ?, 2026, ?, ?, ?, ?, ?, 'issued', ?, ?, ?)",
            [(number_of(i), audit_id(i), STANDARD, i, f"{day_of(i)}T10:00:00+08:00",
              json.dumps({"organisation": org_name((i - 1) % orgs + 1), "credit_code": f"91{(i - 1) % orgs + 1:016d}",
                          "standard": "GB/T 27922-2011", "standard_key": STANDARD, "edition": "2011",
                          "level": LEVELS[i % 4], "issue_date": day_of(i),
                          "expiry_date": (date.fromisoformat(day_of(i)) + timedelta(days=3 * 365)).isoformat(),
                          "audit_id": audit_id(i), "provisional": False}, ensure_ascii=False),
              (i - 1) % orgs + 1, LEVELS[i % 4], day_of(i),
              (date.fromisoformat(day_of(i)) + timedelta(days=3 * 365)).isoformat(),
              (date.fromisoformat(day_of(i)) + timedelta(days=365)).isoformat()) for i in certified])
        db.executemany("INSERT INTO certificate_events (number, at, action, status, by, level, audit_id, done) "
                       "VALUES (?, ?, 'issue', 'issued', 'auto', ?, ?, 1)",
                       [(number_of(i), f"{day_of(i)}T10:00:00+08:00", LEVELS[i % 4], audit_id(i)) for i in certified])
        db.execute("INSERT INTO counters (scope, value) VALUES ('2026', ?)", (audits,))
    if outbox:
        for i in range(1, audits + 1):
            (ws.outbox / audit_id(i)).mkdir(parents=True, exist_ok=True)
    with Ledger(ws.ledger) as ledger:
        ledger.db.execute("ANALYZE")


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) >= 20 else max(samples)


def timed(fn, rounds: int) -> tuple[float, float, float, object]:
    """(median ms, p95 ms, median CPU ms of this process: what other load on the machine moves least, result)."""
    fn()  # warm: the page cache and the imports
    times, cpu, result = [], [], None
    for _ in range(rounds):
        start, used = time.perf_counter(), time.process_time()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    return statistics.median(times), p95(times), statistics.median(cpu), result


def bench_find(root: Path, audits: int, rounds: int) -> dict:
    ws = Workspace(root / "find")
    start = time.perf_counter()
    synthesise(ws, audits)
    print(f"ledger of {audits:,} audits made in {time.perf_counter() - start:.1f} s "
          f"({ws.ledger.stat().st_size / 1e6:.0f} MB)")
    one = 12345 % max(1, audits * 2 // 3) or 1
    finds = {
        "full name": org_name(one),
        "name fragment, many": "物业服务",
        "name fragment, few": org_name(one)[:8],
        "credit code": f"91{one:016d}",
        "audit id": audit_id(min(audits, 54321)),
        "certificate number": number_of(min(audits, 54321) - (min(audits, 54321) % 5 == 0)),
        "nothing matches": "无此组织XYZ",
    }
    figures = {}
    print(f"{'find (api.find)':38s} {'median':>8s} {'p95':>8s} {'CPU':>8s}  found")
    for label, text in finds.items():
        med, high, cpu, found = timed(lambda text=text: api.find(text, ws), rounds)
        count = sum(len(o.audits) for o in found)
        figures[f"find: {label}"] = {"median_ms": round(med, 2), "p95_ms": round(high, 2), "cpu_ms": round(cpu, 2),
                                     "organisations": len(found), "audits": count}
        print(f"  {label + ' ' + repr(text):36s} {med:8.2f} {high:8.2f} {cpu:8.2f}  {len(found)} org, {count} audits")
    queries = {
        "standard + level": AuditQuery(standard=STANDARD, level="five-star"),
        "date range": AuditQuery(date_from="2025-03-01", date_to="2025-03-31"),
        "name fragment": AuditQuery(organisation="锦程物流"),
        "all together": AuditQuery(organisation="物流", standard=STANDARD, level="three-star",
                                   date_from="2025-01-01", date_to="2025-12-31"),
        "nothing matches": AuditQuery(organisation="无此组织XYZ"),
    }
    print(f"{'search (console_queries.search)':38s} {'median':>8s} {'p95':>8s} {'CPU':>8s}  rows")
    for label, query in queries.items():
        med, high, cpu, page = timed(lambda query=query: search(ws, query), rounds)
        figures[f"search: {label}"] = {"median_ms": round(med, 2), "p95_ms": round(high, 2), "cpu_ms": round(cpu, 2),
                                       "rows": len(page.audits)}
        print(f"  {label:36s} {med:8.2f} {high:8.2f} {cpu:8.2f}  {len(page.audits)}")
    return figures


def _workspace(root: Path, count: int, publish: bool) -> Workspace:
    ws = Workspace(root)
    api.init_workspace(root)
    for folder in (ws.inbox, ws.outbox, ws.archive):
        folder.mkdir(parents=True, exist_ok=True)
    if publish:
        toml = root / "certpipe.toml"
        text = toml.read_text(encoding="utf-8")
        toml.write_text(text.replace('\n# dir = ""\n', '\ndir = "public"\n', 1), encoding="utf-8")
    synthesise(ws, count, outbox=True)
    return ws


def bench_transitions(root: Path, count: int, cli: int, single: int | None) -> dict:
    figures = {}
    for publish in (False, True):
        ws = _workspace(root / f"changes-{int(publish)}", count, publish)
        numbers = [number_of(i) for i in range(1, count + 1) if i % 5 != 0]
        label = "with [publish] dir" if publish else "without publish"
        for action in ("suspend", "restore"):
            start = time.perf_counter()
            api.change_certificates(numbers, action, by="王审核", reason="标准已废止", workspace=ws)
            seconds = time.perf_counter() - start
            figures[f"{action} at once {label}"] = {"certificates": len(numbers), "seconds": round(seconds, 2)}
            print(f"{action:8s} {len(numbers):,} certificates in one change_certificates, {label}: {seconds:6.2f} s")
        for action in ("suspend", "restore"):
            some = numbers[:single]
            start = time.perf_counter()
            for number in some:
                api.change_certificate(number, action, by="王审核", reason="监督审核未按期进行", workspace=ws)
            seconds = time.perf_counter() - start
            figures[f"{action} one by one {label}"] = {"certificates": len(some), "of": len(numbers),
                                                       "seconds": round(seconds, 2),
                                                       "ms_each": round(seconds * 1000 / len(some), 2)}
            print(f"{action:8s} {len(some):,} of {len(numbers):,} certificates one change_certificate each, {label}: "
                  f"{seconds:6.2f} s ({seconds * 1000 / len(some):.1f} ms each)")
        notices = sum(1 for _ in ws.outbox.glob("*/notices/*.docx"))
        statuses = sum(1 for _ in ws.outbox.glob("*/status.json"))
        print(f"  written: {notices:,} notices, {statuses:,} status.json")
        if cli and not publish:
            env = os.environ | {"PYTHONPATH": str(ROOT)}
            start = time.perf_counter()
            for number in numbers[-cli:]:
                subprocess.run([sys.executable, "-m", "pipeline", "--workspace", str(ws.root), "-q", "certificates",
                                "suspend", number, "--by", "王审核", "--reason", "监督审核未按期进行"],
                               check=True, env=env, stdout=subprocess.DEVNULL, cwd=ROOT)
            each = (time.perf_counter() - start) * 1000 / cli
            start = time.perf_counter()
            for _ in range(min(cli, 5)):
                subprocess.run([sys.executable, "-m", "pipeline", "--help"], check=True, env=env,
                               stdout=subprocess.DEVNULL, cwd=ROOT)
            bare = (time.perf_counter() - start) * 1000 / min(cli, 5)
            figures["cli suspend"] = {"invocations": cli, "ms_each": round(each), "help_ms": round(bare)}
            print(f"certpipe certificates suspend, {cli} separate processes: {each:.0f} ms each "
                  f"(certpipe --help: {bare:.0f} ms)")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--audits", type=int, default=100000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--certificates", type=int, default=1250, help="audits of the transition workspace "
                                                                        "(80 %% hold a certificate: 1,000)")
    parser.add_argument("--cli", type=int, default=20)
    parser.add_argument("--single", type=int, default=None,
                        help="changes one by one: the first N certificates (default all; each rewrites the register)")
    parser.add_argument("--skip-find", action="store_true")
    parser.add_argument("--skip-transitions", action="store_true")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    root = Path(tempfile.mkdtemp(prefix="bench-records-"))
    figures: dict = {"bench": "records", "audits": args.audits}
    try:
        if not args.skip_find:
            figures |= bench_find(root, args.audits, args.rounds)
        if not args.skip_transitions:
            figures |= bench_transitions(root, args.certificates, args.cli, args.single)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    figures["load"] = os.getloadavg()[0]
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
