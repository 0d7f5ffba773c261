"""``certpipe templates check``: built-in templates pass, broken ones are caught in plain words."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline import check_template
from pipeline.cli.app import app
from pipeline.resources import builtin_dir
from pipeline.word.template_check import default_templates

FIXTURES = Path(__file__).parent / "fixtures" / "templates"


def run(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("name", ["report.zh.docx", "report.en.docx", "certificate.zh.docx", "certificate.en.docx"])
def test_builtin_templates_have_no_problems(name):
    assert check_template(builtin_dir("templates") / name) == []


@pytest.mark.parametrize(("fixture", "paragraph", "words"), [
    # paragraphs as Word counts them (the XML declaration's line is not one)
    ("missing_variable.docx", 3, "未知变量「org_contact」"),
    ("split_tag.docx", 2, "标签「{{ org.name }}」被 Word 拆分到 2 个文字片段中"),
    ("unknown_filter.docx", 2, "未知过滤器「shout」"),
    ("field_typo.docx", 2, "没有名为「nmae」的字段"),
    ("unclosed_block.docx", None, "标签语法错误"),
])
def test_broken_templates_are_caught_with_template_and_paragraph(fixture, paragraph, words):
    problems = check_template(FIXTURES / fixture)
    assert len(problems) == 1
    problem = problems[0]
    assert problem.template == fixture and problem.part == "document"
    assert words in problem.message_text()
    if paragraph is not None:
        assert problem.paragraph == paragraph
        assert f"第 {paragraph} 段" in problem.format()


def test_english_messages():
    (problem,) = check_template(FIXTURES / "split_tag.docx", "en")
    assert "split by Word across 2 runs" in problem.format("en") and "paragraph 2" in problem.format("en")


def test_cli_exit_codes_and_output(tmp_path):
    ok = run("templates", "check", str(builtin_dir("templates") / "report.zh.docx"))
    assert ok.exit_code == 0 and "没有问题" in ok.output
    bad = run("templates", "check", str(FIXTURES / "missing_variable.docx"), str(FIXTURES / "split_tag.docx"))
    assert bad.exit_code == 1
    assert "missing_variable.docx" in bad.output and "org_contact" in bad.output
    assert "split_tag.docx" in bad.output and "拆分" in bad.output


def test_default_set_is_builtins_plus_workspace_overrides(tmp_path):
    (tmp_path / "templates" / "qhxc013-2018").mkdir(parents=True)
    shutil.copy(FIXTURES / "unknown_filter.docx", tmp_path / "templates" / "qhxc013-2018" / "report.zh.docx")
    found = dict(default_templates(tmp_path))
    assert found[tmp_path / "templates" / "qhxc013-2018" / "report.zh.docx"] == "qhxc013-2018"
    assert builtin_dir("templates") / "certificate.zh.docx" in found
    result = run("--workspace", str(tmp_path), "templates", "check")
    assert result.exit_code == 1 and "shout" in result.output
