"""``templates check`` names a problem inside a table by its table, row and column (a clerk cannot
count paragraphs through a table), and says a tag's syntax error in certpipe's words, not Jinja's."""

from __future__ import annotations

import pytest
from docx import Document

from pipeline import check_template
from pipeline.word.template_check import cells_of


def _template(path, cells: dict[tuple[int, int, int], str], body: str = "审核报告") -> None:
    doc = Document()
    doc.add_paragraph(body)
    for number in (1, 2):
        doc.add_paragraph(f"表 {number}")
        table = doc.add_table(rows=3, cols=3)
        for (t, row, column), text in cells.items():
            if t == number:
                table.cell(row - 1, column - 1).text = text
    doc.add_paragraph("结束")
    doc.save(path)


def test_an_unknown_variable_in_a_table_is_named_by_table_row_and_column(tmp_path):
    path = tmp_path / "table.docx"
    _template(path, {(1, 1, 1): "组织", (2, 3, 2): "{{ org_contact }}"})
    (problem,) = check_template(path)
    assert problem.cell == (2, 3, 2)
    assert problem.format() == ("table.docx（正文，第 2 个表格第 3 行第 2 列「{{ org_contact }}」）："
                                "未知变量「org_contact」：报告不提供此变量")
    assert "(body, table 2, row 3, column 2" in problem.format("en")


def test_a_field_typo_found_by_the_trial_render_is_named_by_its_cell_too(tmp_path):
    path = tmp_path / "typo.docx"
    _template(path, {(1, 2, 3): "{{ org.nmae }}"})
    (problem,) = check_template(path)
    assert problem.cell == (1, 2, 3) and "第 1 个表格第 2 行第 3 列" in problem.format()


def test_outside_a_table_it_is_still_the_paragraph(tmp_path):
    path = tmp_path / "body.docx"
    _template(path, {}, body="{{ org_contact }}")
    (problem,) = check_template(path)
    assert problem.cell is None and "（正文，第 1 段「{{ org_contact }}」）" in problem.format()


@pytest.mark.parametrize("tag, words", [
    ("{% for row in parts %}{{ row.title }}", "{% for %} 没有对应的结束标签：在它要包住的内容之后加上 {% endfor %}"),
    ("{% endif %}", "{% endif %} 前面没有与它对应的开始标签"),
    ("{% shout %}", "未知的标签「shout」"),
    ("{{ }}", "标签里缺少变量或表达式"),
    ("{{ 'a }}", "引号不成对"),
    ("{{ a b }}", "检查 {{ }} 与 {% %} 是否成对"),
])
def test_tag_syntax_errors_are_said_in_certpipes_words(tmp_path, tag, words):
    path = tmp_path / "syntax.docx"
    _template(path, {(1, 2, 2): tag})
    (problem,) = check_template(path)
    said = problem.format()
    assert words in said and "标签语法错误" in said
    both = said + problem.format("en")
    assert not any(jinja in both for jinja in ("Jinja", "unexpected", "Encountered", "expected token"))


def test_cells_are_counted_in_nested_tables():
    xml = ("<?xml version='1.0'?>\n<w:document><w:body><w:p>a</w:p><w:tbl><w:tr><w:tc><w:p>b</w:p>"
           "<w:tbl><w:tr><w:tc><w:p>c</w:p></w:tc><w:tc><w:p>d</w:p></w:tc></w:tr></w:tbl><w:p>e</w:p></w:tc></w:tr></w:tbl><w:p>f</w:p></w:body></w:document>")
    assert cells_of(xml) == {2: (1, 1, 1), 3: (2, 1, 1), 4: (2, 1, 2), 5: (1, 1, 1)}
