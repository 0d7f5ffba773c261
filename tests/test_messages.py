"""Messages are data: problems, errors and outcomes carry a catalogue key and parameters; the ledger
keeps keys, never words; words come in the language of whoever reads them. And a ledger written by
the previous release (words in Chinese, one English note) is converted, not misread."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline import CertpipeError, Message, validate_file
from pipeline.errors import WorkbookError
from pipeline.excel.intake import read_workbook
from pipeline.i18n import catalogue
from tests.helpers.paths import FIXTURES
from tests.helpers.workbooks import info
from tests.helpers.workspace import certpipe, make_ws, run, sample_audit, workbook

V1_LEDGER = FIXTURES / "ledgers" / "v1-demo-zh.sqlite"  # `certpipe demo` + one duplicate, release of c64ddef


@pytest.mark.parametrize(("content", "key", "english"), [
    (b"just text, no zip", "intake.not_workbook", "not an excel workbook"),
    (b"", "intake.empty", "empty"),
    (b"PK\x03\x04 cut short", "intake.truncated", "incomplete"),
])
def test_an_unreadable_file_is_an_error_in_either_language(tmp_path, content, key, english):
    """It used to carry the key 'not_workbook', no catalogue key: rendering it in English raised KeyError."""
    path = tmp_path / "x.xlsx"
    path.write_bytes(content)
    with pytest.raises(WorkbookError) as err:
        read_workbook(path)
    assert err.value.key == key and key in catalogue()
    assert english in err.value.render("en").lower()
    assert err.value.render("zh") != err.value.render("en") and err.value.render_hint("en")


def test_a_problem_is_a_key_and_parameters_in_words_only_when_shown(tmp_path):
    from pipeline import load_standard
    from pipeline.excel.build import build_workbook

    blank = build_workbook(load_standard("gbt27922-2011"), info(), tmp_path / "blank.xlsx")
    checked = validate_file(blank)
    empty = next(p for p in checked.problems if p.key == "val.score_empty")
    assert empty.params["code"] == empty.code and empty.sheet and empty.cell
    assert "未评分" in empty.text("zh") and "no score" in empty.text("en")
    assert empty.format("en").startswith(f"{empty.sheet}!{empty.cell}: ")
    assert json.loads(json.dumps(empty.to_json()))["key"] == "val.score_empty"  # data, as the ledger keeps it


def test_a_message_parameter_that_is_words_renders_in_the_same_language():
    label = Message("wb.field.lead_auditor")
    required = Message("val.cover_required", {"label": label, "name": "lead_auditor", "code": ""})
    assert "审核组长" in required.render("zh") and "Lead auditor" in required.render("en")
    assert Message.from_json(json.loads(json.dumps(required.to_json()))) == required


def test_every_error_names_a_catalogue_key():
    with pytest.raises(TypeError):
        CertpipeError()  # no message without a key
    assert CertpipeError("err.unexpected", {"detail": "x"}).render("en") == "unexpected error: x"


@pytest.fixture
def worked(tmp_path):
    """A workspace run in Chinese: one certified, one rejected, one duplicate."""
    ws = make_ws(tmp_path)
    good = workbook(ws, "good.xlsx", sample_audit(audit_id="M-1", target="88"))
    shutil.copy(good, ws.root / "again.xlsx")
    bad = workbook(ws, "bad.xlsx", sample_audit(audit_id="M-2"))
    from pipeline.excel.fill import fill_workbook

    fill_workbook(bad, bad, {"lead_auditor": None})
    run(ws)
    shutil.move(ws.root / "again.xlsx", ws.inbox / "again.xlsx")
    run(ws)
    return ws


def test_the_ledger_keeps_keys_never_words(worked):
    db = sqlite3.connect(worked.ledger)
    rows = {name: (level, problem, note) for name, level, problem, note in
            db.execute("SELECT name, level, first_problem, note FROM inputs")}
    assert rows["good.xlsx"][0] == "three-star"  # the key, not 三星
    assert json.loads(rows["bad.xlsx"][1])["key"] == "val.cover_required"
    assert json.loads(rows["again.xlsx"][2])["key"] == "ledger.duplicate_of"
    text = " ".join(str(v) for row in rows.values() for v in row)
    assert "same content" not in text and "三星" not in text and "为空" not in text


def test_certpipe_ledger_shows_a_chinese_run_in_english_and_in_chinese(worked):
    en = certpipe(worked, "ledger", "--lang", "en")
    assert en.returncode == 0, en.stderr
    assert "Three-star" in en.stdout and "reported" in en.stdout
    assert "same content as input #1" in en.stdout and "Lead auditor" in en.stdout
    assert "三星" not in en.stdout and "审核组长" not in en.stdout
    zh = certpipe(worked, "ledger")
    assert "三星" in zh.stdout and "与第 1 号输入" in zh.stdout and "same content" not in zh.stdout
    rows = {r["name"]: r for r in json.loads(certpipe(worked, "ledger", "--json", "--lang", "en").stdout)}
    assert rows["good.xlsx"]["level"] == "three-star" and rows["good.xlsx"]["level_words"] == "★★★ Three-star"
    assert rows["bad.xlsx"]["first_problem"]["key"] == "val.cover_required"
    assert "Lead auditor" in rows["bad.xlsx"]["first_problem"]["text"]


def test_a_ledger_of_the_previous_release_is_converted(tmp_path):
    ws = make_ws(tmp_path)
    ws.state.mkdir()
    shutil.copy(V1_LEDGER, ws.ledger)
    old = sqlite3.connect(ws.ledger)
    assert old.execute("PRAGMA user_version").fetchone() == (1,)
    before = old.execute("SELECT count(*) FROM inputs").fetchone()[0]
    old.execute("INSERT INTO inputs (sha256, name, size, mtime, received_at, status, problems, first_problem, note) "
                "VALUES ('x', 'late.xlsx', 1, '', '', 'rejected', 1, '处理超过时间上限', 'retryable')")
    old.commit()
    old.close()

    result = certpipe(ws, "ledger", "--json", "--lang", "en")
    assert result.returncode == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert len(rows) == before + 1
    grade = rows["DEMO-2026-007-info-system-integration-grade2.xlsx"]
    assert grade["level"] == "grade2" and grade["level_words"] == "Grade 2"
    assert rows["DEMO-2026-001-gbt27922-2011-pass.xlsx"]["level_words"] == "Standard"
    duplicate = rows["again.xlsx"]["note"]
    assert duplicate["key"] == "ledger.duplicate_of" and duplicate["params"]["id"] == 3
    assert duplicate["text"] == "same content as input #3 DEMO-2026-002-gbt27922-2011-three-star.xlsx (reported)"
    assert rows["late.xlsx"]["retryable"] is True and rows["late.xlsx"]["note"] is None
    problem = rows["DEMO-2026-PROBLEMS-gbt27922-2011.xlsx"]["first_problem"]
    assert problem["key"] == "legacy.text"
    assert problem["text"] == "封面!B5: 必填项「受审核组织名称」为空"  # kept as written: no key to read it back by
    from pipeline.flow.ledger import SCHEMA_VERSION

    assert sqlite3.connect(ws.ledger).execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)

    # the register, rewritten from the converted ledger, in English: levels in words from their keys
    assert certpipe(ws, "--lang", "en", "run").returncode == 0
    sheet = load_workbook(ws.register).active
    header = [c.value for c in sheet[1]]
    levels = {row[header.index("Audit id")]: row[header.index("Level")] for row in sheet.iter_rows(min_row=2,
                                                                                                   values_only=True)}
    assert levels["DEMO-2026-007"] == "Grade 2" and levels["DEMO-2026-002"] == "★★★ Three-star"


def test_the_ledger_is_opened_read_only_by_those_who_only_look(tmp_path):
    from pipeline import open_ledger
    from pipeline.errors import LedgerError

    ws = make_ws(tmp_path)
    with pytest.raises(LedgerError) as err:
        open_ledger(ws.root)
    assert err.value.key == "err.no_ledger" and not ws.ledger.exists()
    workbook(ws, "a.xlsx", sample_audit(audit_id="R-1"))
    run(ws)
    with open_ledger(ws.root) as ledger:
        assert [r.status for r in ledger.rows()] == ["done"]
        with pytest.raises(sqlite3.OperationalError):
            ledger.db.execute("DELETE FROM inputs")


def test_outcomes_render_in_the_language_of_the_run(tmp_path):
    ws = make_ws(tmp_path)
    bad = ws.inbox / "not-a-workbook.xlsx"
    bad.write_bytes(b"hello")
    zh = certpipe(ws, "run")
    assert zh.returncode == 1 and "不是 Excel" in zh.stdout
    problems = next(Path(ws.rejected).glob("*/problems.txt")).read_text(encoding="utf-8")
    assert "不是 Excel" in problems
    (ws.inbox / "again.xlsx").write_bytes(b"hello again")
    en = certpipe(ws, "--lang", "en", "run")
    assert en.returncode == 1 and "not an Excel workbook" in en.stdout.replace("\n", " ")
