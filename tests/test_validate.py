"""One test per validation problem: the cell (sheet!cell and defined name), the indicator and the
message, in Chinese by default and in English on request."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from pipeline.core.credit_code import check_character, credit_code_problem
from pipeline.excel.build import build_workbook
from pipeline.excel.fill import fill_workbook
from pipeline.flow.check_file import validate_file
from pipeline.flow.standards import load_standard
from tests.helpers.workbooks import edit, full_scores, info

GBT = load_standard("gbt27922-2011")
SHEET = "售后服务评价"


@pytest.fixture(scope="module")
def blank(tmp_path_factory):
    return build_workbook(GBT, info(), tmp_path_factory.mktemp("blank") / "gbt.xlsx")


@pytest.fixture
def check(blank, tmp_path):
    """Fill the GB/T workbook completely and validly, apply ``changes``, validate."""

    def run(changes: dict):
        dest = tmp_path / "filled.xlsx"
        fill_workbook(blank, dest, {**full_scores(GBT), **changes})
        return validate_file(dest)

    return run


def one(checked, key):
    found = [p for p in checked.problems if p.key == f"val.{key}"]
    assert len(found) == 1, [str(p) for p in checked.problems]
    return found[0]


def test_complete_workbook_is_valid(check):
    checked = check({})
    assert checked.problems == [] and checked.audit.entries.scores["A.1"] == D(5)


@pytest.mark.parametrize(("text", "value"), [("4", "4"), ("４", "4"), (" 4.5 ", "4.5"), ("４.５", "4.5")])
def test_text_that_clearly_is_a_number_is_accepted(check, text, value):
    checked = check({"score_A_1": text})
    assert checked.problems == []
    assert checked.audit.entries.scores["A.1"] == D(value)


@pytest.mark.parametrize("text", ["4分", "四", "4,5", "about 4"])
def test_text_that_is_not_plainly_a_number_is_a_problem_not_a_guess(check, text):
    problem = one(check({"score_A_1": text}), "not_number")
    assert (problem.sheet, problem.cell, problem.name, problem.code) == (SHEET, "E5", "score_A_1", "A.1")
    assert problem.text() == f"指标 A.1 的得分「{text}」不是数字"
    assert str(problem) == f"{SHEET}!E5: 指标 A.1 的得分「{text}」不是数字"
    assert "不要带「分」" in problem.hint()


def test_score_empty(check):
    problem = one(check({"score_A_2": None}), "score_empty")
    assert (problem.cell, problem.code, problem.text()) == ("E6", "A.2", "指标 A.2 未评分")


def test_score_negative(check):
    problem = one(check({"score_A_3": -1}), "negative")
    assert (problem.cell, problem.text()) == ("E7", "指标 A.3 的得分 -1 为负数")


def test_score_above_maximum(check):
    problem = one(check({"score_B_4": D("10.5")}), "above_max")
    assert (problem.cell, problem.text()) == ("E16", "指标 B.4 的得分 10.5 超过分值 10")


def test_score_off_step(check):
    problem = one(check({"score_B_4": D("7.25")}), "off_step")
    assert (problem.cell, problem.text()) == ("E16", "指标 B.4 的得分 7.25 不符合精度 0.5")


def test_score_formula_is_not_trusted(blank, tmp_path):
    dest = tmp_path / "f.xlsx"
    fill_workbook(blank, dest, full_scores(GBT))
    edit(dest, dest, lambda wb: setattr(wb[SHEET]["E20"], "value", "=5+5"))
    problem = one(validate_file(dest), "score_formula")
    assert (problem.cell, problem.code) == ("E20", "C.1")


def test_text_starting_with_equals_filled_by_name_is_text_not_a_formula(check):
    checked = check({"org_name": "=1+1 公司"})
    assert checked.problems == [] and checked.audit.info.org_name == "=1+1 公司"


def test_percent_above_100(tmp_path):
    std = load_standard("info-system-integration")
    blank = build_workbook(std, info(), tmp_path / "isi.xlsx")
    fill_workbook(blank, tmp_path / "f.xlsx", {**full_scores(std), "score_5_1_1": 101})
    problem = one(validate_file(tmp_path / "f.xlsx"), "above_max_percent")
    assert (problem.sheet, problem.cell, problem.code) == ("服务特性要求", "E5", "5.1.1")
    assert problem.text() == "指标 5.1.1 的得分比例 101% 超过 100%"


def test_not_applicable_where_not_allowed(check):
    problem = one(check({"score_A_1": "不适用"}), "na_not_allowed")
    assert (problem.cell, problem.text()) == ("E5", "指标 A.1 不允许标为不适用")


def test_not_applicable_typed_in_the_score_cell_points_at_the_na_column(check):
    problem = one(check({"score_B_3": "N/A"}), "na_in_score")
    assert problem.cell == "E15" and "不适用」列" in problem.hint()


def test_not_applicable_and_a_score(check):
    problem = one(check({"na_B_3": "不适用", "score_B_3": 5}), "na_and_score")
    assert (problem.cell, problem.text()) == ("E15", "指标 B.3 已标为不适用，但仍填了得分「5」")


def test_not_applicable_accepted(check):
    checked = check({"na_B_3": "不适用", "score_B_3": None})
    assert checked.problems == [] and checked.audit.entries.not_applicable == frozenset({"B.3"})


def test_not_applicable_mark_not_understood(check):
    problem = one(check({"na_B_3": "也许"}), "na_bad_mark")
    assert (problem.cell, problem.name) == ("F15", "na_B_3")


def test_not_applicable_in_the_column_of_an_indicator_that_does_not_allow_it(blank, tmp_path):
    dest = tmp_path / "f.xlsx"
    fill_workbook(blank, dest, full_scores(GBT))
    edit(dest, dest, lambda wb: wb[SHEET].__setitem__("F5", "不适用"))  # someone unprotected the sheet
    problem = one(validate_file(dest), "na_not_allowed")
    assert (problem.cell, problem.code) == ("F5", "A.1")


@pytest.mark.parametrize(("name", "value"), [("special_deductions", -1), ("special_bonus", 2),
                                             ("special_bonus", D("0.5")), ("special_deductions", "两")])
def test_special_deductions_and_bonus_out_of_range(check, name, value):
    problem = one(check({name: value}), "special_range")
    assert problem.name == name and problem.sheet == "封面"
    assert problem.text().startswith("「专项扣分」" if name == "special_deductions" else "「专项加分」")


def test_required_cover_field_empty(check):
    problem = one(check({"lead_auditor": None}), "cover_required")
    assert (problem.sheet, problem.cell, problem.name) == ("封面", "B12", "lead_auditor")
    assert problem.text() == "必填项「审核组长」为空"


def test_date_not_a_date(check):
    problem = one(check({"audit_start": "下周一"}), "not_date")
    assert (problem.cell, problem.text()) == ("B10", "「审核开始日期」的内容「下周一」不是日期")


def test_date_as_text_is_read(check):
    checked = check({"audit_start": "2025年3月18日", "audit_end": "2025/3/19"})
    assert checked.problems == [] and checked.audit.info.audit_end.isoformat() == "2025-03-19"


def test_end_before_start(check):
    problem = one(check({"audit_end": "2025-03-01"}), "end_before_start")
    assert (problem.cell, problem.text()) == ("B11", "审核结束日期 2025-03-01 早于开始日期 2025-03-18")


@pytest.mark.parametrize(("code", "key"), [("91350100M000100Y44", "credit_check"),
                                           ("91350100M000100Y4", "credit_length"),
                                           ("91350100M000100O43", "credit_chars")])
def test_credit_code(check, code, key):
    problem = one(check({"org_credit_code": code}), key)
    assert (problem.cell, problem.name) == ("B7", "org_credit_code")
    if key == "credit_check":
        assert "第 18 位应为「3」" in problem.hint()


def test_credit_code_check_character_gb32100():
    assert credit_code_problem("91350100M000100Y43") is None
    assert credit_code_problem("91110000600037341L") is None
    assert check_character("91350100M000100Y4") == "3"


def test_meta_missing(blank, tmp_path):
    edited = edit(blank, tmp_path / "m.xlsx", lambda wb: wb.remove(wb["_meta"]))
    (problem,) = validate_file(edited).problems
    assert problem.key == "val.meta_missing" and problem.cell is None and "certpipe new" in problem.hint()


@pytest.mark.parametrize(("row", "value", "key"), [(2, "no-such-standard", "unknown_standard"),
                                                   (3, "2010", "other_edition"),
                                                   (4, "0000000000000000", "definition_changed")])
def test_meta_identity(blank, tmp_path, row, value, key):
    edited = edit(blank, tmp_path / "m.xlsx", lambda wb: wb["_meta"].cell(row, 2, value))
    (problem,) = validate_file(edited).problems
    assert problem.key == f"val.{key}"
    if key == "other_edition":
        assert problem.text() == "评分表按标准 gbt27922-2011 的 2010 版生成，当前定义为 2011 版"


def test_indicator_row_missing(blank, tmp_path):
    dest = tmp_path / "f.xlsx"
    fill_workbook(blank, dest, full_scores(GBT))
    edit(dest, dest, lambda wb: setattr(wb[SHEET]["A9"], "value", None))  # A.5's code erased
    checked = validate_file(dest)
    problem = one(checked, "indicator_missing")
    assert problem.code == "A.5" and "A.5" in problem.text() and "监督" in problem.text()


def test_indicator_duplicated(blank, tmp_path):
    dest = tmp_path / "f.xlsx"
    fill_workbook(blank, dest, full_scores(GBT))
    edit(dest, dest, lambda wb: wb[SHEET].cell(6, 1, "A.1"))  # A.2's row now says A.1
    checked = validate_file(dest)
    problem = one(checked, "indicator_duplicated")
    assert (problem.cell, problem.code) == ("A6", "A.1") and f"{SHEET}!A5" in problem.text()
    assert one(checked, "indicator_missing").code == "A.2"


def test_maximum_edited(blank, tmp_path):
    dest = tmp_path / "f.xlsx"
    fill_workbook(blank, dest, full_scores(GBT))
    edit(dest, dest, lambda wb: wb[SHEET].cell(16, 4, 20))  # B.4: 10 → 20
    problem = one(validate_file(dest), "max_edited")
    assert (problem.cell, problem.text()) == ("D16", "指标 B.4 的分值被改为 20，应为 10")


def test_every_problem_at_once_and_in_english(check):
    checked = check({"score_A_1": "4分", "score_A_2": None, "score_B_4": 11, "lead_auditor": None,
                     "special_bonus": 3})
    assert len(checked.problems) == 5 and checked.audit is None
    messages = {p.key: p.text("en") for p in checked.problems}
    assert messages["val.not_number"] == "the score of A.1, '4分', is not a number"
    assert messages["val.above_max"] == "the score of B.4, 11, is above its maximum 10"
    assert all(p.hint("en") for p in checked.problems)
