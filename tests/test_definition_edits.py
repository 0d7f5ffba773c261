"""Edits that keep field work: the definition hash split into a scoring hash (rejects a workbook) and a
text hash (does not); `certpipe migrate` carries entries into a workbook of the edited definition;
`standards check` warns when a workspace file overrides a built-in, counting the outstanding workbooks."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from pipeline import api
from pipeline.core.audit import Audit, Entries
from pipeline.core.definition import parse_definition
from pipeline.excel.build import build_workbook
from pipeline.excel.names import META_SHEET
from pipeline.flow.standards import definition_paths, load_standard
from tests.helpers.workbooks import edit, info
from tests.helpers.workspace import make_ws, sample_audit, workbook

KEY = "qhxc013-2018"
SOURCE = definition_paths()[KEY].read_text(encoding="utf-8")


def variant(old: str, new: str, count: int = 1):
    assert old in SOURCE, old
    std, problems = parse_definition(SOURCE.replace(old, new, count), f"{KEY}.yaml")
    assert problems == [], [p.format() for p in problems]
    return std


BASE = variant("", "", 0)


@pytest.mark.parametrize(("old", "new"), [
    ("{zh: 定制服务的组织、制度、人员、资源与内部控制规范。}", "{zh: 定制服务的组织、制度与人员。}"),  # wording
    ("title: {zh: 市场服务, en: Market service}", "title: {zh: 市场服务能力, en: Market services}"),
    ("label: {zh: 一星, en: One-star}", "label: {zh: 一星级, en: One star}"),
    ('edition: "2018"', 'edition: "2018"  # a comment only'),
    ("min: 105,", "min: 105.0,"),  # the same number written otherwise
])
def test_a_text_edit_keeps_the_scoring_hash(old, new):
    edited = variant(old, new)
    assert edited.fingerprint() == BASE.fingerprint()
    if "comment" not in new and "105.0" not in new:
        assert edited.text_fingerprint() != BASE.text_fingerprint()


@pytest.mark.parametrize(("old", "new"), [
    ("min: 105,", "min: 110,"),                                   # a level threshold moved
    ("max: 40\n        requirement: {zh: 定制服务", "max: 45\n        requirement: {zh: 定制服务"),  # points
    ("  step: 0.5", "  step: 1"),                                 # the entry precision
    ('code: "4"', 'code: "5"'),                                   # an indicator's identity
])
def test_an_edit_of_points_levels_or_rules_changes_it(old, new):
    text = SOURCE.replace(old, new)
    if "max: 45" in new:
        text = text.replace("max: 30\n", "max: 25\n")
    std, _ = parse_definition(text, f"{KEY}.yaml")
    assert std is not None and std.fingerprint() != BASE.fingerprint()


def override(ws, old: str, new: str) -> Path:
    folder = ws.root / "standards"
    folder.mkdir(exist_ok=True)
    path = folder / f"{KEY}.yaml"
    path.write_text(SOURCE.replace(old, new), encoding="utf-8")
    return path


def field_audit() -> Audit:
    audit = sample_audit(KEY, audit_id="HXC-2026-001")
    entries = Entries(scores={"1": Decimal(38), "2": Decimal("30.5"), "3": Decimal(35), "4": Decimal(28)})
    return Audit(audit.standard_key, audit.edition, audit.info, entries, {"1": "查阅制度文件", "3": "抽查 5 份记录"})


def test_a_wording_edit_keeps_workbooks_in_the_field_valid(tmp_path):
    ws = make_ws(tmp_path)
    sent = workbook(ws, "a.xlsx", field_audit())
    override(ws, "{zh: 定制服务的组织、制度、人员、资源与内部控制规范。}", "{zh: 定制服务的组织与制度。}")
    checked = api.validate_file(sent, workspace=ws)
    assert checked.ok, [p.format() for p in checked.problems]


def points_edit(ws) -> Path:
    """Indicator 1 gains 5 points from 4; indicator 3 becomes 5 (3 is gone)."""
    path = override(ws, "max: 40\n        requirement: {zh: 定制服务", "max: 45\n        requirement: {zh: 定制服务")
    text = path.read_text(encoding="utf-8").replace("max: 30\n", "max: 25\n").replace('code: "3"', 'code: "5"')
    path.write_text(text, encoding="utf-8")
    return path


def test_a_points_edit_rejects_and_migrate_carries_every_entry_that_fits(tmp_path, cli):
    ws = make_ws(tmp_path)
    sent = workbook(ws, "a.xlsx", field_audit())
    points_edit(ws)
    assert [p.key for p in api.validate_file(sent, workspace=ws).problems] == ["val.definition_changed"]

    done = api.migrate_workbook(sent, tmp_path / "new.xlsx", workspace=ws)
    left = {(x.code, x.message.key): x for x in done.carried.left}
    assert set(left) == {("4", "mig.above_max"), ("3", "mig.removed")}  # 28 > 25; 3's score and note
    assert left[("4", "mig.above_max")].format("zh").endswith("指标 4 的得分 28 超过新的最高值 25，未能转入")
    assert left[("4", "mig.above_max")].sheet and left[("4", "mig.above_max")].cell
    assert done.carried.new_codes == ["5"]
    checked = api.validate_file(done.path, workspace=ws)
    assert sorted((p.key, p.code) for p in checked.problems) == [("val.score_empty", "4"), ("val.score_empty", "5")]

    # scoring the two left open makes it a valid audit of the new definition, with every other entry kept
    filled = edit(done.path, tmp_path / "filled.xlsx", lambda wb: _score(wb, {"4": 20, "5": 30}))
    checked = api.validate_file(filled, workspace=ws)
    assert checked.ok, [p.format() for p in checked.problems]
    audit = checked.audit
    assert audit.info.audit_id == "HXC-2026-001" and audit.info.org_name == field_audit().info.org_name
    assert audit.info.audit_start == field_audit().info.audit_start
    assert audit.entries.scores == {"1": Decimal(38), "2": Decimal("30.5"), "4": Decimal(20), "5": Decimal(30)}
    assert audit.notes == {"1": "查阅制度文件"}

    code, out, _ = cli("-W", ws.root, "migrate", sent, "-o", tmp_path / "cli.xlsx")
    assert code == 1 and "未能转入" in out and "超过新的最高值 25" in out and "5" in out
    code, _, err = cli("-W", ws.root, "migrate", sent, "-o", tmp_path / "cli.xlsx")
    assert code == 2 and "已存在" in err


def _score(wb, scores: dict[str, object]) -> None:
    from pipeline.excel.names import score_name

    for code, value in scores.items():
        (sheet, ref), = list(wb.defined_names[score_name(code)].destinations)
        wb[sheet][ref.replace("$", "")].value = value


def test_migrate_of_a_current_workbook_loses_nothing(tmp_path, cli):
    ws = make_ws(tmp_path)
    sent = workbook(ws, "a.xlsx", field_audit())
    code, out, _ = cli("-W", ws.root, "--lang", "en", "migrate", sent, "--json")
    assert code == 0 and '"left": []' in out
    migrated = tmp_path / "ws" / "inbox" / "a-migrated.xlsx"
    before, after = (api.validate_file(path, workspace=ws).audit for path in (sent, migrated))
    assert after.entries == before.entries and after.notes == before.notes and after.info == before.info


def test_a_workbook_made_before_the_split_is_still_taken(tmp_path):
    """Workbooks in the field carry the old hash (points and texts, with the edition they were made
    for): info-system-integration's edition was corrected from an invented 2025 to none stated."""
    std = load_standard("info-system-integration")
    blank = build_workbook(std, info(), tmp_path / "blank.xlsx")

    def old_meta(fingerprint: str):
        def change(wb):
            for row in wb[META_SHEET].iter_rows():
                if row[0].value == "edition":
                    row[1].value = "2025"
                if row[0].value == "fingerprint":
                    row[1].value = fingerprint
        return change

    legacy = edit(blank, tmp_path / "legacy.xlsx", old_meta(std.legacy_fingerprint("2025")))
    keys = [p.key for p in api.validate_file(legacy).problems]
    assert "val.definition_changed" not in keys and "val.other_edition" not in keys
    other = edit(blank, tmp_path / "other.xlsx", old_meta("0123456789abcdef"))
    assert "val.other_edition" in [p.key for p in api.validate_file(other).problems]


def test_standards_check_warns_of_an_override_and_the_workbooks_it_affects(tmp_path, cli):
    ws = make_ws(tmp_path)
    workbook(ws, "a.xlsx", field_audit())
    workbook(ws, "b.xlsx", sample_audit(KEY, audit_id="HXC-2026-002"))
    override(ws, "{zh: 定制服务的组织、制度、人员、资源与内部控制规范。}", "{zh: 定制服务的组织与制度。}")
    code, out, _ = cli("-W", ws.root, "standards", "check")
    assert code == 0
    assert f"覆盖了内置标准「{KEY}」：已发出未交回的评分表 2 份，其中 0 份将" in out.replace("\n", "")
    points_edit(ws)
    code, out, _ = cli("-W", ws.root, "--lang", "en", "standards", "check")
    assert code == 0 and "2 workbooks are out and not yet returned, 2 of which" in out.replace("\n", " ")
    assert "certpipe migrate" in out
    found = api.standard_overrides(ws)
    assert [(o.key, o.outstanding, o.affected) for o in found] == [(KEY, 2, 2)]


def test_a_workbook_carried_to_a_new_edition_is_taken_and_its_audit_recorded_under_it(tmp_path, cli):
    """migrate --to a new edition's key: the run takes it under the same audit id, and the ledger's
    audit row follows it to the new standard and edition."""
    import sqlite3

    ws = make_ws(tmp_path)
    sent = workbook(ws, "a.xlsx", sample_audit(key=KEY, audit_id="HXC-2026-009", target="88"))
    newer = SOURCE.replace("key: qhxc013-2018", "key: qhxc013-2026").replace('edition: "2018"', 'edition: "2026"')
    (ws.root / "standards").mkdir()
    (ws.root / "standards" / "qhxc013-2026.yaml").write_text(newer, encoding="utf-8")
    code, out, err = cli("-W", ws.root, "migrate", sent, "-o", ws.inbox / "carried.xlsx", "--to", "qhxc013-2026")
    assert code == 0, out + err
    sent.unlink()  # the original goes back to the auditor; the carried copy is what is returned
    code, out, err = cli("-W", ws.root, "run")
    assert code == 0, out + err
    with sqlite3.connect(ws.ledger) as db:
        assert db.execute("SELECT standard, edition FROM audits WHERE audit_id = 'HXC-2026-009'").fetchone() == \
            ("qhxc013-2026", "2026")
