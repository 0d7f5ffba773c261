"""docs/python-api.md keeps up with the API: its examples run, in order, in one namespace, from an
empty folder, as a reader would run them; the Chinese half shows the same code as the English one; and
every name of ``pipeline.api.__all__`` is in both halves."""

from __future__ import annotations

import os
import re
import traceback
from pathlib import Path

import pytest

from pipeline import api

PAGE = Path(__file__).resolve().parents[1] / "docs" / "python-api.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _halves() -> tuple[str, str]:
    """(the Chinese half, the English half) of the page."""
    text = PAGE.read_text(encoding="utf-8")
    zh = re.search(r"^## 中文$", text, re.MULTILINE)
    en = re.search(r"^## English$", text, re.MULTILINE)
    assert zh and en and zh.start() < en.start(), "docs/python-api.md needs '## 中文' then '## English'"
    return text[zh.end():en.start()], text[en.end():]


def _blocks(text: str) -> list[str]:
    return BLOCK.findall(text)


def test_both_halves_show_the_same_code():
    zh, en = _halves()
    assert _blocks(en), "no ```python block in the English half of docs/python-api.md"
    assert _blocks(zh) == _blocks(en), "the Chinese and English halves of docs/python-api.md differ in their code"


def test_every_public_name_is_on_the_page():
    for half, text in zip(("中文", "English"), _halves(), strict=True):
        missing = [name for name in api.__all__ if f"`{name}`" not in text]
        assert not missing, f"docs/python-api.md ({half}) does not mention {missing}"


def test_the_examples_run(tmp_path, monkeypatch):
    for name in [n for n in os.environ if n.startswith("CERTPIPE_")]:
        monkeypatch.delenv(name)  # the examples use the documented defaults
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "python_api_examples"}
    for number, code in enumerate(_blocks(_halves()[1]), start=1):
        try:
            exec(compile(code, f"docs/python-api.md, example {number}", "exec"), namespace)
        except BaseException:
            pytest.fail(f"docs/python-api.md, example {number} raised:\n\n{code}\n\n{traceback.format_exc()}",
                        pytrace=False)
