"""Where each value of a definition comes from: **given** by the source (with a reference), **inferred**
from it (with the reasoning), or certpipe's **placeholder** (standing in for what the source does not
give). Pure.

A definition says it compactly in its ``provenance:`` map, keyed by YAML paths with wildcards::

    provenance:
      default: {given: 附录A、附录B}                    # everything not matched below
      input.bands[3]: {inferred: 附录C 在此中断……, what: 评分档次 60%~80%}
      parts[*].indicators.**.max: {placeholder: 各指标分值未公开}
      "**.en": {inferred: certpipe 的英文翻译}

``*`` stands for one step of a path (a key or a list index), ``**`` for any number of steps. A value
takes the entry whose pattern matches the longest start of its path (``**.en`` reaches every English
text, deeper than ``parts[1].indicators``); of equally long matches, the one with more literal steps,
then the one with fewer wildcards. ``default`` matches everything, last."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pipeline.i18n import Message

if TYPE_CHECKING:
    from pipeline.core.standard import Origin, Standard

Loc = tuple[str | int, ...]
Kind = Literal["given", "inferred", "placeholder", "unstated"]
KINDS: tuple[Kind, ...] = ("given", "inferred", "placeholder")
ROOT = "default"

#: top-level fields that describe the definition itself, not a value taken from a source
_NOT_VALUES = frozenset({"key", "status", "errata", "source", "provenance"})
#: the last step of a path whose value decides a score or a level (input.step, the entry precision, does not)
_DECIDING = frozenset({"max", "min", "mode", "low", "high", "na_allowed", "points", "blocks_at", "max_count",
                       "renormalise_not_applicable"})

_STEP = re.compile(r"\[(\*|\d+)\]|([^.\[\]]+)")


def format_loc(loc: Loc) -> str:
    """``("parts", 0, "indicators", 2)`` → ``parts[0].indicators[2]``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_pattern(pattern: str) -> tuple[str | int, ...] | None:
    """``parts[*].indicators.**.max`` → ``("parts", "*", "indicators", "**", "max")``; None when it
    is not a path."""
    if pattern == ROOT:
        return ()
    steps: list[str | int] = []
    pos = 0
    for m in _STEP.finditer(pattern):
        gap = pattern[pos:m.start()]
        if gap not in ("", "."):
            return None
        index, name = m.groups()
        steps.append(name if name is not None else ("*" if index == "*" else int(index)))
        pos = m.end()
    if pos != len(pattern) or not steps:
        return None
    return tuple(steps)


def _match(pattern: tuple, loc: Loc) -> int | None:
    """The length of the start of ``loc`` that ``pattern`` matches (None: no match)."""
    if not pattern:
        return 0
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        best = None
        for skip in range(len(loc) + 1):
            got = _match(rest, loc[skip:])
            if got is not None:
                best = max(best or 0, skip + got)
        return best
    if not loc:
        return None
    if head == "*" or head == loc[0]:
        got = _match(rest, loc[1:])
        return None if got is None else got + 1
    return None


@dataclass(frozen=True)
class Source:
    """Where one value comes from: the kind, the entry's text (reference, reasoning or note) and its
    pattern (``default`` or a path)."""

    kind: Kind
    pattern: str = ""
    origin: Origin | None = None

    def text(self, lang: str = "zh") -> str:
        return self.origin.text(lang) if self.origin is not None else ""

    def label(self, lang: str = "zh") -> str:
        return Message(f"prov.kind.{self.kind}").render(lang)


UNSTATED = Source("unstated")


def values(std: Standard) -> Iterator[tuple[Loc, object]]:
    """Every value the definition states (not its defaults), with its YAML path, in file order."""
    data = std.model_dump(mode="json", exclude_unset=True)

    def walk(node: object, loc: Loc) -> Iterator[tuple[Loc, object]]:
        if isinstance(node, dict):
            for key, value in node.items():
                yield from walk(value, (*loc, key))
        elif isinstance(node, list):
            for i, item in enumerate(node):
                yield from walk(item, (*loc, i))
        elif node not in ("", None):
            yield loc, node

    for key, value in data.items():
        if key not in _NOT_VALUES:
            yield from walk(value, (key,))


def deciding(loc: Loc) -> bool:
    """Whether the value at ``loc`` decides a score or a level (points, minimums, bands' limits, rules,
    which indicators may be not applicable); texts and the entry precision do not."""
    return bool(loc) and (loc[-1] in _DECIDING or (loc[0] == "rules" and loc[-1] != "zh" and loc[-1] != "en"))


class Resolver:
    """Finds the entry of a definition's ``provenance`` map that governs each value."""

    def __init__(self, std: Standard) -> None:
        self.entries: list[tuple[str, tuple, Origin]] = []
        for pattern, origin in (std.provenance or {}).items():
            steps = parse_pattern(pattern)
            if steps is not None:
                self.entries.append((pattern, steps, origin))
        self.stated = std.provenance is not None

    def source(self, loc: Loc) -> Source:
        best: tuple | None = None
        found: Source = UNSTATED
        for pattern, steps, origin in self.entries:
            depth = _match(steps, loc)
            if depth is None:
                continue
            literal = sum(1 for s in steps if s not in ("*", "**"))
            rank = (depth, literal, -(len(steps) - literal))
            if best is None or rank > best:
                best, found = rank, Source(origin.kind, pattern, origin)
        return found


@dataclass(frozen=True)
class Summary:
    """How many stated values are of each kind, and the entries that are not ``given``."""

    counts: dict[str, int]
    notes: tuple[Source, ...]
    stated: bool

    def to_json(self, lang: str = "zh") -> dict:
        return {"stated": self.stated, "counts": dict(self.counts),
                "notes": [{"kind": s.kind, "label": s.label(lang), "what": s.origin.what_text(lang, s.pattern),
                           "path": s.pattern, "text": s.text(lang)} for s in self.notes if s.origin is not None]}


_SUMMARIES: dict[int, tuple[Standard, Summary]] = {}


def summary(std: Standard) -> Summary:
    """The provenance of ``std`` summarised, once per loaded definition (a few ms: every value resolved);
    each audit's scorecard and report ask for it."""
    cached = _SUMMARIES.get(id(std))
    if cached is None or cached[0] is not std:
        if len(_SUMMARIES) > 64:
            _SUMMARIES.clear()
        cached = _SUMMARIES[id(std)] = (std, _summarise(std))
    return cached[1]


def _summarise(std: Standard) -> Summary:
    resolver = Resolver(std)
    counts: Counter[str] = Counter()
    used: dict[str, Source] = {}
    for loc, _ in values(std):
        src = resolver.source(loc)
        counts[src.kind] += 1
        if src.kind in ("inferred", "placeholder"):
            used.setdefault(src.pattern, src)
    order = {pattern: i for i, (pattern, _, _) in enumerate(resolver.entries)}
    notes = tuple(sorted(used.values(), key=lambda s: order.get(s.pattern, 0)))
    return Summary({k: counts.get(k, 0) for k in (*KINDS, "unstated") if counts.get(k)}, notes, resolver.stated)


def check_provenance(std: Standard) -> Iterator[tuple[Loc, Message]]:
    """Patterns that are not paths or match no value, entries with no kind or two, and an official
    definition with a placeholder deciding a score or a level."""
    if std.provenance is None:
        return
    stated = list(values(std))
    for pattern, origin in std.provenance.items():
        here: Loc = ("provenance", pattern)
        steps = parse_pattern(pattern)
        if steps is None:
            yield here, Message("def.prov_bad_path", {"path": pattern})
            continue
        if steps and not any(_match(steps, loc) is not None for loc, _ in stated):
            yield here, Message("def.prov_no_value", {"path": pattern})
        kinds = [k for k in KINDS if getattr(origin, k) is not None]
        if len(kinds) != 1:
            yield here, Message("def.prov_kind", {"path": pattern})
        elif not getattr(origin, kinds[0]).zh.strip() and not getattr(origin, kinds[0]).en.strip():
            yield here, Message(f"def.prov_empty_{kinds[0]}", {"path": pattern})
    if std.status.state == "official":
        resolver = Resolver(std)
        for loc, _ in stated:
            if deciding(loc) and resolver.source(loc).kind == "placeholder":
                yield ("status", "state"), Message("def.official_placeholder", {"path": format_loc(loc)})
                break
