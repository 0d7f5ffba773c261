"""Every definition problem in plain words, with its file, line and a fix: no YAML-parser or pydantic
text reaches a person (issue: `min: 七十` showed "Input should be a valid decimal", a bad indentation
"expected <block end>, but found '<block mapping start>'")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.core.definition import parse_definition
from pipeline.flow.standards import check_file
from tests.helpers.paths import FIXTURES

BASE = (FIXTURES / "standards" / "base.yaml").read_text(encoding="utf-8")

# what parser and library text looks like: none of it may appear in a message or a hint
LIBRARY_WORDS = re.compile(r"Input should|should be|<block|<scalar>|expected <|found character|while parsing|"
                           r"while scanning|pydantic|Decimal|ValidationError|String should|Tuple|errno|Errno")


def problems_of(old: str, new: str) -> list:
    assert old in BASE, old
    return parse_definition(BASE.replace(old, new, 1), "base.yaml")[1]


def assert_plain(problem) -> None:
    for lang in ("zh", "en"):
        said = problem.format(lang)
        assert not LIBRARY_WORDS.search(said), said
        assert problem.hint(lang), f"no fix offered: {said}"
    assert problem.format("zh") != problem.format("en")


def test_a_number_in_chinese_words_says_what_where_and_how_to_fix():
    (problem,) = problems_of("min: 70}", "min: 七十}")
    assert problem.line == 11 and problem.path == "levels[0].min"
    assert "「min」应为数字，现为「七十」" in problem.text("zh")
    assert "阿拉伯数字" in problem.hint("zh") and "digits" in problem.hint("en")
    assert problem.format("zh").startswith("base.yaml:11: levels[0].min: ")
    assert_plain(problem)


def test_bad_indentation_is_named_as_such_with_its_line():
    (problem,) = problems_of("        max: 40\n", "       max: 40\n")
    assert problem.line == 26
    assert "缩进" in problem.text("zh") and "indented" in problem.text("en")
    assert "空格" in problem.hint("zh")
    assert_plain(problem)


@pytest.mark.parametrize(("old", "new", "line", "words"), [
    ("step: 0.5", "step: abc", 9, "「step」应为数字"),
    ("mode: points", "mode: pts", 8, "可选：points / percent"),
    ("stars: 3", "stars: many", 12, "应为整数"),
    ("stars: 3", "stars: 9", 12, "大于允许的最大值 5"),
    ("key: base", "key: Bad Key", 2, "不能用作 key"),
    ('code: "2"', 'code: "2 x"', 24, "不能用作指标编号"),
    ('code: "2"', "code: [2]", 24, "应为文字"),
    ("title: {zh: 全部, en: All}", "title: 全部", 15, "应包含下级字段"),
    ("max: 40\n", "max: 1e30\n", 26, "大于允许的最大值"),
    ("max: 40\n", "max: .inf\n", 26, "不是可用的数值"),
    ("  step: 0.5", "\tstep: 0.5", 9, "Tab"),
    ("title: {zh: 管理, en: Management}", "title: 管理: 服务", 19, "冒号"),
    ("code: T/TEST 1-2026", 'code: "T/TEST 1-2026', 4, "引号"),
    ("levels:\n  - {key: pass", "levels:\n  - [key: pass", 11, "括号"),
    ("max: 100\ninput", "max: 100\nmax: 90\ninput", 7, "写了两次"),
    ("edition: \"2026\"", "edition: \"2026\"\nedtion: x", 5, "未知字段「edtion」"),
])
def test_every_kind_of_mistake_is_plain(old, new, line, words):
    problems = problems_of(old, new)
    assert problems
    first = problems[0]
    assert first.line == line, first.format()
    assert words in first.text("zh"), first.format()
    for problem in problems:
        assert_plain(problem)


def test_a_cascade_is_not_a_second_finding():
    """pydantic also says "parts should have at least 1 item" when one item fails: not shown."""
    problems = problems_of("max: 40\n", "max: 七十\n")
    assert [p.path for p in problems] == ["parts[0].indicators[1].max"]


def test_a_file_that_is_not_utf8_is_said_plainly(tmp_path: Path):
    path = tmp_path / "gbk.yaml"
    path.write_bytes(BASE.replace("测试标准", "测试").encode("gbk"))
    (problem,) = check_file(path)
    assert "UTF-8" in problem.text("zh") and problem.hint("zh")
    assert_plain(problem)


def test_the_cli_prints_the_fix(cli, tmp_path: Path):
    path = tmp_path / "base.yaml"
    path.write_text(BASE.replace("min: 70}", "min: 七十}"), encoding="utf-8")
    code, out, _ = cli("standards", "check", path)
    assert code == 1
    assert "base.yaml:11: levels[0].min: 「min」应为数字，现为「七十」 — 用阿拉伯数字书写" in out.replace("\n", "")
    code, out, _ = cli("--lang", "en", "standards", "check", path)
    assert "'min' must be a number, not '七十'" in out and "Input should" not in out
