"""Consistency checks of a parsed definition. Pure: a ``Standard`` in, every finding out, each as
(YAML location, sentence). Nothing here raises for a faulty definition."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from itertools import pairwise

from pydantic import BaseModel

from pipeline.core.numbers import plain
from pipeline.core.standard import Indicator, Level, Standard, Text
from pipeline.i18n import t

Loc = tuple[str | int, ...]
Finding = tuple[Loc, str]


def format_loc(loc: Loc) -> str:
    """``("parts", 0, "indicators", 2)`` → ``parts[0].indicators[2]``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def check_standard(std: Standard, lang: str = "zh") -> list[Finding]:
    return [
        *_translations(std, (), lang),
        *_sums(std, lang),
        *_codes(std, lang),
        *_levels(std.levels, std.max, ("levels",), lang, required=True),
        *(f for i, part in enumerate(std.parts)
          for f in _levels(part.levels, part.max, ("parts", i, "levels"), lang, required=False)),
        *_input(std, lang),
        *_status(std, lang),
    ]


def _translations(model: BaseModel, loc: Loc, lang: str) -> Iterator[Finding]:
    if isinstance(model, Text):
        for field in ("zh", "en"):
            if not getattr(model, field).strip():
                yield (*loc, field), t("def.missing_translation", lang, lang_name=t(f"lang.{field}", lang))
        return
    for name in type(model).model_fields:
        value = getattr(model, name)
        if name == "reason" and isinstance(value, Text) and not value.zh and not value.en:
            continue  # an official standard has no reason; a provisional one is checked in _status
        if isinstance(value, BaseModel):
            yield from _translations(value, (*loc, name), lang)
        elif isinstance(value, tuple):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from _translations(item, (*loc, name, i), lang)


def _sums(std: Standard, lang: str) -> Iterator[Finding]:
    if std.max <= 0:
        yield ("max",), t("def.max_not_positive", lang, max=plain(std.max))
    parts_total = sum((p.max for p in std.parts), Decimal(0))
    if parts_total != std.max:
        yield ("max",), t("def.parts_sum", lang, total=plain(parts_total), max=plain(std.max))
    for i, part in enumerate(std.parts):
        total = sum((ind.max for ind in part.indicators), Decimal(0))
        if total != part.max:
            yield ("parts", i, "max"), t("def.part_sum", lang, part=part.key, total=plain(total), max=plain(part.max))
        for j, ind in enumerate(part.indicators):
            yield from _indicator_sums(ind, ("parts", i, "indicators", j), std, lang)


def _indicator_sums(ind: Indicator, loc: Loc, std: Standard, lang: str) -> Iterator[Finding]:
    if ind.max <= 0:
        yield (*loc, "max"), t("def.max_not_positive", lang, max=plain(ind.max))
    elif ind.is_leaf and std.input.mode == "points" and std.input.step > 0 and ind.max % std.input.step:
        yield (*loc, "max"), t("def.max_off_step", lang, max=plain(ind.max), step=plain(std.input.step))
    if ind.children:
        total = sum((c.max for c in ind.children), Decimal(0))
        if total != ind.max:
            yield (*loc, "max"), t("def.children_sum", lang, code=ind.code, total=plain(total), max=plain(ind.max))
        for k, child in enumerate(ind.children):
            yield from _indicator_sums(child, (*loc, "children", k), std, lang)


def _codes(std: Standard, lang: str) -> Iterator[Finding]:
    seen: dict[str, str] = {}

    def visit(ind: Indicator, loc: Loc) -> Iterator[Finding]:
        here = format_loc(loc)
        if ind.code in seen:
            yield (*loc, "code"), t("def.duplicate_code", lang, code=ind.code, first=seen[ind.code])
        else:
            seen[ind.code] = here
        for k, child in enumerate(ind.children):
            yield from visit(child, (*loc, "children", k))

    for i, part in enumerate(std.parts):
        for j, ind in enumerate(part.indicators):
            yield from visit(ind, ("parts", i, "indicators", j))
    yield from _unique_keys([p.key for p in std.parts], ("parts",), lang)


def _unique_keys(keys: list[str], loc: Loc, lang: str) -> Iterator[Finding]:
    seen: set[str] = set()
    for i, key in enumerate(keys):
        if key in seen:
            yield (*loc, i, "key"), t("def.duplicate_key", lang, key=key)
        seen.add(key)


def _levels(levels: tuple[Level, ...], maximum: Decimal, loc: Loc, lang: str, *, required: bool) -> Iterator[Finding]:
    if required and not levels:
        yield loc, t("def.no_levels", lang)
    yield from _unique_keys([lv.key for lv in levels], loc, lang)
    prev: Decimal | None = None
    for i, level in enumerate(levels):
        here = (*loc, i, "min")
        if level.min < 0:
            yield here, t("def.level_negative", lang, key=level.key, min=plain(level.min))
        if level.min > maximum:
            yield here, t("def.level_beyond_max", lang, key=level.key, min=plain(level.min), max=plain(maximum))
        if prev is not None and level.min <= prev:
            yield here, t("def.level_not_increasing", lang, key=level.key, min=plain(level.min), prev=plain(prev))
        prev = level.min


def _input(std: Standard, lang: str) -> Iterator[Finding]:
    spec = std.input
    if spec.step <= 0:
        yield ("input", "step"), t("def.step_not_positive", lang, step=plain(spec.step))
    if spec.mode == "points":
        if spec.bands:
            yield ("input", "bands"), t("def.bands_unused", lang)
        return
    if not spec.bands:
        yield ("input", "bands"), t("def.bands_missing", lang)
        return
    bands = sorted(enumerate(spec.bands), key=lambda ib: ib[1].low)
    for i, band in bands:
        if band.low >= band.high:
            yield ("input", "bands", i), t("def.band_empty", lang, low=plain(band.low), high=plain(band.high))
    low, high = bands[0][1].low, max(b.high for _, b in bands)
    if low != 0 or high != 100:
        yield ("input", "bands"), t("def.band_range", lang, low=plain(low), high=plain(high))
    for (_, prev), (i, band) in pairwise(bands):
        if band.low != prev.high:
            yield ("input", "bands", i, "low"), t("def.band_gap", lang, prev_high=plain(prev.high), low=plain(band.low))


def _status(std: Standard, lang: str) -> Iterator[Finding]:
    reason = std.status.reason
    if std.status.provisional and not (reason.zh.strip() or reason.en.strip()):
        yield ("status", "reason"), t("def.provisional_reason", lang)
    if not std.rules.renormalise_not_applicable and any(i.na_allowed for i in std.indicators.values()):
        yield ("rules", "renormalise_not_applicable"), t("def.na_renormalise", lang)
