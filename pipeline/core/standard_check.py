"""Consistency checks of a parsed definition. Pure: a ``Standard`` in, every finding out, each as
(YAML location, message). Nothing here raises for a faulty definition."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from itertools import pairwise

from pydantic import BaseModel

from pipeline.core.numbers import plain
from pipeline.core.provenance import check_provenance, format_loc
from pipeline.core.standard import Indicator, Level, Standard, Text
from pipeline.i18n import Message

Loc = tuple[str | int, ...]
Finding = tuple[Loc, Message]


def check_standard(std: Standard) -> list[Finding]:
    return [
        *_translations(std, ()),
        *_sums(std),
        *_codes(std),
        *_levels(std.levels, std.max, ("levels",), required=True),
        *(f for i, part in enumerate(std.parts)
          for f in _levels(part.levels, part.max, ("parts", i, "levels"), required=False)),
        *_input(std),
        *_status(std),
        *check_provenance(std),
    ]


def _translations(model: BaseModel, loc: Loc) -> Iterator[Finding]:
    if isinstance(model, Text):
        for field in ("zh", "en"):
            if not getattr(model, field).strip():
                yield (*loc, field), Message("def.missing_translation", {"lang_name": Message(f"lang.{field}")})
        return
    for name in type(model).model_fields:
        value = getattr(model, name)
        if name == "reason" and isinstance(value, Text) and not value.zh and not value.en:
            continue  # an official standard has no reason; a provisional one is checked in _status
        if isinstance(value, BaseModel):
            yield from _translations(value, (*loc, name))
        elif isinstance(value, tuple):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from _translations(item, (*loc, name, i))


def _sums(std: Standard) -> Iterator[Finding]:
    if std.max <= 0:
        yield ("max",), Message("def.max_not_positive", {"max": plain(std.max)})
    parts_total = sum((p.max for p in std.parts), Decimal(0))
    if parts_total != std.max:
        yield ("max",), Message("def.parts_sum", {"total": plain(parts_total), "max": plain(std.max)})
    for i, part in enumerate(std.parts):
        total = sum((ind.max for ind in part.indicators), Decimal(0))
        if total != part.max:
            yield ("parts", i, "max"), (
                Message("def.part_sum", {"part": part.key, "total": plain(total), "max": plain(part.max)}))
        for j, ind in enumerate(part.indicators):
            yield from _indicator_sums(ind, ("parts", i, "indicators", j), std)


def _indicator_sums(ind: Indicator, loc: Loc, std: Standard) -> Iterator[Finding]:
    if ind.max <= 0:
        yield (*loc, "max"), Message("def.max_not_positive", {"max": plain(ind.max)})
    elif ind.is_leaf and std.input.mode == "points" and std.input.step > 0 and ind.max % std.input.step:
        yield (*loc, "max"), Message("def.max_off_step", {"max": plain(ind.max), "step": plain(std.input.step)})
    if ind.children:
        total = sum((c.max for c in ind.children), Decimal(0))
        if total != ind.max:
            yield (*loc, "max"), (
                Message("def.children_sum", {"code": ind.code, "total": plain(total), "max": plain(ind.max)}))
        for k, child in enumerate(ind.children):
            yield from _indicator_sums(child, (*loc, "children", k), std)


def _codes(std: Standard) -> Iterator[Finding]:
    seen: dict[str, str] = {}

    def visit(ind: Indicator, loc: Loc) -> Iterator[Finding]:
        here = format_loc(loc)
        if ind.code in seen:
            yield (*loc, "code"), Message("def.duplicate_code", {"code": ind.code, "first": seen[ind.code]})
        else:
            seen[ind.code] = here
        for k, child in enumerate(ind.children):
            yield from visit(child, (*loc, "children", k))

    for i, part in enumerate(std.parts):
        for j, ind in enumerate(part.indicators):
            yield from visit(ind, ("parts", i, "indicators", j))
    yield from _unique_keys([p.key for p in std.parts], ("parts",))


def _unique_keys(keys: list[str], loc: Loc) -> Iterator[Finding]:
    seen: set[str] = set()
    for i, key in enumerate(keys):
        if key in seen:
            yield (*loc, i, "key"), Message("def.duplicate_key", {"key": key})
        seen.add(key)


def _levels(levels: tuple[Level, ...], maximum: Decimal, loc: Loc, *, required: bool) -> Iterator[Finding]:
    if required and not levels:
        yield loc, Message("def.no_levels")
    yield from _unique_keys([lv.key for lv in levels], loc)
    prev: Decimal | None = None
    for i, level in enumerate(levels):
        here = (*loc, i, "min")
        if level.min < 0:
            yield here, Message("def.level_negative", {"key": level.key, "min": plain(level.min)})
        if level.min > maximum:
            yield here, (
                Message("def.level_beyond_max", {"key": level.key, "min": plain(level.min), "max": plain(maximum)}))
        if prev is not None and level.min <= prev:
            yield here, (
                Message("def.level_not_increasing", {"key": level.key, "min": plain(level.min), "prev": plain(prev)}))
        prev = level.min


def _input(std: Standard) -> Iterator[Finding]:
    spec = std.input
    if spec.step <= 0:
        yield ("input", "step"), Message("def.step_not_positive", {"step": plain(spec.step)})
    if spec.mode == "points":
        if spec.bands:
            yield ("input", "bands"), Message("def.bands_unused")
        return
    if not spec.bands:
        yield ("input", "bands"), Message("def.bands_missing")
        return
    bands = sorted(enumerate(spec.bands), key=lambda ib: ib[1].low)
    for i, band in bands:
        if band.low >= band.high:
            yield ("input", "bands", i), Message("def.band_empty", {"low": plain(band.low), "high": plain(band.high)})
    low, high = bands[0][1].low, max(b.high for _, b in bands)
    if low != 0 or high != 100:
        yield ("input", "bands"), Message("def.band_range", {"low": plain(low), "high": plain(high)})
    for (_, prev), (i, band) in pairwise(bands):
        if band.low != prev.high:
            yield ("input", "bands", i, "low"), (
                Message("def.band_gap", {"prev_high": plain(prev.high), "low": plain(band.low)}))


def _status(std: Standard) -> Iterator[Finding]:
    reason = std.status.reason
    if std.status.provisional and not (reason.zh.strip() or reason.en.strip()):
        yield ("status", "reason"), Message("def.provisional_reason")
    if not std.rules.renormalise_not_applicable and any(i.na_allowed for i in std.indicators.values()):
        yield ("rules", "renormalise_not_applicable"), Message("def.na_renormalise")
