"""The marked copy returned to an auditor: problem cells filled and commented, a problems sheet with
links, the auditor's entries untouched — opened and checked with openpyxl."""

from __future__ import annotations

import shutil

import pytest
from openpyxl import load_workbook

from pipeline.errors import WorkbookError
from pipeline.excel.annotate import annotate, problems_text
from pipeline.excel.style import INPUT_FILL, PROBLEM_FILL
from pipeline.flow.check_file import validate_file
from tests.helpers.workbooks import WORKBOOKS

SRC = WORKBOOKS / "lo-problems-qhxc002.xlsx"
SHEET = "系统集成服务评价"


def _values(wb):
    return {(ws.title, c.coordinate): c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if c.value is not None}


@pytest.fixture
def marked(tmp_path):
    checked = validate_file(SRC)
    dest = annotate(SRC, checked.problems, tmp_path / "marked.xlsx")
    return checked, dest


def test_problem_cells_are_filled_and_commented(marked):
    checked, dest = marked
    wb = load_workbook(dest)
    for problem in checked.problems:
        cell = wb[problem.sheet][problem.cell]
        assert cell.fill.fgColor.rgb[-6:] == PROBLEM_FILL.fgColor.rgb[-6:], str(problem)
        assert problem.text() in cell.comment.text and problem.hint() in cell.comment.text
        assert cell.comment.author == "certpipe"
    assert wb[SHEET]["E4"].comment.text.startswith("• 指标 1 的得分「8分」不是数字")
    assert wb[SHEET]["E9"].comment is None  # indicator 6 was fine


def test_problems_sheet_lists_all_with_links(marked):
    checked, dest = marked
    wb = load_workbook(dest)
    assert wb.sheetnames[0] == "certpipe 问题清单" and wb.active.title == "certpipe 问题清单"
    ws = wb["certpipe 问题清单"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=4) if row[0].value is not None]
    assert len(rows) == len(checked.problems) == 8
    assert [r[1] for r in rows] == [f"{p.sheet}!{p.cell}" for p in checked.problems]
    assert [r[4] for r in rows] == [p.text() for p in checked.problems]
    link = ws["B4"].hyperlink
    first = checked.problems[0]
    assert link.location == f"'{first.sheet}'!{first.cell}"


def test_entries_untouched_and_file_still_reads_the_same(marked):
    checked, dest = marked
    before, after = _values(load_workbook(SRC)), _values(load_workbook(dest))
    assert {k: v for k, v in after.items() if not k[0].startswith("certpipe")} == before
    again = validate_file(dest)
    assert [str(p) for p in again.problems] == [str(p) for p in checked.problems]


def test_reannotating_a_resubmitted_copy_clears_old_marks(marked, tmp_path):
    _checked, dest = marked
    wb = load_workbook(dest)
    wb[SHEET]["E4"].value = 8  # the auditor corrects one problem and resubmits the marked copy
    wb.save(tmp_path / "resubmitted.xlsx")
    again = validate_file(tmp_path / "resubmitted.xlsx")
    assert len(again.problems) == 7
    wb = load_workbook(annotate(tmp_path / "resubmitted.xlsx", again.problems, tmp_path / "marked2.xlsx"))
    assert wb.sheetnames.count("certpipe 问题清单") == 1
    assert wb[SHEET]["E4"].comment is None
    assert wb[SHEET]["E4"].fill.fgColor.rgb[-6:] == INPUT_FILL.fgColor.rgb[-6:]


def test_english_and_text_version(tmp_path):
    checked = validate_file(SRC)
    wb = load_workbook(annotate(SRC, checked.problems, tmp_path / "en.xlsx", lang="en"))
    assert wb.sheetnames[0] == "certpipe problems"
    text = problems_text(checked.problems, "en")
    assert text.startswith("8 problems in the workbook:")
    assert f"1. {checked.problems[0].format('en')}" in text


def test_unreadable_source_raises_workbook_error(tmp_path):
    shutil.copy(WORKBOOKS / "lo-old.xls", tmp_path / "old.xlsx")
    checked = validate_file(tmp_path / "old.xlsx")
    with pytest.raises(WorkbookError):
        annotate(tmp_path / "old.xlsx", checked.problems, tmp_path / "marked.xlsx")
