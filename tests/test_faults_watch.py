"""kill -9 of ``watch`` while files arrive, are replaced (renamed over) and dropped again: every version
that was processed was processed once, the last version of every name is processed, what the archive
keeps is what was processed, and nothing is half-written or left behind.

``CERTPIPE_FAULT_REPEATS`` (default 2) seeds; ``CERTPIPE_FAULT_BATCH`` (default 16) names."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline.flow.ledger import Ledger
from pipeline.workspace import Workspace
from tests.helpers.workspace import QUICK, certpipe, make_ws, sample_audit, workbook

REPEATS = int(os.environ.get("CERTPIPE_FAULT_REPEATS", "2"))
NAMES = int(os.environ.get("CERTPIPE_FAULT_BATCH", "16"))

pytestmark = pytest.mark.slow


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def versions(tmp_path_factory) -> dict[str, list[Path]]:
    """Per name, two different versions of an audit (a corrected resubmission) or a file that is no workbook."""
    folder = tmp_path_factory.mktemp("versions")
    ws = make_ws(folder)
    found: dict[str, list[Path]] = {}
    for i in range(NAMES):
        name = f"v-{i:03d}.xlsx"
        made = []
        for v, target in enumerate(("70", "85")):
            if i % 8 == 7:
                path = folder / f"{v}-{name}"
                path.write_text(f"not a workbook {i}/{v}")
            else:
                path = workbook(ws, f"{v}-{name}", sample_audit(audit_id=f"W-{i:03d}", target=target))
                path = shutil.move(path, folder / f"{v}-{name}")
            made.append(Path(path))
        found[name] = made
    return found


def drop(src: Path, inbox: Path, name: str) -> None:
    """As a copy tool does: written beside, renamed into place (over an older version if there is one)."""
    part = inbox / f".{name}.part"
    shutil.copy(src, part)
    os.replace(part, inbox / name)


def watch(ws: Workspace) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline", "-W", str(ws.root), "watch", "--settle", "0.2"],
                            env=QUICK, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


@pytest.mark.parametrize("seed", range(REPEATS))
def test_kill9_of_watch_while_files_are_replaced_and_dropped_again(tmp_path, versions, seed):
    rng = random.Random(seed)
    ws = make_ws(tmp_path)
    ws.state.mkdir()
    shutil.copy(next(iter(versions.values()))[0].parent / "ws" / ".certpipe" / "ledger.sqlite", ws.ledger)  # generated
    final: dict[str, Path] = {}
    proc = watch(ws)
    kills = 0
    events = []
    for name, (first, second) in sorted(versions.items()):
        events.append((name, first))
        if rng.random() < 0.5:
            events.append((name, second))  # a corrected version, perhaps while the first is processed
        if rng.random() < 0.25:
            events.append((name, events[-1][1]))  # the same file dropped again
    rng.shuffle(events)
    events.sort(key=lambda e: list(versions).index(e[0]) + rng.random() * 4)  # versions of a name stay in order-ish
    for name, src in events:
        drop(src, ws.inbox, name)
        final[name] = src
        time.sleep(rng.uniform(0, 0.5))
        if rng.random() < 0.12:  # a power cut: the watcher and its LibreOffice-free work killed at once
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            kills += 1
            proc = watch(ws)
    deadline = time.monotonic() + 120
    while any(ws.inbox.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    last = certpipe(ws, "run")  # anything the last watcher left: the next driver finishes it
    assert last.returncode in (0, 1), last.stdout + last.stderr
    assert list(ws.inbox.iterdir()) == []  # nothing left, nothing hidden

    with Ledger(ws.ledger) as ledger:
        rows = ledger.rows()
    processed = [r for r in rows if r.status in ("done", "rejected")]
    shas = [r.sha256 for r in processed]
    assert len(shas) == len(set(shas))  # no version processed twice
    assert all(r.status in ("done", "rejected", "duplicate") for r in rows)
    for name, src in final.items():  # the last version of every name was processed (or is a copy of one)
        assert sha(src) in set(shas), name
    for row in rows:  # the archive keeps exactly what was processed, each where the ledger says
        assert row.archived_to, row
        assert sha(ws.root / row.archived_to) == row.sha256, row
    # (the same content dropped again under the same name shares its archived copy)
    assert {sha(p) for p in ws.archive.rglob("*") if p.is_file()} == {r.sha256 for r in rows}
    assert list((ws.outbox / ".staging").iterdir()) == []
    numbers = {r.audit_id: r.certificate_no for r in processed if r.status == "done" and r.certificate_no}
    for audit_id in {r.audit_id for r in processed if r.status == "done"}:
        card = json.loads((ws.outbox / audit_id / "scorecard.json").read_text(encoding="utf-8"))
        newest = max(r.revision for r in processed if r.audit_id == audit_id and r.status == "done")
        assert card["revision"] == newest
    sheet = load_workbook(ws.register).active
    listed = sorted(c.value for c in sheet["A"][1:])
    assert len(listed) == len(set(listed)) and set(listed) <= set(numbers.values())
    print(json.dumps({"seed": seed, "kills": kills, "events": len(events), "rows": len(rows)}))
