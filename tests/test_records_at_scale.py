"""What makes ``find``, the console's search and ``publish`` fast on many records (the ledger's find
indexes, ``instr`` for parts of names, two queries instead of three per certificate) must not change
what they answer: each is compared here with the meaning spelt out in Python, on a ledger with the
awkward cases (ASCII letters in both cases, LIKE's own ``%`` and ``_``, former names, an audit without
its organisation, an input naming a certificate the ledger lost)."""

from __future__ import annotations

import json
import shutil
import string
from datetime import date
from pathlib import Path

import pytest

from pipeline.config import Config
from pipeline.flow.console_queries import AuditQuery, search
from pipeline.flow.find import find
from pipeline.flow.ledger import SCHEMA_VERSION, Ledger
from pipeline.flow.ledger_schema import FIND_SQL
from pipeline.flow.orgs import name_key
from pipeline.flow.site import publish_site
from pipeline.flow.verify import certificate_history, certificate_status, in_force_status
from pipeline.workspace import Workspace

STAMP = "2026-03-01T10:00:00+08:00"
#: id: (name, credit code, former names)
ORGS = {
    1: ("北京华信物业服务有限公司", "91110000MA0000001A", ["北京华信旧名有限公司"]),
    2: ("ABC Trading (Shanghai) Co.", "91310000MA0000002B", []),
    3: ("abc 科技", None, ["Abc Tech"]),
    4: ("100%_纯净水公司", "91440000MA0000004D", []),
    5: ("上海Ab_c餐饮", None, []),
    6: ("（北京）华信 物业服务有限公司分公司", "91110000MA0000006F", []),
    7: ("深圳恒达物流有限公司", "91440300MA0000007G", []),
}
#: audit id: (organisation id or None, certificate number or None, status now)
AUDITS = {
    "B-2026-001": (1, "CP-2026-001", "issued"),
    "b-2026-002": (2, "cp-2026-002", "suspended"),
    "B-2026-003": (3, None, None),
    "Ab_1%x": (4, "CP-2026-004", "withdrawn"),
    "AB-2026-005": (5, "CP-2026-005", "issued"),
    "B-2026-006": (6, "CP-2025-006", "superseded"),
    "B-2026-007": (7, "CP-2026-007", "issued"),
    "B-2026-008": (1, "CP-2026-008", "issued"),
    "M-2020-001": (None, "CP-2020-001", "issued"),  # migrated without its organisation
}
TEXTS = ["华信", "物业服务", "北京华信", "（北京）华信", "旧名", "abc", "ABC", "Abc tech", "tech", "%", "_", "100%",
         "Ab_", "ab_c", "b-2026", "B-2026-00", "B-2026-001", "cp-2026", "CP-2026-001", "cp-2026-002",
         "91110000ma0000001a", "91440000MA0000004D", "M-2020", "U-2026-099", "CP-LOST-1", "无此组织", "-", "x",
         "co.", "2026"]


def _ascii_lower(text: str) -> str:
    return text.translate(str.maketrans(string.ascii_uppercase, string.ascii_lowercase))


def _holds(value: str, part: str) -> bool:
    return _ascii_lower(part) in _ascii_lower(value)


def _begins(value: str, part: str) -> bool:
    return _ascii_lower(value).startswith(_ascii_lower(part))


def make_ledger(ws: Workspace) -> None:
    with Ledger(ws.ledger) as ledger, ledger.transaction() as db:
        for org_id, (name, code, former) in ORGS.items():
            db.execute("INSERT INTO organisations (id, credit_code, name_key, name, created_at) VALUES (?, ?, ?, ?, ?)",
                       (org_id, code, name_key(name), name, STAMP))
            for n, old in enumerate([*former, name]):
                db.execute("INSERT INTO organisation_names (org_id, name, since, source) VALUES (?, ?, ?, 'intake')",
                           (org_id, old, f"2026-0{n + 1}-01"))
        for seq, (audit_id, (org_id, number, status)) in enumerate(AUDITS.items(), 1):
            db.execute("INSERT INTO audits (audit_id, org_id, standard, origin, created_at) "
                       "VALUES (?, ?, 'gbt27922-2011', 'generated', ?)", (audit_id, org_id, STAMP))
            db.execute("INSERT INTO inputs (sha256, name, size, mtime, received_at, finished_at, status, audit_id, "
                       "standard, revision, certificate_no, level) VALUES (?, ?, 1, ?, ?, ?, 'done', ?, "
                       "'gbt27922-2011', 1, ?, 'three-star')",
                       (f"{seq:064x}", f"{audit_id}.xlsx", STAMP, STAMP, STAMP, audit_id, number))
            if number:
                details = {"organisation": ORGS[org_id][0] if org_id else "迁移的组织", "standard": "GB/T 27922-2011",
                           "standard_key": "gbt27922-2011", "level": "three-star", "issue_date": "2026-03-01",
                           "expiry_date": "2029-02-28" if seq != 8 else "2026-01-31", "audit_id": audit_id}
                db.execute("INSERT INTO certificates (number, audit_id, standard, year, seq, issued_at, details, "
                           "org_id, level, status, issued_on, expires_on) VALUES (?, ?, 'gbt27922-2011', 2026, ?, ?, "
                           "?, ?, ?, ?, '2026-03-01', ?)",
                           (number, audit_id, seq, STAMP, json.dumps(details, ensure_ascii=False), org_id,
                            "four-star" if seq == 7 else "three-star", status, details["expiry_date"]))
                db.execute("INSERT INTO certificate_events (number, at, action, status, by, done) "
                           "VALUES (?, ?, 'issue', 'issued', 'auto', 1)", (number, STAMP))
                if status != "issued":
                    action = {"suspended": "suspend", "withdrawn": "withdraw", "superseded": "supersede"}[status]
                    db.execute("INSERT INTO certificate_events (number, at, action, status, by, reason, done) "
                               "VALUES (?, ?, ?, ?, '王审核', '内部理由', 1)", (number, STAMP, action, status))
        # an input that names a certificate the ledger no longer holds, of an audit recorded nowhere else
        db.execute("INSERT INTO inputs (sha256, name, size, mtime, received_at, status, audit_id, standard, "
                   "certificate_no) VALUES ('f', 'U.xlsx', 1, ?, ?, 'rejected', 'U-2026-099', 'gbt27922-2011', "
                   "'CP-LOST-1')", (STAMP, STAMP))


@pytest.fixture
def ws(tmp_path) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    make_ledger(ws)
    return ws


def expected(text: str) -> tuple[set[int], set[str]]:
    """What ``find`` means: (organisations, audits known without one)."""
    text = text.strip()
    key = name_key(text)
    orgs = {i for i, (name, code, former) in ORGS.items()
            if code == text.upper() or (key and key in name_key(name)) or any(_holds(n, text) for n in [name, *former])}
    audits = {a for a, (_, number, _) in AUDITS.items()
              if a == text or _begins(a, text) or (number and _begins(number, text.upper()))}
    if text in ("U-2026-099", "CP-LOST-1"):
        audits.add("U-2026-099")
    orgs |= {AUDITS[a][0] for a in audits if a in AUDITS and AUDITS[a][0]}
    return orgs, {a for a in audits if a not in AUDITS or AUDITS[a][0] is None}


def answered(ledger: Ledger, text: str) -> tuple[set[int], set[str]]:
    found = find(ledger, text)
    orgs = {o.id for o in found if o.id is not None}
    orphans = {a.audit_id for o in found if o.id is None for a in o.audits}
    for org in found:
        if org.id is not None:
            assert {a.audit_id for a in org.audits} == {a for a, v in AUDITS.items() if v[0] == org.id}
    return orgs, orphans


@pytest.mark.parametrize("text", TEXTS)
def test_find_answers_what_it_means(ws, text):
    with Ledger(ws.ledger, readonly=True) as ledger:
        assert answered(ledger, text) == expected(text)


def test_find_answers_the_same_without_the_find_indexes(ws):
    with Ledger(ws.ledger, readonly=True) as ledger:
        indexed = {text: answered(ledger, text) for text in TEXTS}
    with Ledger(ws.ledger) as ledger:
        for statement in FIND_SQL.split(";"):
            if statement.strip():
                ledger.db.execute("DROP INDEX " + statement.split("EXISTS")[1].split(" ON ")[0].strip())
        assert {text: answered(ledger, text) for text in TEXTS} == indexed
        assert sum(v != (set(), set()) for v in indexed.values()) >= len(TEXTS) - 4  # a real comparison


def test_find_reads_names_once_and_everything_else_by_index(ws):
    """On 100,000 audits a walk over audits, certificates or inputs costs tens of milliseconds each: find
    may read the organisations' names (a part may be anywhere in them) and nothing else whole."""
    with Ledger(ws.ledger, readonly=True) as ledger:
        executed: list[str] = []
        ledger.db.set_trace_callback(executed.append)
        for text in ("B-2026-001", "华信", "cp-2026-002", "91110000MA0000001A", "abc"):
            find(ledger, text)
        ledger.db.set_trace_callback(None)
        scans = set()
        for sql in executed:
            for row in ledger.db.execute("EXPLAIN QUERY PLAN " + sql):
                if row[-1].startswith("SCAN"):
                    scans.add(row[-1])
    assert scans <= {"SCAN n", "SCAN organisations USING COVERING INDEX organisations_name"}, scans
    assert scans  # the names are read: the plans were seen


def test_an_older_ledger_gets_the_find_indexes(tmp_path):
    path = tmp_path / "ledger.sqlite"
    shutil.copy(Path(__file__).parent / "fixtures" / "ledgers" / "v3-demo-zh.sqlite", path)
    with Ledger(path) as ledger:
        assert ledger.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        indexes = {r[0] for r in ledger.db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        (number, audit_id) = ledger.db.execute("SELECT number, audit_id FROM certificates LIMIT 1").fetchone()
        found = find(ledger, number.lower())
    assert {"audits_id_nocase", "certificates_number_nocase", "inputs_certificate", "organisation_names_org"} <= indexes
    held = [a.audit_id for o in found for a in o.audits if a.certificate and a.certificate.number == number]
    assert held == [audit_id]


@pytest.mark.parametrize("text", ["华信", "北京华信", "（北京）华信", "abc", "ABC", "Ab_", "ab_c", "%", "100%", "co.",
                                  "无此组织", "（）", "Trading"])
@pytest.mark.parametrize("few", [500, 0], ids=["by index", "walking the audits"])
def test_the_console_search_by_organisation_answers_what_it_means(ws, text, few, monkeypatch):
    import pipeline.flow.console_queries

    monkeypatch.setattr(pipeline.flow.console_queries, "FEW_ORGANISATIONS", few)
    key = name_key(text)
    wanted = {a for a, (org, _, _) in AUDITS.items()
              if org and (_holds(ORGS[org][0], text.strip()) or key in name_key(ORGS[org][0]))}
    assert {a.audit_id for a in search(ws, AuditQuery(organisation=text)).audits} == wanted
    assert wanted or text == "无此组织"


def test_publish_shows_each_certificate_as_the_ledger_holds_it(ws, tmp_path):
    """Two queries for every certificate's state and history give what asking for each gave."""
    dest = tmp_path / "public"
    published = publish_site(ws, Config(), dest)
    numbers = [n for _, (_, n, _) in AUDITS.items() if n]
    assert published.count == len(numbers)
    with Ledger(ws.ledger, readonly=True) as ledger:
        for number in numbers:
            page = json.loads((dest / "c" / f"{number}.json").read_text(encoding="utf-8"))
            expiry = date.fromisoformat(page["expiry_date"])
            assert page["status"] == in_force_status(certificate_status(ws, number, ledger=ledger), expiry)
            assert [(h["when"], h["status"], h["by"], h["reason"]) for h in page["history"]] == \
                certificate_history(ws, number, ledger=ledger, public=True)
            level = ledger.db.execute("SELECT level FROM certificates WHERE number = ?", (number,)).fetchone()[0]
            assert page["level"] == level
            html = (dest / "c" / number / "index.html").read_text(encoding="utf-8")
            assert "内部理由" not in html and "王审核" not in html
    assert {json.loads((dest / "c" / f"{n}.json").read_text(encoding="utf-8"))["status"] for n in numbers} == \
        {"issued", "suspended", "withdrawn", "superseded", "expired"}
    assert not list(dest.rglob(".~certpipe-*"))
    assert all((p.stat().st_mode & 0o777) == 0o644 for p in dest.rglob("*.json"))


def test_many_certificates_change_at_once_or_none_does(tmp_path, monkeypatch):
    from docx import Document

    import pipeline.flow.register
    from pipeline import CertpipeError, api

    root = tmp_path / "ws"
    ws = api.init_workspace(root)
    make_ledger(ws)
    for audit_id in AUDITS:
        (ws.outbox / audit_id).mkdir(parents=True)
    registers = []
    monkeypatch.setattr(pipeline.flow.register, "refresh_register",
                        lambda *a, _real=pipeline.flow.register.refresh_register: registers.append(_real(*a)))
    chosen = ["CP-2026-001", "CP-2026-005", "CP-2026-007", "CP-2026-001"]  # one given twice: changed once
    events = api.change_certificates(chosen, "suspend", by="王审核", reason="标准已废止", workspace=root)
    assert [(e.number, e.action, e.status) for e in events] == [(n, "suspend", "suspended") for n in chosen[:3]]
    assert len(registers) == 1 and ws.register.is_file()
    for number, audit_id in (("CP-2026-001", "B-2026-001"), ("CP-2026-005", "AB-2026-005"),
                             ("CP-2026-007", "B-2026-007")):
        (notice,) = (ws.outbox / audit_id / "notices").glob("*.docx")
        assert number in "\n".join(p.text for p in Document(notice).paragraphs + [
            p for t in Document(notice).tables for row in t.rows for c in row.cells for p in c.paragraphs])
        status = json.loads((ws.outbox / audit_id / "status.json").read_text(encoding="utf-8"))
        assert status["status"] == "suspended" and status["history"][-1]["reason"] == "标准已废止"

    with pytest.raises(CertpipeError) as refused:  # CP-2026-004 is withdrawn: none is restored
        api.change_certificates(["CP-2026-001", "CP-2026-004"], "restore", by="王审核", reason="x", workspace=root)
    assert refused.value.params["number"] == "CP-2026-004"
    with Ledger(ws.ledger, readonly=True) as ledger:
        assert ledger.db.execute("SELECT status FROM certificates WHERE number = 'CP-2026-001'").fetchone() == \
            ("suspended",)
        assert ledger.db.execute("SELECT count(*) FROM certificate_events WHERE action = 'restore'").fetchone() == (0,)
    assert len(list((ws.outbox / "B-2026-001" / "notices").glob("*.docx"))) == 1


def test_a_notice_template_edited_between_two_changes_is_the_one_used(tmp_path):
    """Notices reuse the compiled template while it is the same file; the workspace's own, once
    written there, is used from the next change on."""
    import zipfile

    from docx import Document

    from pipeline import api
    from pipeline.word.render import find_template

    root = tmp_path / "ws"
    ws = api.init_workspace(root)
    make_ledger(ws)
    for audit_id in AUDITS:
        (ws.outbox / audit_id).mkdir(parents=True)

    def notice_text(audit_id: str) -> str:
        (notice,) = (ws.outbox / audit_id / "notices").glob("*.docx")
        return "\n".join(p.text for p in Document(notice).paragraphs)

    api.change_certificate("CP-2026-001", "suspend", by="王审核", reason="x", workspace=root)
    assert "认证证书状态变更通知书" in notice_text("B-2026-001")
    own = ws.templates / "notice.zh.docx"
    own.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(find_template("notice", None, "zh", None)) as src, zipfile.ZipFile(own, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "word/document.xml":
                data = data.replace("认证证书状态变更通知书".encode(), "本机构自己的通知书".encode())
            dst.writestr(info, data)
    api.change_certificate("CP-2026-005", "suspend", by="王审核", reason="x", workspace=root)
    assert "本机构自己的通知书" in notice_text("AB-2026-005")
    assert "认证证书状态变更通知书" not in notice_text("AB-2026-005")

