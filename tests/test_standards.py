"""Definitions: the built-ins load and check clean; each broken fixture is caught with its path."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.core.definition import parse_definition
from pipeline.flow.standards import check_file, definition_paths, load_standard
from tests.helpers.paths import FIXTURES

BUILTIN = ["gbt27922-2011", "info-system-integration", "qhxc002-2018", "qhxc013-2018"]
BROKEN = FIXTURES / "standards"


def test_builtins_are_found_and_sound():
    paths = definition_paths()
    assert sorted(paths) == BUILTIN
    for path in paths.values():
        assert check_file(path) == []


def test_info_system_integration_is_complete():
    std = load_standard("info-system-integration")
    assert [p.max for p in std.parts] == [Decimal(100), Decimal(100)]
    tops = [ind.code for part in std.parts for ind in part.indicators]
    assert tops == [f"4.{i}" for i in range(1, 11)] + [f"5.{i}" for i in range(1, 11)]
    subs = {ind.code: ind.max for ind in std.indicators.values() if ind.code.count(".") == 2}
    # Appendix B, sub-indicator by sub-indicator
    assert subs == {k: Decimal(v) for k, v in {
        "5.1.1": 5, "5.1.2": 10, "5.2.1": 5, "5.2.2": 2, "5.2.3": 8, "5.3.1": 1, "5.3.2": 8, "5.3.3": 1,
        "5.4.1": 1, "5.4.2": 5, "5.4.3": 4, "5.5.1": 1, "5.5.2": 3, "5.5.3": 1, "5.7.1": 2, "5.7.2": 6,
        "5.7.3": 2, "5.8.1": 2, "5.8.2": 6, "5.8.3": 2, "5.9.1": 4, "5.9.2": 1}.items()}
    assert [lv.min for lv in std.levels] == [160, 180, 190]
    assert all([lv.min for lv in p.levels] == [80, 90, 95] for p in std.parts)
    assert [(b.low, b.high) for b in std.input.bands] == [(0, 20), (20, 40), (40, 60), (60, 80), (80, 100)]
    assert all(ind.requirement.zh for ind in std.leaves)
    assert len(std.errata) == 6
    assert not std.provisional


def test_provisional_standards_say_why():
    for key in ("gbt27922-2011", "qhxc002-2018", "qhxc013-2018"):
        std = load_standard(key)
        assert std.provisional and std.status.reason.zh and std.status.reason.en
    gbt = load_standard("gbt27922-2011")
    assert len(gbt.parts[0].indicators) == 3 and len(gbt.leaves) == 15
    assert gbt.rules.special_deductions.blocks_at == 5 and gbt.rules.special_bonus.max_count == 1


@pytest.mark.parametrize(("name", "path", "line", "words"), [
    ("children-sum", "parts[0].indicators[0].max", 20, "下级指标分值合计 55，与本指标分值 60 不一致"),
    ("parts-sum", "max", 6, "各部分分值合计 100，与标准总分 120 不一致"),
    ("duplicate-code", "parts[0].indicators[0].children[1].code", 23, "指标编号 1.1 重复"),
    ("levels-not-increasing", "levels[1].min", 12, "等级须按分数递增排列"),
    ("level-beyond-max", "levels[1].min", 12, "超过满分 100"),
    ("unknown-key", "edtion_note", 5, "未知字段「edtion_note」"),
    ("missing-translation", "parts[0].indicators[1].title.en", 25, "缺少英文文本"),
    ("band-gap", "input.bands[1].low", 12, "50% 与 60% 之间有缺口"),
])
def test_each_broken_fixture_is_caught_with_its_path(name, path, line, words):
    problems = check_file(BROKEN / f"broken-{name}.yaml")
    assert len(problems) == 1, [str(p) for p in problems]
    (problem,) = problems
    assert problem.path == path
    assert problem.line == line
    assert words in problem.text()


def test_english_messages():
    (problem,) = check_file(BROKEN / "broken-missing-translation.yaml")
    assert problem.text("en") == "the English text is missing"


def test_every_problem_is_reported_at_once():
    text = (BROKEN / "broken-children-sum.yaml").read_text(encoding="utf-8")
    text = text.replace('edition: "2026"\n', 'edition: "2026"\nsurprise: 1\n').replace("en: Service}", "en: ''}")
    text = text.replace("min: 85, stars: 3", "min: 60, stars: 3")
    _, problems = parse_definition(text, "x.yaml")
    paths = {p.path for p in problems}
    assert {"surprise", "parts[0].indicators[0].max", "parts[0].indicators[1].title.en", "levels[1].min"} <= paths


def test_yaml_syntax_error_has_a_line(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("key: x\nparts: [\n", encoding="utf-8")
    (problem,) = check_file(bad)
    assert problem.line is not None and "YAML" in problem.text()


def test_decimals_are_exact(tmp_path: Path):
    text = (BROKEN / "base.yaml").read_text(encoding="utf-8").replace("step: 0.5", "step: 0.1")
    model, problems = parse_definition(text, "base.yaml")
    assert problems == [] and model.input.step == Decimal("0.1")


def test_workspace_definition_overrides_builtin(tmp_path: Path):
    (tmp_path / "standards").mkdir()
    src = definition_paths()["qhxc013-2018"].read_text(encoding="utf-8")
    (tmp_path / "standards" / "qhxc013-2018.yaml").write_text(src.replace('edition: "2018"', 'edition: "2019"'))
    assert load_standard("qhxc013-2018", tmp_path).edition == "2019"
    assert load_standard("qhxc013-2018").edition == "2018"


def test_cli_list_show_check(cli):
    code, out, _ = cli("standards", "list")
    assert code == 0
    for key in BUILTIN:
        assert key in out
    assert out.count("暂定") == 3
    code, out, _ = cli("--lang", "en", "standards", "show", "gbt27922-2011")
    assert code == 0 and "provisional" in out and "B.3 Delivery" in out and "Special deductions" in out
    code, out, _ = cli("standards", "check")
    assert code == 0 and out.count("✓") == 4
    code, out, _ = cli("standards", "check", BROKEN / "broken-band-gap.yaml", BROKEN / "base.yaml")
    assert code == 1 and "input.bands[1].low" in out and "✓" in out


def test_cli_unknown_standard_is_a_clear_error(cli):
    code, _, err = cli("standards", "show", "nope")
    assert code == 2
    assert "未知标准「nope」" in err and "gbt27922-2011" in err and "Traceback" not in err


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", "1e30"])
def test_unusable_numbers_are_a_problem_with_a_line_not_a_crash(value):
    text = (BROKEN / "base.yaml").read_text(encoding="utf-8").replace("max: 40\n", f"max: {value}\n")
    model, problems = parse_definition(text, "base.yaml")
    assert model is None and problems
    assert problems[0].line == 26 and problems[0].path in ("", "parts[0].indicators[1].max")
