"""The one message catalogue: ``pipeline/messages/*.yaml``, each entry ``key: {zh: ..., en: ...}``
with ``str.format`` fields. Code names a message by key; the words live in the catalogue."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

LANGS = ("zh", "en")
_DIR = Path(__file__).resolve().parent / "messages"


@cache
def catalogue() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(_DIR.glob("*.yaml")):
        for key, texts in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            if key in merged:
                raise RuntimeError(f"message {key!r} defined twice (second in {path.name})")
            merged[key] = texts
    return merged


def t(key: str, lang: str = "zh", /, **params: object) -> str:
    """The message ``key`` in ``lang`` (falling back to Chinese) with ``params`` filled in."""
    texts = catalogue()[key]
    template = texts.get(lang) or texts["zh"]
    return template.format(**params) if params else template
