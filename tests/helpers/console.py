"""The web console in tests and benchmarks: a logged-in test client, and a ledger filled with many
synthesised audits (organisations, audits, accepted inputs, certificates) for search and paging."""

from __future__ import annotations

import json
import re

from pipeline.flow.ledger import Ledger
from pipeline.workspace import Workspace

LEVELS = ("pass", "three-star", "four-star", "five-star")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]*)"', html)
    assert found, "no csrf field on the page"
    return found.group(1)


def log_in(client, name: str, password: str) -> None:
    """Log ``client`` (a starlette TestClient) in through the login form."""
    page = client.get("/login")
    response = client.post("/login", data={"csrf": csrf_of(page.text), "name": name, "password": password},
                           follow_redirects=False)
    assert response.status_code == 303, response.text


def synthesise_audits(ws: Workspace, count: int, *, standard: str = "gbt27922-2011", year: int = 2026) -> None:
    """``count`` audits of ``count`` organisations in ``ws``'s ledger, each with one accepted input and
    a certificate, as a run would have recorded them (no files in the outbox)."""
    with Ledger(ws.ledger) as ledger, ledger.transaction() as db:
        stamp = f"{year}-06-01T10:00:00+08:00"
        db.executemany(
            "INSERT INTO organisations (id, credit_code, name_key, name, address, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(i, f"91{i:016d}", f"测试组织{i}号有限公司", f"测试组织{i}号有限公司", "某市某路", stamp)
             for i in range(1, count + 1)])
        db.executemany(
            "INSERT INTO audits (audit_id, org_id, standard, edition, audit_type, origin, created_at) "
            "VALUES (?, ?, ?, '2011', '初次认证', 'generated', ?)",
            [(f"SYN-{year}-{i:06d}", i, standard, stamp) for i in range(1, count + 1)])
        db.executemany(
            "INSERT INTO inputs (sha256, name, size, mtime, received_at, finished_at, status, audit_id, standard, "
            "revision, certificate_no, total, level, output) VALUES (?, ?, 1, ?, ?, ?, 'done', ?, ?, 1, ?, ?, ?, ?)",
            [(f"{i:064x}", f"SYN-{year}-{i:06d}.xlsx", stamp, stamp, f"{year}-06-{1 + i % 28:02d}T10:00:00+08:00",
              f"SYN-{year}-{i:06d}", standard, f"CP-{year}-SYN-{i:06d}", str(60 + i % 40), LEVELS[i % 4],
              f"outbox/SYN-{year}-{i:06d}") for i in range(1, count + 1)])
        db.executemany(
            "INSERT INTO certificates (number, audit_id, standard, year, seq, issued_at, details) VALUES "
            "(?, ?, ?, ?, ?, ?, ?)",
            [(f"CP-{year}-SYN-{i:06d}", f"SYN-{year}-{i:06d}", standard, year, i, stamp,
              json.dumps({"organisation": f"测试组织{i}号有限公司", "standard": "GB/T 27922-2011",
                          "level": LEVELS[i % 4], "issue_date": f"{year}-06-01", "expiry_date": f"{year + 3}-05-31"},
                         ensure_ascii=False))
             for i in range(1, count + 1)])
