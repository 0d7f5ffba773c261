"""Reading an audit schedule as back offices keep them: a title above the header, columns named in
the user's own words in every message, and a credit code with a wrong check character caught per
row before any workbook goes out."""

from __future__ import annotations

import csv

import pytest
from openpyxl import Workbook

from pipeline.core.credit_code import check_character
from pipeline.errors import CertpipeError
from pipeline.excel.schedule import read_schedule
from pipeline.flow.standards import all_standards

GOOD = "91110000600037341L"
WRONG_CHECK = GOOD[:17] + ("A" if GOOD[17] != "A" else "B")


def _xlsx(path, rows):
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


def test_a_title_and_notes_above_the_header_are_passed_over(tmp_path):
    path = _xlsx(tmp_path / "plan.xlsx", [
        ["2026 年第二季度审核计划"],
        ["编制：认证部", None, "2026-03-01"],
        [],
        ["序号", "受审核组织", "认证标准", "开始日期", "结束日期"],
        [1, "甲公司", "gbt27922-2011", "2026-04-01", "2026-04-02"],
        [2, "乙公司", "qhxc002-2018", "2026-04-08", "2026-04-09"],
    ])
    rows = read_schedule(path, all_standards())
    assert [(r.row, r.info.org_name, r.standard.key) for r in rows] == [
        (5, "甲公司", "gbt27922-2011"), (6, "乙公司", "qhxc002-2018")]


def test_without_a_header_the_message_names_the_row_and_the_missing_column_in_words(tmp_path):
    path = _xlsx(tmp_path / "plan.xlsx", [["审核计划"], ["组织名称", "开始日期"], ["甲公司", "2026-04-01"]])
    with pytest.raises(CertpipeError) as caught:
        read_schedule(path, all_standards())
    said, en = caught.value.render("zh"), caught.value.render("en")
    assert "第 2 行缺少列 「标准」" in said and "standard" in en and "org_name" not in said + en
    assert "标题行" in caught.value.render_hint("zh")


def test_a_bad_date_is_named_by_the_column_as_written(tmp_path):
    path = tmp_path / "plan.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Client", "Standard", "Start", "审核结束"])
        writer.writerow(["Acme", "gbt27922-2011", "next week", "下周"])
    (row,) = read_schedule(path, all_standards())
    said = [p.render("en") for p in row.problems]
    assert said == ["Start 'next week' is not a date", "审核结束 '下周' is not a date"]
    assert "audit_start" not in " ".join(said)


@pytest.mark.parametrize("code, words", [
    (WRONG_CHECK, f"校验位不对（按 GB 32100 应为 {check_character(GOOD[:17])}）"),
    (GOOD[:16], "应为 18 位，现为 16 位"),
    (GOOD[:5] + "O" + GOOD[6:], "含有不允许的字符"),
])
def test_a_credit_code_that_cannot_be_right_is_reported_on_its_row(tmp_path, code, words):
    path = _xlsx(tmp_path / "plan.xlsx", [["组织名称", "标准", "信用代码"], ["甲公司", "gbt27922-2011", GOOD],
                                          ["乙公司", "gbt27922-2011", code]])
    good, bad = read_schedule(path, all_standards())
    assert good.info is not None and good.info.org_credit_code == GOOD and not good.problems
    assert bad.info is None and bad.row == 3
    (problem,) = bad.problems
    assert problem.render("zh").startswith(f"「信用代码」的「{code}」") and words in problem.render("zh")


def test_a_schedule_with_a_wrong_credit_code_makes_no_workbook_for_that_row(cli, tmp_path):
    path = _xlsx(tmp_path / "plan.xlsx", [["计划"], ["Organisation", "Standard", "Credit code"],
                                          ["Acme", "gbt27922-2011", WRONG_CHECK], ["Beta", "gbt27922-2011", GOOD]])
    code, out, _ = cli("new", "--schedule", path, "-o", tmp_path / "out")
    assert code == 1 and "第 3 行" in out and "Credit code" in out and "校验位不对" in out
    assert len(list((tmp_path / "out").glob("*.xlsx"))) == 1
