"""Editions side by side: a new edition is a definition of its own key beside the old one; workbooks
keep the edition they were made for; `certpipe standards diff A B` lists what changed."""

from __future__ import annotations

import json

from pipeline import api
from pipeline.core.definition import parse_definition
from pipeline.core.standard_diff import diff
from pipeline.flow.standards import definition_paths, load_standard
from tests.helpers.workbooks import info
from tests.helpers.workspace import make_ws

OLD = "gbt27922-2011"
SOURCE = definition_paths()[OLD].read_text(encoding="utf-8")


def new_edition() -> str:
    text = SOURCE.replace(f"key: {OLD}", "key: gbt27922-2025").replace('edition: "2011"', 'edition: "2025"')
    text = text.replace("code: GB/T 27922-2011", "code: GB/T 27922-2025").replace("min: 95,", "min: 96,")
    text = text.replace("{zh: 建立投诉受理和处理机制", "{zh: 建立投诉受理、处理与回访机制")
    a7 = SOURCE[SOURCE.index("          - code: A.7\n"):SOURCE.index("      - code: B\n")]
    text = text.replace(a7, "")
    return text.replace("        max: 35\n        children:", "        max: 30\n        children:").replace(
        "      - code: C\n        title: {zh: 顾客服务, en: Customer service}\n        max: 20\n        children:\n"
        "          - code: C.1\n            title: {zh: 顾客关系, en: Customer relations}\n            max: 10",
        "      - code: C\n        title: {zh: 顾客服务, en: Customer service}\n        max: 25\n        children:\n"
        "          - code: C.1\n            title: {zh: 顾客关系, en: Customer relations}\n            max: 15")


def test_diff_lists_indicators_points_levels_and_text():
    new, problems = parse_definition(new_edition(), "gbt27922-2025.yaml")
    assert problems == [], [p.format() for p in problems]
    changes = {(c.area, c.where, c.field, c.kind): c for c in diff(load_standard(OLD), new)}
    assert changes[("indicator", "A.7", "", "removed")].scoring
    assert changes[("indicator", "A", "max", "changed")].new == "30"
    assert changes[("indicator", "C.1", "max", "changed")].old == "10"
    assert changes[("level", "five-star", "min", "changed")].new == "96"
    wording = changes[("indicator", "C.2", "requirement", "changed")]
    assert not wording.scoring and "回访" in wording.new
    assert changes[("standard", "", "edition", "changed")].old == "2011"
    assert diff(load_standard(OLD), load_standard(OLD)) == []


def test_editions_coexist_and_workbooks_keep_theirs(tmp_path, cli):
    ws = make_ws(tmp_path)
    (ws.root / "standards").mkdir()
    (ws.root / "standards" / "gbt27922-2025.yaml").write_text(new_edition(), encoding="utf-8")
    keys = [s.key for s in api.list_standards(ws)]
    assert OLD in keys and "gbt27922-2025" in keys
    old_book = api.build_workbook(load_standard(OLD), info("OLD-1"), tmp_path / "old.xlsx")
    new_book = api.build_workbook(load_standard("gbt27922-2025", ws.root), info("NEW-1"), tmp_path / "new.xlsx")
    old_checked, new_checked = (api.validate_file(p, workspace=ws) for p in (old_book, new_book))
    assert old_checked.standard.key == OLD and old_checked.standard.edition == "2011"
    assert new_checked.standard.key == "gbt27922-2025" and new_checked.standard.edition == "2025"
    assert "val.definition_changed" not in {p.key for p in old_checked.problems + new_checked.problems}

    code, out, _ = cli("-W", ws.root, "standards", "diff", OLD, "gbt27922-2025")
    assert code == 0 and "GB/T 27922-2011 (2011)" in out and "A.7" in out and "影响计分" in out
    code, out, _ = cli("-W", ws.root, "standards", "diff", OLD, ws.root / "standards" / "gbt27922-2025.yaml", "--json")
    data = json.loads(out)
    assert data["workbooks_carry_over"] is False and data["b_edition"] == "2025"
    assert any(c["where"] == "A.7" and c["kind"] == "removed" and c["scoring"] for c in data["changes"])
    code, out, _ = cli("--lang", "en", "standards", "diff", OLD, OLD)
    assert code == 0 and "do not differ" in out


def test_a_text_only_change_is_said_to_carry_over(tmp_path, cli):
    path = tmp_path / f"{OLD}.yaml"
    path.write_text(SOURCE.replace("{zh: 建立投诉受理和处理机制", "{zh: 建立投诉受理与处理机制"), encoding="utf-8")
    code, out, _ = cli("standards", "diff", OLD, path)
    assert code == 0 and "都只是文字" in out.replace("\n", "")


def test_a_workbook_of_the_old_edition_is_carried_into_the_new_one(tmp_path, cli):
    ws = make_ws(tmp_path)
    (ws.root / "standards").mkdir()
    (ws.root / "standards" / "gbt27922-2025.yaml").write_text(new_edition(), encoding="utf-8")
    from tests.helpers.workspace import sample_audit, workbook

    sent = workbook(ws, "old.xlsx", sample_audit(OLD, audit_id="GBT-2026-001"))
    done = api.migrate_workbook(sent, tmp_path / "new.xlsx", to="gbt27922-2025", workspace=ws)
    assert done.standard == "gbt27922-2025"
    assert ("A.7", "mig.removed") in {(x.code, x.message.key) for x in done.carried.left}
    checked = api.validate_file(done.path, workspace=ws)
    assert checked.standard.edition == "2025"
    assert {p.code for p in checked.problems} <= {"A.1", "A.2", "A.3", "A.4", "A.5", "A.6", "C.1"}
    code, out, _ = cli("-W", ws.root, "migrate", sent, "--to", "gbt27922-2025", "-o", tmp_path / "cli.xlsx")
    assert code == 1 and "A.7" in out
