"""The one message catalogue: ``pipeline/messages/*.yaml``, each entry ``key: {zh: ..., en: ...}``
with ``str.format`` fields. Code names a message by key; the words live in the catalogue.

What certpipe finds or decides — a problem in a workbook, an error, a blocker, an outcome's note — is
a ``Message``: a key and its parameters, kept as data (in the ledger too) and turned into words only
where a person reads them (``Message.render(lang)``: the CLI, the report, the annotated workbook, the
console). A parameter may itself be words to render in the same language: a ``Message`` (a field's
label) or a standard's own ``Text`` (an indicator's title) — anything with ``render(lang)``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml

LANGS = ("zh", "en")
_DIR = Path(__file__).resolve().parent / "messages"


#: libyaml's safe loader where PyYAML was built with it: the catalogue loads in ~16 ms instead of
#: ~175 ms, which every worker process pays once.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def catalogue() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(_DIR.glob("*.yaml")):
        for key, texts in (yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {}).items():
            if key in merged:
                raise RuntimeError(f"message {key!r} defined twice (second in {path.name})")
            merged[key] = texts
    return merged


def t(key: str, lang: str = "zh", /, **params: object) -> str:
    """The message ``key`` in ``lang`` (falling back to Chinese) with ``params`` filled in."""
    texts = catalogue()[key]
    template = texts.get(lang) or texts["zh"]
    if not params:
        return template
    return template.format(**{k: v.render(lang) if hasattr(v, "render") else v for k, v in params.items()})


def hint_key(key: str) -> str | None:
    """The catalogue's hint for ``key`` (``key.hint`` or ``key_hint``), if it has one."""
    for candidate in (f"{key}.hint", f"{key}_hint"):
        if candidate in catalogue():
            return candidate
    return None


def _plain(value: object) -> Any:
    """A parameter as JSON can keep it (the ledger stores messages as JSON)."""
    if isinstance(value, Message):
        return {"$msg": value.to_json()}
    if hasattr(value, "render") and hasattr(value, "zh"):  # a standard's Text: both languages kept
        return {"$text": {"zh": value.zh, "en": getattr(value, "en", "") or ""}}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (Decimal, float, date, Path)):
        return str(value)
    return str(value)


@dataclass(frozen=True)
class Message:
    """A catalogue key and its parameters: words only when ``render``-ed."""

    key: str
    params: Mapping[str, object] = field(default_factory=dict)

    def render(self, lang: str = "zh") -> str:
        return t(self.key, lang, **self.params)

    def hint(self, lang: str = "zh") -> str:
        """The hint that goes with this message ("" when the catalogue has none)."""
        key = hint_key(self.key)
        return t(key, lang, **self.params) if key else ""

    def to_json(self) -> dict:
        return {"key": self.key, "params": {k: _plain(v) for k, v in self.params.items()}}

    @classmethod
    def from_json(cls, data: Mapping) -> Message:
        return cls(str(data["key"]), {k: _unplain(v) for k, v in (data.get("params") or {}).items()})


@dataclass(frozen=True)
class Words:
    """Text in both languages that is not in the catalogue (a standard's indicator title, as kept in
    the ledger): renders as the language asked, else Chinese."""

    zh: str
    en: str = ""

    def render(self, lang: str = "zh") -> str:
        return (self.en if lang == "en" else self.zh) or self.zh or self.en


@dataclass(frozen=True)
class Listing:
    """Several parameters shown as one: each in the language asked, joined as that language lists."""

    items: tuple

    def render(self, lang: str = "zh") -> str:
        return ("、" if lang == "zh" else ", ").join(
            i.render(lang) if hasattr(i, "render") else str(i) for i in self.items) or "—"


def _unplain(value: object) -> object:
    if isinstance(value, dict) and "$msg" in value:
        return Message.from_json(value["$msg"])
    if isinstance(value, dict) and "$text" in value:
        return Words(**value["$text"])
    return value


def msg(key: str, /, **params: object) -> Message:
    """``msg("val.score_empty", code="4.1")``: a ``Message`` in the shape code reads best."""
    return Message(key, params)
