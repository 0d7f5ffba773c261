"""The life of a certificate: decisions (auto and review), the states and their changes from one
table, expiry, surveillance and recertification round trips, a lowered level waiting, and a crash
between recording a change and writing its notice."""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from docx import Document

from pipeline.core.lifecycle import CHANGES, STATUSES, allowed, change, expired
from pipeline.errors import CertpipeError
from pipeline.excel.fill import fill_audit
from pipeline.flow import certs
from pipeline.flow.ledger import SCHEMA_VERSION, Ledger
from tests.helpers.workspace import certpipe, make_ws, sample_audit

GBT = "gbt27922-2011"
ACTIONS = sorted({action for _, action in CHANGES})


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_change_is_allowed_or_refused_by_the_one_table(status, action):
    if (status, action) in CHANGES:
        assert change(status, action) == CHANGES[(status, action)]
        assert action in allowed(status)
        return
    with pytest.raises(CertpipeError) as refused:
        change(status, action, number="N-1")
    text = refused.value.render("en")
    assert "N-1" in text and "cannot" in text
    for manual in ("suspend", "restore", "withdraw", "cancel"):  # the allowed ones a person can take, named
        if (status, manual) in CHANGES:
            assert manual in text
    if not any((status, manual) in CHANGES for manual in ("suspend", "restore", "withdraw", "cancel")):
        assert "final" in text and "allowed now" not in text  # not "allowed now: —"


def test_a_certificate_is_valid_on_its_last_day_and_expired_the_day_after():
    last = date(2029, 11, 28)
    assert not expired(last, date(2029, 11, 28))
    assert expired(last, date(2029, 11, 29))
    assert not expired(None, date(2099, 1, 1))


# ---- end to end --------------------------------------------------------------------------------
def _blank(ws, *args: str) -> Path:
    before = set(ws.root.glob("*.xlsx"))
    done = certpipe(ws, "new", GBT, "-o", str(ws.root), *args)
    assert done.returncode == 0, done.stdout + done.stderr
    (blank,) = set(ws.root.glob("*.xlsx")) - before
    return blank


def _fill(ws, blank: Path, org: str, target: str, *, audit_type: str = "初次认证", lead: str = "王立",
          name: str | None = None) -> Path:
    audit = sample_audit(audit_id=blank.stem, org=org, target=target)
    audit = replace(audit, info=replace(audit.info, audit_type=audit_type, lead_auditor=lead, auditors=f"{lead}、陈晓"))
    dest = ws.inbox / (name or f"{blank.stem}-{target}.xlsx")
    fill_audit(blank, dest, audit)
    return dest


def _issued(ws, org: str) -> tuple[Path, dict]:
    """An initial audit of ``org`` generated, filled to a level and run: its blank and its certificate."""
    blank = _blank(ws, "--org", org)
    _fill(ws, blank, org, "92")
    assert certpipe(ws, "run").returncode == 0
    (issued,) = [c for c in _json(ws, "certificates", "list") if c["audit_id"] == blank.stem]
    return blank, issued


def _scorecard(ws, audit_id: str) -> dict:
    return json.loads((ws.outbox / audit_id / "scorecard.json").read_text(encoding="utf-8"))


def _json(ws, *args: str):
    done = certpipe(ws, *args, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def _text(docx: Path) -> str:
    doc = Document(str(docx))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_review_mode_publishes_the_report_first_and_the_certificate_after_an_independent_approval(tmp_path):
    ws = make_ws(tmp_path)
    (ws.root / "certpipe.toml").write_text('[decision]\nmode = "review"\n', encoding="utf-8")
    first, second = _blank(ws, "--org", "甲公司"), _blank(ws, "--org", "乙公司")
    _fill(ws, first, "甲公司", "92")
    _fill(ws, second, "乙公司", "88")
    done = certpipe(ws, "run")
    assert done.returncode == 0 and "待认证决定" in done.stdout
    folder = ws.outbox / first.stem
    assert (folder / f"{first.stem}-report.docx").is_file()
    assert not (folder / f"{first.stem}-certificate.docx").exists()
    assert "待认证决定" in _text(folder / f"{first.stem}-report.docx")
    queue = _json(ws, "decisions")
    assert sorted(d["audit_id"] for d in queue) == [first.stem, second.stem]
    assert all(d["kind"] == "issue" and "王立" in d["auditors"] for d in queue)
    assert _json(ws, "certificates", "list") == []

    # the lead auditor may not decide
    refused = certpipe(ws, "decide", first.stem, "--approve", "--by", "王立")
    assert refused.returncode == 2 and "王立" in refused.stderr and "不能作出认证决定" in refused.stderr
    for spelt in ("王　立", " 王 立 ", "王立"):  # a full-width space, spaces, full-width forms: the same person
        again = certpipe(ws, "decide", first.stem, "--approve", "--by", spelt)
        assert again.returncode == 2 and "不能作出认证决定" in again.stderr, spelt
    assert _json(ws, "certificates", "list") == []

    approved = certpipe(ws, "decide", first.stem, "--approve", "--by", "赵决定", "--reason", "符合")
    assert approved.returncode == 0, approved.stderr
    (cert,) = _json(ws, "certificates", "list")
    assert [r["certificate_no"] for r in _json(ws, "ledger", "--audit", first.stem)] == [cert["number"]]
    assert cert["status"] == "issued" and cert["audit_id"] == first.stem
    assert cert["issued_on"] == date.today().isoformat()
    assert cert["number"] in _text(folder / f"{first.stem}-certificate.docx")
    assert _scorecard(ws, first.stem)["certificate"]["number"] == cert["number"]
    status = json.loads((folder / "status.json").read_text(encoding="utf-8"))
    assert status["status"] == "issued" and status["history"][-1]["by"] == "赵决定"

    assert certpipe(ws, "decide", second.stem, "--refuse", "--by", "赵决定", "--reason", "证据不足").returncode == 0
    assert len(_json(ws, "certificates", "list")) == 1
    assert _json(ws, "decisions") == []
    assert not (ws.outbox / second.stem / f"{second.stem}-certificate.docx").exists()
    with Ledger(ws.ledger, readonly=True) as ledger:
        (row,) = ledger.db.execute("SELECT status, decided_by, reason FROM decisions WHERE audit_id = ?",
                                   (second.stem,)).fetchall()
    assert row == ("refused", "赵决定", "证据不足")


def test_a_revision_that_lowers_the_level_waits_for_a_decision_and_the_certificate_stays(tmp_path):
    ws = make_ws(tmp_path)
    blank, issued = _issued(ws, "戊公司")
    certificate = ws.outbox / blank.stem / f"{blank.stem}-certificate.docx"
    before = certificate.read_bytes()
    _fill(ws, blank, "戊公司", "82")
    waits = certpipe(ws, "--lang", "en", "run")
    assert waits.returncode == 0 and "await a certification decision" in waits.stdout
    assert certificate.read_bytes() == before  # the client still holds it: carried into the new revision
    assert _scorecard(ws, blank.stem)["revision"] == 2
    assert _json(ws, "certificates", "list")[0]["level"] == issued["level"]
    (waiting,) = _json(ws, "decisions")
    assert waiting["kind"] == "revision" and waiting["number"] == issued["number"]
    assert waiting["certificate_level"] == issued["level"] != waiting["level"]  # from what, to what
    listed = certpipe(ws, "decisions").stdout
    assert f"{issued['level_words']} → {waiting['level_words']}" in listed.replace("\n", ""), listed

    assert certpipe(ws, "decide", blank.stem, "--approve", "--by", "赵决定", "--reason", "复核").returncode == 0
    (now,) = _json(ws, "certificates", "list")
    assert now["number"] == issued["number"] and now["issued_on"] == issued["issued_on"]
    assert now["level"] != issued["level"]
    assert certificate.read_bytes() != before
    history = _json(ws, "certificates", "show", issued["number"])["history"]
    assert [e["action"] for e in history] == ["issue", "revise"] and history[-1]["by"] == "赵决定"

    # below every level: nothing to approve; a refusal keeps the certificate
    _fill(ws, blank, "戊公司", "40")
    assert certpipe(ws, "run").returncode == 0
    nothing = certpipe(ws, "decide", blank.stem, "--approve", "--by", "赵决定")
    assert nothing.returncode == 2 and "未达到任何等级" in nothing.stderr
    assert certpipe(ws, "decide", blank.stem, "--refuse", "--by", "赵决定", "--reason", "暂不变更").returncode == 0
    assert _json(ws, "certificates", "list")[0]["status"] == "issued"


def test_surveillance_through_due_workbooks_maintains_the_certificate_and_recertification_supersedes_it(tmp_path):
    ws = make_ws(tmp_path)
    blank, issued = _issued(ws, "己公司")

    due = _json(ws, "due", "--within", "400")
    assert {(d["kind"], d["number"]) for d in due} == {("surveillance", issued["number"])}
    made = _json(ws, "due", "--within", "400", "--workbooks", str(ws.root / "due"))
    (item,) = made
    surveillance = Path(item["path"])
    assert surveillance.is_file() and item["kind"] == "surveillance"
    # the previous audit's entries beside each input, read-only (the sheets are protected)
    from openpyxl import load_workbook

    book = load_workbook(surveillance)
    previous = sample_audit(audit_id=blank.stem, org="己公司", target="92").entries.scores
    shown = {}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("上次评分"):
                    assert blank.stem in cell.value and sheet.protection.sheet and cell.protection.locked
                    column = cell.column
                    for below in sheet.iter_rows(min_row=cell.row + 1, min_col=column, max_col=column):
                        if below[0].value is not None:
                            shown[(sheet.title, below[0].row)] = below[0].value
    from pipeline.core.numbers import plain

    assert len(shown) == len(previous) and set(shown.values()) <= {plain(v) for v in previous.values()} | {"不适用"}
    again = _json(ws, "due", "--within", "400")
    assert again[0]["planned"] == surveillance.stem  # generated once: not again
    assert _json(ws, "due", "--within", "400", "--workbooks", str(ws.root / "due")) == []

    _fill(ws, surveillance, "己公司", "92", audit_type="监督审核")
    done = certpipe(ws, "run")
    assert done.returncode == 0 and "保持" in done.stdout
    certs_now = _json(ws, "certificates", "list")
    assert len(certs_now) == 1  # no new number
    (kept,) = certs_now
    assert kept["expires_on"] == issued["expires_on"]  # no new validity
    assert kept["surveillance_due"] > issued["surveillance_due"]
    assert not (ws.outbox / surveillance.stem / f"{surveillance.stem}-certificate.docx").exists()
    history = _json(ws, "certificates", "show", issued["number"])["history"]
    assert [e["action"] for e in history] == ["issue", "maintain"]

    # a surveillance workbook that belongs to no certificate is refused, with the audit type's cell
    stray = _blank(ws, "--org", "庚公司")
    _fill(ws, stray, "庚公司", "92", audit_type="监督审核")
    refused = certpipe(ws, "run")
    assert refused.returncode == 1 and "不属于任何已发证书" in refused.stdout

    recert = _blank(ws, "--type", "recert", "--certificate", issued["number"])
    _fill(ws, recert, "己公司", "97", audit_type="再认证")
    assert certpipe(ws, "run").returncode == 0
    by_number = {c["number"]: c for c in _json(ws, "certificates", "list")}
    assert by_number[issued["number"]]["status"] == "superseded"
    (new,) = [c for c in by_number.values() if c["number"] != issued["number"]]
    assert new["status"] == "issued" and new["renews"] == issued["number"] and new["audit_id"] == recert.stem
    old_status = json.loads((ws.outbox / blank.stem / "status.json").read_text(encoding="utf-8"))
    assert old_status["status"] == "superseded"


def test_a_surveillance_at_another_level_waits_and_its_approval_keeps_the_number(tmp_path):
    ws = make_ws(tmp_path)
    _blank_file, issued = _issued(ws, "辛公司")
    surveillance = _blank(ws, "--type", "surveillance", "--certificate", issued["number"])
    _fill(ws, surveillance, "辛公司", "82", audit_type="监督审核")
    assert certpipe(ws, "run").returncode == 0
    (waiting,) = _json(ws, "decisions")
    assert waiting["kind"] == "surveillance" and waiting["number"] == issued["number"]
    assert certpipe(ws, "decide", surveillance.stem, "--approve", "--by", "赵决定").returncode == 0
    (now,) = _json(ws, "certificates", "list")
    assert now["number"] == issued["number"] and now["level"] != issued["level"]
    assert now["surveillance_due"] > issued["surveillance_due"]
    assert (ws.outbox / surveillance.stem / f"{surveillance.stem}-certificate.docx").is_file()
    # what the register and the console show of it says the new level and the total that reached it
    details = json.loads(sqlite3.connect(ws.ledger).execute("SELECT details FROM certificates WHERE number = ?",
                                                            (now["number"],)).fetchone()[0])
    assert details["level"] == now["level"] and details["total"] == "82" and details["organisation"] == "辛公司"


def test_suspend_restore_withdraw_with_notices_and_illegal_changes_refused(tmp_path):
    ws = make_ws(tmp_path)
    blank, issued = _issued(ws, "壬公司")
    number = issued["number"]
    assert certpipe(ws, "certificates", "restore", number, "--by", "甲", "--reason", "x").returncode == 2
    assert certpipe(ws, "certificates", "suspend", number, "--by", "甲", "--reason", "未接受监督",
                    "--until", "2000-01-01").returncode == 2
    assert certpipe(ws, "certificates", "suspend", number, "--by", "甲", "--reason", "未接受监督").returncode == 0
    assert _json(ws, "certificates", "list", "--status", "suspended")[0]["number"] == number
    twice = certpipe(ws, "--lang", "en", "certificates", "suspend", number, "--by", "甲", "--reason", "x")
    assert twice.returncode == 2 and "restore" in twice.stderr and "withdraw" in twice.stderr
    assert certpipe(ws, "certificates", "restore", number, "--by", "甲", "--reason", "已整改").returncode == 0
    assert certpipe(ws, "certificates", "withdraw", number, "--by", "甲", "--reason", "严重违规").returncode == 0
    notices = sorted((ws.outbox / blank.stem / "notices").glob("*.docx"))
    assert [p.stem.rsplit("-", 1)[1] for p in notices] == ["suspend", "restore", "withdraw"]
    assert number in _text(notices[0]) and "未接受监督" in _text(notices[0]) and "壬公司" in _text(notices[0])
    assert "撤销" in _text(notices[2])
    status = json.loads((ws.outbox / blank.stem / "status.json").read_text(encoding="utf-8"))
    assert status["status"] == "withdrawn" and [h["action"] for h in status["history"]][-3:] == \
        ["suspend", "restore", "withdraw"]
    from openpyxl import load_workbook

    sheet = load_workbook(ws.register, read_only=True).worksheets[0]
    assert any(number in [str(v) for v in row] and "撤销" in [str(v) for v in row]
               for row in sheet.iter_rows(values_only=True))

    # a ledger made again from the outbox keeps the certificate withdrawn, with its history
    ws.ledger.unlink()
    assert certpipe(ws, "ledger", "rebuild").returncode == 0
    assert _json(ws, "certificates", "list")[0]["status"] == "withdrawn"
    rebuilt = _json(ws, "certificates", "show", number)["history"]
    assert [(h["action"], h["by"], h["reason"]) for h in rebuilt][-3:] == \
        [("suspend", "甲", "未接受监督"), ("restore", "甲", "已整改"), ("withdraw", "甲", "严重违规")]


def test_a_kill_between_recording_a_change_and_writing_its_notice_gives_one_change_and_one_notice(tmp_path):
    ws = make_ws(tmp_path)
    blank, issued = _issued(ws, "癸公司")
    killed = certpipe(ws, "certificates", "suspend", issued["number"], "--by", "甲", "--reason", "x",
                      env={"CERTPIPE_CRASH_AT": "changed"})
    assert killed.returncode < 0  # SIGKILL
    folder = ws.outbox / blank.stem
    assert not (folder / "notices").exists()
    assert _json(ws, "certificates", "list")[0]["status"] == "suspended"  # recorded
    assert certpipe(ws, "certificates", "restore", issued["number"], "--by", "甲", "--reason", "y").returncode == 0
    notices = sorted(p.name for p in (folder / "notices").glob("*.docx"))
    assert len(notices) == 2 and sum("suspend" in n for n in notices) == 1
    history = _json(ws, "certificates", "show", issued["number"])["history"]
    assert [e["action"] for e in history] == ["issue", "suspend", "restore"]


def test_expiry_is_applied_the_day_after_validity_by_any_command(tmp_path):
    ws = make_ws(tmp_path)
    _blank_file, issued = _issued(ws, "子公司")
    last = date.fromisoformat(issued["expires_on"])
    with Ledger(ws.ledger) as ledger:
        assert certs.certificate(ledger.db, issued["number"], today=last).status == "issued"
        assert certs.certificate(ledger.db, issued["number"], today=date.fromordinal(last.toordinal() + 1)).status \
            == "expired"
        with ledger.transaction() as db:  # the last valid day is today: nothing expires
            assert certs.expire_due(db, last, "t") == []
        with ledger.transaction() as db:
            db.execute("UPDATE certificates SET expires_on = '2000-01-01'")
    assert _json(ws, "certificates", "list")[0]["status"] == "expired"  # as read, before any write
    refused = certpipe(ws, "certificates", "suspend", issued["number"], "--by", "甲", "--reason", "x")
    assert refused.returncode == 2
    assert [e["action"] for e in _json(ws, "certificates", "show", issued["number"])["history"]] == ["issue", "expire"]


@pytest.mark.parametrize("fixture", ["v1-demo-zh.sqlite", "v3-demo-zh.sqlite"])
def test_a_ledger_of_an_earlier_release_knows_its_certificates_in_force_with_their_issue(tmp_path, fixture):
    """v3 is the ledger `certpipe demo` made with the release before certificate states (7dc2e2c)."""
    ws = make_ws(tmp_path)
    ws.state.mkdir()
    fixtures = Path(__file__).parent / "fixtures" / "ledgers"
    shutil.copy(fixtures / fixture, ws.ledger)
    listed = _json(ws, "certificates", "list")  # opened, and brought up to date
    assert len(listed) >= 16 and {c["status"] for c in listed} == {"issued"}
    assert all(c["level"] and c["issued_on"] and c["expires_on"] and c["surveillance_due"] for c in listed)
    first = listed[0]
    history = _json(ws, "certificates", "show", first["number"])["history"]
    assert [(h["action"], h["by"]) for h in history] == [("issue", "migrated")]
    with Ledger(ws.ledger, readonly=True) as ledger:
        assert ledger.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        indexes = {r[0] for r in ledger.db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"inputs_status", "inputs_name", "certificates_status", "audits_standard"} <= indexes
    assert _json(ws, "decisions") == []
    suspended = certpipe(ws, "certificates", "suspend", first["number"], "--by", "甲", "--reason", "x")
    assert suspended.returncode == 0, suspended.stderr


def test_the_notice_templates_are_checked_like_the_others(tmp_path):
    import zipfile

    from pipeline.api import check_template, template_files

    names = {p.name for p, _ in template_files()}
    assert {"notice.zh.docx", "notice.en.docx"} <= names
    builtin = next(p for p, _ in template_files() if p.name == "notice.zh.docx")
    assert check_template(builtin) == []
    broken = tmp_path / "notice.zh.docx"
    with zipfile.ZipFile(builtin) as src, zipfile.ZipFile(broken, "w") as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":
                data = data.replace(b"{{ notice.reason }}", b"{{ notice.reasn }}")
            out.writestr(item, data)
    (problem,) = check_template(broken, "en")
    assert "reasn" in problem.message.render("en")


def test_a_change_whose_files_cannot_be_written_is_kept_and_written_later_without_holding_others_up(tmp_path):
    ws = make_ws(tmp_path)
    _blank_file, issued = _issued(ws, "卯公司")
    surveillance = _blank(ws, "--type", "surveillance", "--certificate", issued["number"])
    _fill(ws, surveillance, "卯公司", "82", audit_type="监督审核")
    assert certpipe(ws, "run").returncode == 0
    aside = tmp_path / "archive-aside"
    ws.archive.rename(aside)  # the archived workbook the certificate document is made from is gone
    approved = certpipe(ws, "decide", surveillance.stem, "--approve", "--by", "赵决定")
    assert approved.returncode == 2 and "已记录" in approved.stderr
    assert _json(ws, "certificates", "list")[0]["level"] != issued["level"]  # recorded, once
    document = ws.outbox / surveillance.stem / f"{surveillance.stem}-certificate.docx"
    assert not document.exists()
    aside.rename(ws.archive)
    assert certpipe(ws, "certificates", "list").returncode == 0  # any command writes it now
    assert document.is_file()
    history = _json(ws, "certificates", "show", issued["number"])["history"]
    assert [e["action"] for e in history] == ["issue", "maintain"]


def test_what_is_due_read_by_index_is_what_every_certificate_read_says(tmp_path):
    """``due`` reads only the certificates that can be due (``certificate_rows(due_by=...)``): the
    same items as reading every certificate, for every state and date around the window."""
    from datetime import timedelta

    from pipeline.flow.due import KINDS, DueItem, due

    today, n = date(2026, 11, 29), 0
    ledger = Ledger(tmp_path / "ledger.sqlite")
    days = (-400, -40, -1, 0, 1, 29, 30, 31, 90, 400)
    with ledger.transaction() as db:
        for status in ("issued", "suspended", "withdrawn", "cancelled", "expired", "superseded"):
            for surveillance in (*days, None):
                for expiry in (-1, 0, 1, 30, 31, 700):
                    for until in (None, -1, 0, 5):
                        n += 1
                        at = lambda d: None if d is None else (today + timedelta(days=d)).isoformat()  # noqa: E731
                        db.execute("INSERT INTO certificates (number, audit_id, standard, year, seq, issued_at, level, "
                                   "status, issued_on, expires_on, surveillance_due, suspended_until, details) "
                                   "VALUES (?, ?, 'gbt27922-2011', 2026, ?, '2026-01-01', 'three-star', ?, "
                                   "'2024-01-01', ?, ?, ?, '{}')",
                                   (f"N{n}", f"A{n}", n, status, at(expiry), at(surveillance), at(until)))
    within = 30
    horizon = today + timedelta(days=within)
    expected = []
    for row in certs.certificate_rows(ledger.db, today=today):  # every certificate, as due read them before
        def item(kind, when, _row=row):
            return DueItem(kind, _row.number, _row.organisation, "", _row.standard, _row.level, _row.status, when,
                           (date.fromisoformat(when) - today).days, None)

        if row.status == "suspended" and row.suspended_until and date.fromisoformat(row.suspended_until) < today:
            expected.append(item("suspension_overdue", row.suspended_until))
        if row.status not in ("issued", "suspended"):
            continue
        expires = date.fromisoformat(row.expires_on) if row.expires_on else None
        if row.surveillance_due and date.fromisoformat(row.surveillance_due) <= horizon \
                and (expires is None or date.fromisoformat(row.surveillance_due) < expires):
            expected.append(item("surveillance", row.surveillance_due))
        if expires is not None and expires <= horizon:
            expected.append(item("recertification", row.expires_on))
    expected.sort(key=lambda i: (i.days, KINDS.index(i.kind), i.number))
    found = due(ledger, within=within, today=today)
    ledger.close()
    assert len(expected) > 100 and found == expected


def test_several_certificates_are_suspended_by_one_command_all_or_none(tmp_path):
    ws = make_ws(tmp_path)
    _, first = _issued(ws, "子公司")
    _, second = _issued(ws, "丑公司")
    numbers = [first["number"], second["number"]]
    assert certpipe(ws, "certificates", "withdraw", numbers[1], "--by", "甲", "--reason", "严重违规").returncode == 0
    refused = certpipe(ws, "certificates", "suspend", *numbers, "--by", "甲", "--reason", "认可暂停")
    assert refused.returncode == 2 and numbers[1] in refused.stderr
    assert {c["number"]: c["status"] for c in _json(ws, "certificates", "list")}[numbers[0]] == "issued"  # none
    _, third = _issued(ws, "寅公司")
    both = [numbers[0], third["number"]]
    done = certpipe(ws, "certificates", "suspend", *both, "--by", "甲", "--reason", "认可暂停")
    assert done.returncode == 0 and all(n in done.stdout for n in both)
    assert all(f"outbox/{c['audit_id']}/notices" in done.stdout for c in (first, third))  # where each notice is
    statuses = {c["number"]: c["status"] for c in _json(ws, "certificates", "list")}
    assert [statuses[n] for n in both] == ["suspended", "suspended"]


def test_a_suspension_cannot_outlast_the_certificate(tmp_path):
    ws = make_ws(tmp_path)
    _, issued = _issued(ws, "卯辰公司")
    number, expires = issued["number"], issued["expires_on"]
    later = str(int(expires[:4]) + 2) + expires[4:]
    refused = certpipe(ws, "certificates", "suspend", number, "--by", "甲", "--reason", "x", "--until", later)
    assert refused.returncode == 2 and expires in refused.stderr
    assert _json(ws, "certificates", "list")[0]["status"] == "issued"
    assert certpipe(ws, "certificates", "suspend", number, "--by", "甲", "--reason", "x",
                    "--until", expires).returncode == 0
    assert _json(ws, "certificates", "list")[0]["suspended_until"] == expires
    shown = certpipe(ws, "certificates", "show", number).stdout
    assert f"暂停至 {expires}" in shown.replace("\n", "")  # the end date in the history says what it is
