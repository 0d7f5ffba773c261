"""Every action the audit trail records is shown in words on the console's trail page (the full-name
action showed its raw key, user.full_name, in both languages)."""

from __future__ import annotations

import re

from pipeline.i18n import catalogue
from tests.helpers.paths import ROOT

RECORDED = re.compile(r'\.record\([^,]+,\s*f?"([a-z_.{}]+)"')


def test_every_recorded_action_has_words_in_both_languages():
    words = catalogue()
    found = set()
    for path in (ROOT / "pipeline").rglob("*.py"):
        for action in RECORDED.findall(path.read_text(encoding="utf-8")):
            found.add(action)
    assert "user.full_name" in found and "decide.{choice}" in found  # the scan sees what it must
    for action in sorted(found):
        if "{" in action:  # f"decide.{choice}", f"cert.{action}.refused": each value the page offers
            values = {"decide.{choice}": ("approve", "refuse"), "decide.{choice}.refused": ("approve", "refuse"),
                      "cert.{action}": ("suspend", "restore", "withdraw", "cancel"),
                      "cert.{action}.refused": ("suspend", "restore", "withdraw", "cancel")}[action]
            keys = [re.sub(r"\{[a-z]+\}", v, action) for v in values]
        else:
            keys = [action]
        for key in keys:
            texts = words.get(f"web.action.{key}")
            assert texts and texts.get("zh") and texts.get("en"), key
