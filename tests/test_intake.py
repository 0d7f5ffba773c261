"""Reading filled workbooks: round trips for every built-in standard (generate → fill through the
defined names → validate → score equals the hand value), the LibreOffice-saved fixtures, files that
are no readable workbook, the size limits, and the fall-back to the code column."""

from __future__ import annotations

import zipfile
from datetime import date
from decimal import Decimal as D

import pytest

from pipeline.core.scoring import score
from pipeline.excel.build import build_workbook
from pipeline.excel.fill import fill_workbook
from pipeline.excel.intake import read_workbook
from pipeline.flow.check_file import validate_file
from pipeline.flow.standards import load_standard
from tests.helpers.workbooks import WORKBOOKS, edit, info

# Hand-computed: the entries and the expected total and level of each standard.
ROUND_TRIPS = {
    # A: 7×4 = 28; B: 5+6+8+7.5+4.5 = 31 (B.3 not applicable, 7 points out); C: 8+9.5 = 17.5.
    # 76.5 of 93 applicable → 76.5/93×100 = 82.258… → 82.26; +1 bonus → 83.26 → 三星.
    "gbt27922-2011": ({**{f"score_A_{i}": 4 for i in range(1, 8)}, "score_B_1": 5, "score_B_2": 6,
                       "na_B_3": "不适用", "score_B_4": 8, "score_B_5": D("7.5"), "score_B_6": D("4.5"),
                       "score_C_1": 8, "score_C_2": D("9.5"), "special_bonus": 1},
                      D("83.26"), "three-star"),
    # Part A every indicator 100 % → 100; part B every leaf 80 % → 80. 180 → 二级.
    "info-system-integration": (None, D(180), "grade2"),
    # 27 + 18.5 + 20 + 25.5 + 16 + 22 = 129 → 三星 (≥120).
    "qhxc002-2018": ({"score_1": 27, "score_2": D("18.5"), "score_3": 20, "score_4": D("25.5"), "score_5": 16,
                      "score_6": 22}, D(129), "three-star"),
    # 38 + 36.5 + 30 + 27 = 131.5 → 三星.
    "qhxc013-2018": ({"score_1": 38, "score_2": D("36.5"), "score_3": 30, "score_4": 27}, D("131.5"), "three-star"),
}


@pytest.mark.parametrize("key", sorted(ROUND_TRIPS))
def test_round_trip_generate_fill_validate_score(tmp_path, key):
    std = load_standard(key)
    values, total, level = ROUND_TRIPS[key]
    if values is None:
        values = {f"score_{leaf.code.replace('.', '_')}": 100 if leaf.code.startswith("4.") else 80
                  for leaf in std.leaves}
    blank = build_workbook(std, info(), tmp_path / "blank.xlsx")
    filled = tmp_path / "filled.xlsx"
    fill_workbook(blank, filled, {**values, "note_" + std.leaves[0].code.replace(".", "_"): "证据 R&D <北京>"})
    checked = validate_file(filled)
    assert checked.problems == []
    card = score(std, checked.audit.entries)
    assert card.total == total and card.level.key == level
    assert checked.audit.info == info()
    assert checked.audit.notes[std.leaves[0].code] == "证据 R&D <北京>"


def test_libreoffice_filled_workbook_reads_and_scores_by_hand():
    # Filled in LibreOffice (make_fixtures.py): "５" and "9.5" typed as text, B.3 not applicable.
    # A: 5+4.5+4+5+3.5+4+5 = 31; B: 6+7+8.5+8+5 = 34.5; C: 9+9.5 = 18.5 → 84 of 93 → 90.32;
    # −1 deduction +1 bonus → 90.32 → 四星.
    checked = validate_file(WORKBOOKS / "lo-filled-gbt27922.xlsx")
    assert checked.problems == []
    audit = checked.audit
    assert audit.entries.scores["A.7"] == D(5) and audit.entries.scores["C.2"] == D("9.5")
    assert audit.entries.not_applicable == frozenset({"B.3"})
    assert (audit.entries.deductions, audit.entries.bonus) == (1, 1)
    assert audit.info.audit_start == date(2025, 3, 18) and audit.info.auditors == "李强、Zhang Wei"
    assert audit.notes["A.1"] == "查阅《售后服务管理手册》V3.2 及组织架构图"
    card = score(checked.standard, audit.entries)
    assert card.total == D("90.32") and card.level.key == "four-star"


def test_libreoffice_resaved_workbook_reads_names_without_sheet_quotes():
    path = WORKBOOKS / "lo-resaved-isi.xlsx"
    with zipfile.ZipFile(path) as zf:
        book = zf.read("xl/workbook.xml").decode()
    assert ">服务管理要求!$E$4<" in book  # LibreOffice dropped the quotes
    checked = validate_file(path)
    assert checked.problems == []
    card = score(checked.standard, checked.audit.entries)
    assert card.total == D("171.5") and card.level.key == "grade3"
    assert [p.score for p in card.parts] == [D("91.5"), D(80)]


def test_cached_formula_values_are_never_read_as_entries():
    filled = read_workbook(WORKBOOKS / "lo-problems-qhxc002.xlsx")
    cell = filled.cell("score_3")
    assert cell.formula and cell.value == 20  # LibreOffice cached 20; it is reported, not taken
    checked = validate_file(WORKBOOKS / "lo-problems-qhxc002.xlsx")
    assert any(p.key == "val.score_formula" and p.cell == "E6" for p in checked.problems)


@pytest.mark.parametrize(("name", "key"), [("lo-old.xls", "intake.xls"), ("lo-encrypted.xlsx", "intake.encrypted")])
def test_real_old_and_encrypted_files_are_explained(name, key):
    checked = validate_file(WORKBOOKS / name)
    (problem,) = checked.problems
    assert problem.key == key and problem.cell is None and checked.audit is None
    if key == "intake.xls":
        assert "另存为" in problem.hint() and ".xlsx" in problem.hint()


def test_unreadable_files_are_problems_without_a_cell(tmp_path):
    good = build_workbook(load_standard("qhxc013-2018"), info(), tmp_path / "good.xlsx")
    data = good.read_bytes()
    cases = {
        "half.xlsx": (data[: len(data) // 2], "intake.truncated"),
        "text.xlsx": ("这不是表格".encode(), "intake.not_workbook"),
        "empty.xlsx": (b"", "intake.empty"),
    }
    for name, (content, key) in cases.items():
        (tmp_path / name).write_bytes(content)
        checked = validate_file(tmp_path / name)
        assert [p.key for p in checked.problems] == [key], name
        assert checked.problems[0].sheet is None and str(checked.problems[0]) == checked.problems[0].text()
    checked = validate_file(tmp_path / "missing.xlsx")  # said in the user's words, not the system's English
    assert checked.problems[0].key == "intake.missing" and checked.problems[0].text() == "文件不存在"
    assert "No such file" not in checked.problems[0].text("en")
    en = validate_file(tmp_path / "half.xlsx")
    assert en.problems[0].text("en") == "the file is incomplete (half-written or damaged)"


def test_size_limits_refuse_before_inflating(tmp_path):
    good = build_workbook(load_standard("qhxc013-2018"), info(), tmp_path / "good.xlsx")
    assert validate_file(good, max_file_mb=0.001).problems[0].key == "intake.too_large"
    # a zip bomb-like member: small on disk, large once inflated
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("xl/media/huge.bin", b"\0" * (3 * 1024 * 1024))
    assert bomb.stat().st_size < 100_000
    problem = validate_file(bomb, max_member_mb=2).problems[0]
    assert problem.key == "intake.member_too_large" and "xl/media/huge.bin" in problem.text()
    assert validate_file(bomb, max_member_mb=4).problems[0].key != "intake.member_too_large"


def test_lost_defined_name_falls_back_to_the_code_column(tmp_path):
    std = load_standard("qhxc002-2018")
    blank = build_workbook(std, info(), tmp_path / "blank.xlsx")
    filled = tmp_path / "filled.xlsx"
    fill_workbook(blank, filled, {"score_1": 27, "score_2": 18, "score_3": 20, "score_4": 25, "score_5": 16,
                                  "score_6": 22})

    def drop_names(wb):
        del wb.defined_names["score_2"]
        del wb.defined_names["note_2"]

    edited = edit(filled, tmp_path / "edited.xlsx", drop_names)
    read = read_workbook(edited)
    assert "score_2" not in read.lost_names and read.cell("score_2").fallback
    assert read.cell("score_2").value == 18 and read.cell("score_2").ref == "E5"
    checked = validate_file(edited)
    assert checked.problems == [] and checked.audit.entries.scores["2"] == D(18)
