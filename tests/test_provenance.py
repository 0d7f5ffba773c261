"""Where each value of a definition comes from (given / inferred / placeholder), checked, and shown in
`standards show`, the workbook's guide sheet, scorecard.json and the report's appendix."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest
from openpyxl import load_workbook

from pipeline.config import Config, Issuer
from pipeline.core.definition import parse_definition
from pipeline.core.provenance import Resolver, parse_pattern, summary, values
from pipeline.core.scorecard_json import scorecard_dict
from pipeline.core.scoring import score
from pipeline.excel.build import build_workbook
from pipeline.flow.standards import load_standard
from pipeline.word.render import Renderer
from pipeline.word.template_check import sample_audit
from tests.helpers.paths import FIXTURES
from tests.helpers.workbooks import info

BUILTIN = ["gbt27922-2011", "info-system-integration", "qhxc002-2018", "qhxc013-2018"]
BASE = (FIXTURES / "standards" / "base.yaml").read_text(encoding="utf-8")


def kind(std, *loc) -> str:
    return Resolver(std).source(loc).kind


@pytest.mark.parametrize("key", BUILTIN)
def test_every_value_of_a_builtin_says_where_it_comes_from(key):
    std = load_standard(key)
    resolver = Resolver(std)
    unstated = [loc for loc, _ in values(std) if resolver.source(loc).kind == "unstated"]
    assert unstated == []
    assert summary(std).counts["given"] > 0


def test_info_system_integration_edition_is_unknown_and_its_completed_bands_inferred():
    std = load_standard("info-system-integration")
    assert std.edition == "" and std.edition_label("zh") == "版本未注明"
    assert std.edition_label("en") == "edition not stated"
    assert std.status.state == "official"
    assert kind(std, "input", "bands", 0, "description", "zh") == "given"
    assert kind(std, "input", "bands", 2, "description", "zh") == "inferred"  # its third line
    assert kind(std, "input", "bands", 2, "low") == "given"
    for i in (3, 4):
        assert kind(std, "input", "bands", i, "high") == "inferred"
        assert kind(std, "input", "bands", i, "description", "zh") == "inferred"
    assert kind(std, "parts", 1, "indicators", 0, "children", 1, "max") == "given"
    assert kind(std, "parts", 1, "indicators", 0, "children", 1, "title", "en") == "inferred"  # a translation
    assert kind(std, "input", "step") == "placeholder"  # whole-percent entry is certpipe's


def test_gbt27922_wording_and_rules_are_certpipes():
    std = load_standard("gbt27922-2011")
    leaf = ("parts", 0, "indicators", 1, "children", 2)
    assert kind(std, *leaf, "requirement", "zh") == "placeholder"
    assert kind(std, *leaf, "na_allowed") == "placeholder"
    assert kind(std, *leaf, "max") == "placeholder"
    assert kind(std, *leaf, "title", "zh") == "given"
    assert kind(std, "rules", "special_deductions", "blocks_at") == "placeholder"
    assert kind(std, "rules", "special_bonus", "points") == "placeholder"
    assert kind(std, "levels", 1, "min") == "given"
    reason = std.status.reason.zh
    assert "要求文字" in reason and "专项扣分" in reason and "不适用" in reason


def test_qhxc013_title_slip_and_installation_are_recorded():
    std = load_standard("qhxc013-2018")
    assert any("furniture" in e.says for e in std.errata)
    src = Resolver(std).source(("parts", 0, "indicators", 2, "requirement", "zh"))
    assert src.kind == "placeholder" and "安装" in src.text("zh")
    assert kind(std, "levels", 0, "min") == "placeholder" and kind(std, "levels", 0, "key") == "given"


def test_the_most_exact_pattern_wins():
    assert parse_pattern("parts[*].indicators.**.max") == ("parts", "*", "indicators", "**", "max")
    assert parse_pattern("parts[x") is None and parse_pattern("default") == ()
    text = BASE + """provenance:
  default: {given: 全文}
  "**.max": {placeholder: 分值暂定}
  max: {given: 第 3 章}
  parts[0].indicators[1]: {inferred: 按顺序推得}
  parts[0].indicators[0].children[1].max: {inferred: 按合计推得}
"""
    status = "key: base\nstatus: {state: provisional, reason: {zh: 暂定, en: Provisional}}"
    std, problems = parse_definition(text.replace("key: base", status), "base.yaml")
    assert problems == [], [p.format() for p in problems]
    assert kind(std, "max") == "given"                                 # as deep, a literal beats **
    assert kind(std, "parts", 0, "indicators", 0, "max") == "placeholder"
    assert kind(std, "parts", 0, "indicators", 1, "max") == "placeholder"  # the deeper match wins
    assert kind(std, "parts", 0, "indicators", 1, "title", "zh") == "inferred"
    assert kind(std, "parts", 0, "indicators", 0, "children", 1, "max") == "inferred"  # as deep, more literals
    assert kind(std, "title", "zh") == "given"


def provenance_problems(provenance: str, status: str = "") -> list:
    text = BASE.replace("key: base", "key: base" + status) + "provenance:\n" + provenance
    return [(p.path, p.message.key) for p in parse_definition(text, "base.yaml")[1]]


def test_an_official_definition_cannot_rest_on_a_placeholder():
    points = "  default: {given: 全文}\n  parts[0].indicators[0].children[0].max: {placeholder: 暂定}\n"
    assert provenance_problems(points) == [("status.state", "def.official_placeholder")]
    assert provenance_problems("  default: {given: 全文}\n  input.step: {placeholder: 录入精度}\n") == []
    provisional = "\nstatus: {state: provisional, reason: {zh: 分值暂定, en: provisional points}}"
    assert provenance_problems("  default: {given: 全文}\n  levels[*].min: {placeholder: 暂定}\n", provisional) == []


def test_faulty_provenance_entries_are_found():
    found = provenance_problems("  default: {given: 全文}\n  parts[9].max: {given: x}\n  levels[: {given: x}\n"
                                "  max: {given: a, inferred: b}\n  title: {inferred: ''}\n")
    assert ("provenance.parts[9].max", "def.prov_no_value") in found
    assert ("provenance.levels[", "def.prov_bad_path") in found
    assert ("provenance.max", "def.prov_kind") in found
    assert ("provenance.title", "def.prov_empty_inferred") in found


def test_guide_sheet_marks_inferred_text_and_the_unknown_edition(tmp_path: Path):
    wb = load_workbook(build_workbook(load_standard("info-system-integration"), info(), tmp_path / "isi.xlsx"))
    texts = [c.value for row in wb["填写说明"].iter_rows() for c in row if isinstance(c.value, str)]
    assert "（版本未注明）" in texts[0] and "2025" not in texts[0]
    band = next(t for t in texts if "与对比性信息（和/或标杆）相比" in t)  # the inferred 60%~80% band
    assert band.startswith("【推断】")
    assert not next(t for t in texts if t.startswith("在该指标要求中水平很差")).startswith("【")  # given: unmarked
    assert any(t.startswith("评分档次 80%~100%：") for t in texts)
    wb = load_workbook(build_workbook(load_standard("qhxc002-2018"), info(), tmp_path / "q.xlsx"))
    texts = [c.value for row in wb["填写说明"].iter_rows() for c in row if isinstance(c.value, str)]
    assert "得分 ≥ 90 【暂定】" in texts


def test_scorecard_json_carries_the_provenance():
    std = load_standard("info-system-integration")
    card = score(std, sample_audit(std).entries)
    data = scorecard_dict(card, std=std, lang="en")["provenance"]
    assert data["edition"] == "edition not stated" and data["counts"]["inferred"] > 0
    assert {"kind": "inferred", "label": "inferred", "what": "the 60%~80% band", "path": "input.bands[3]"}.items() \
        <= next(n for n in data["notes"] if n["path"] == "input.bands[3]").items()


def test_report_appendix_lists_what_is_not_given(tmp_path: Path):
    std = load_standard("info-system-integration")
    audit = sample_audit(std)
    renderer = Renderer(Config(issuer=Issuer(name="测试认证中心", verify_url="https://verify.example.cn/c/")))
    (report,) = renderer.render(audit, std, score(std, audit.entries), tmp_path)
    doc = docx.Document(str(report))
    paragraphs = [p.text for p in doc.paragraphs]
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    assert "附录  评价标准的来源说明" in paragraphs
    assert "评分档次 60%~80%" in cells and "推断" in cells
    assert any("（版本未注明）" in p for p in paragraphs) and not any("2025" in p for p in paragraphs)


def test_cli_show_marks_and_explains(cli):
    code, out, _ = cli("standards", "show", "info-system-integration")
    assert code == 0 and "版本 版本未注明" in out
    assert "60%~80% [推断]" in out and "评分档次 60%~80%" in out and "来源: 给定" in out
    code, out, _ = cli("--lang", "en", "standards", "show", "gbt27922-2011")
    assert "A.1 Organisation  5 [placeholder]" in out and "requirement wording" in out
