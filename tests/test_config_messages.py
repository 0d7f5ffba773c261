"""A certpipe.toml a person got wrong is answered in words they can act on: where, what is wrong and
the line as it should be; never the TOML parser's or pydantic's own words."""

from __future__ import annotations

import pytest

from pipeline.config import load_config
from pipeline.errors import ConfigError

PARSER_WORDS = ("Invalid value", "Expected", "Unescaped", "Unterminated", "Cannot", "Input should",
                "String should", "at line", "end of document")


def _said(tmp_path, text: str, lang: str) -> tuple[str, str]:
    path = tmp_path / "certpipe.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    said, hint = caught.value.render(lang), caught.value.render_hint(lang) or ""
    assert not any(words in said + hint for words in PARSER_WORDS), said + hint
    return said, hint


@pytest.mark.parametrize("text, zh, fix", [
    ('[issuer]\nname = "某认证中心"\nsignatory = 王建国\n', "第 3 行第 13 列", '文字要加引号：signatory = "王建国"'),
    ('[issuer]\nsignatory = "王建国\n', "第 2 行", '文字要加引号：signatory = "王建国"'),
    ("[paths]\ninbox = \"D:\\certpipe\\inbox\"\n", "反斜杠", "路径请用单引号（其中的反斜杠照原样写）：inbox = 'D:\\certpipe\\inbox'"),  # noqa: E501
    ("[paths]\ninbox = D:\\certpipe\\inbox\n", "第 2 行", "inbox = 'D:\\certpipe\\inbox'"),
    ("[run]\npdf = True\n", "第 2 行第 7 列", "真假值用小写的 true 或 false，不加引号：pdf = true"),
    ("[run]\npdf = 是\n", "第 2 行", "pdf = true"),
    ("[limits]\nseconds_per_file = 1,5\n", "值后面还有多余的内容", "小数用小数点，不加引号：seconds_per_file = 1.5"),
    ('[issuer]\nname = "a"\n[issuer]\n', "同一个设置或段写了两次", "每个设置、每个 [段] 只写一次"),
    ('[issuer]\nname = "a"\nname = "b"\n', "第 3 行", "每个设置、每个 [段] 只写一次"),
    ("[issuer\nname = \"a\"\n", "段名缺少右方括号", "补上缺少的"),
    ("签字人 = \"王建国\"\n", "既不是", "设置名用英文"),
    ("[certificates]\nvalidity_years = [3\n", "第 2 行", "补上缺少的"),
])
def test_toml_mistakes_are_said_with_where_and_the_fix(tmp_path, text, zh, fix):
    said, hint = _said(tmp_path, text, "zh")
    assert zh in said and "certpipe.toml" in said
    assert fix in hint


def test_in_english_too(tmp_path):
    said, hint = _said(tmp_path, "[issuer]\nsignatory = 王建国\n", "en")
    assert "line 2, column 13" in said and "The line: signatory = 王建国" in said
    assert hint == 'text needs quotes: signatory = "王建国"'


def test_a_file_not_in_utf8_says_how_to_save_it(tmp_path):
    path = tmp_path / "certpipe.toml"
    path.write_bytes('[issuer]\nsignatory = "王建国"\n'.encode("gbk"))
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert "UTF-8" in caught.value.render("zh") and "另存为" in caught.value.render_hint("zh")


def test_a_file_saved_with_a_bom_reads(tmp_path):
    path = tmp_path / "certpipe.toml"
    path.write_bytes('\ufeff[issuer]\nsignatory = "王建国"\n'.encode())
    assert load_config(path, {}).issuer.signatory == "王建国"


@pytest.mark.parametrize("text, words", [
    ("[issuer]\nsignatory = 2025\n", "应为带引号的文字，现为 2025"),
    ('[paths]\ninbox = ""\n', "不能为空"),
    ('[decision]\nmode = "both"\n', '应为 "auto" | "review" 之一'),  # a section's choices: no English "or"
])
def test_wrong_values_are_said_without_the_validators_words(tmp_path, text, words):
    said, _ = _said(tmp_path, text, "zh")
    assert words in said
