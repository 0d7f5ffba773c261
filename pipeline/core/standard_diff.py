"""What changed between two definitions (``certpipe standards diff A B``): the standard's own fields,
parts, indicators (added, removed, points, titles, wording, not-applicable), levels, bands and rules;
each change says whether it touches scoring (a workbook of A is then rejected by B). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pipeline.core.numbers import plain
from pipeline.core.standard import Indicator, Level, Standard


@dataclass(frozen=True)
class Change:
    """One difference: ``area`` (standard, part, indicator, level, band, rule), ``where`` (a code, a
    key, a band's range, a field), ``field``, ``kind`` (added, removed, changed), ``old`` and ``new``
    as text, and whether it touches ``scoring``."""

    area: str
    where: str
    field: str
    kind: str
    old: str = ""
    new: str = ""
    scoring: bool = False

    def to_json(self) -> dict:
        return {"area": self.area, "where": self.where, "field": self.field, "kind": self.kind, "old": self.old,
                "new": self.new, "scoring": self.scoring}


def _text(value: object) -> str:
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if hasattr(value, "zh"):
        zh, en = getattr(value, "zh", ""), getattr(value, "en", "")
        return f"{zh} / {en}" if en else zh
    return str(value)


def _fields(area: str, where: str, a: object, b: object, names: dict[str, bool]) -> list[Change]:
    out = []
    for name, scoring in names.items():
        old, new = getattr(a, name), getattr(b, name)
        if old != new:
            out.append(Change(area, where, name, "changed", _text(old), _text(new), scoring))
    return out


_INDICATOR = {"max": True, "na_allowed": True, "title": False, "requirement": False, "guidance": False}


def _indicators(a: Standard, b: Standard) -> list[Change]:
    out = []
    parents_a = {c.code: ind.code for ind in a.indicators.values() for c in ind.children}
    parents_b = {c.code: ind.code for ind in b.indicators.values() for c in ind.children}
    for code, ind in a.indicators.items():
        other = b.indicators.get(code)
        if other is None:
            out.append(Change("indicator", code, "", "removed", f"{ind.title.zh} ({plain(ind.max)})", "", True))
            continue
        out += _fields("indicator", code, ind, other, _INDICATOR)
        if parents_a.get(code) != parents_b.get(code) or a.part_of(code).key != b.part_of(code).key:
            out.append(Change("indicator", code, "parent", "changed", _place(a, code, parents_a),
                              _place(b, code, parents_b), True))
        if ind.is_leaf != other.is_leaf:
            out.append(Change("indicator", code, "children", "changed", _kids(ind), _kids(other), True))
    for code, ind in b.indicators.items():
        if code not in a.indicators:
            out.append(Change("indicator", code, "", "added", "", f"{ind.title.zh} ({plain(ind.max)})", True))
    return out


def _place(std: Standard, code: str, parents: dict[str, str]) -> str:
    return f"{std.part_of(code).key}/{parents.get(code, '')}"


def _kids(ind: Indicator) -> str:
    return ", ".join(c.code for c in ind.children)


def _levels(where: str, a: tuple[Level, ...], b: tuple[Level, ...]) -> list[Change]:
    out = []
    old, new = {lv.key: lv for lv in a}, {lv.key: lv for lv in b}
    for key, level in old.items():
        if key not in new:
            out.append(Change("level", f"{where}{key}", "", "removed", f"{level.label.zh} ≥ {plain(level.min)}", "",
                              True))
        else:
            out += _fields("level", f"{where}{key}", level, new[key], {"min": True, "label": False, "stars": False})
    for key, level in new.items():
        if key not in old:
            out.append(Change("level", f"{where}{key}", "", "added", "", f"{level.label.zh} ≥ {plain(level.min)}",
                              True))
    return out


def diff(a: Standard, b: Standard) -> list[Change]:
    """Every difference from ``a`` to ``b``, in the order: the standard, parts, indicators, levels,
    bands, rules."""
    out = _fields("standard", "", a, b,  # the key: each edition has its own, its workbooks keep it
                  {"key": False, "code": False, "edition": False, "title": False, "max": True, "source": False})
    if a.status != b.status:
        out.append(Change("standard", "", "status", "changed", a.status.state, b.status.state, False))
    out += _fields("standard", "input", a.input, b.input, {"mode": True, "step": True})
    old_parts, new_parts = {p.key: p for p in a.parts}, {p.key: p for p in b.parts}
    for key, part in old_parts.items():
        if key not in new_parts:
            out.append(Change("part", key, "", "removed", part.title.zh, "", True))
        else:
            out += _fields("part", key, part, new_parts[key], {"max": True, "title": False})
    out += [Change("part", key, "", "added", "", part.title.zh, True) for key, part in new_parts.items()
            if key not in old_parts]
    out += _indicators(a, b)
    out += _levels("", a.levels, b.levels)
    for key, part in old_parts.items():
        if key in new_parts:
            out += _levels(f"{key}/", part.levels, new_parts[key].levels)
    old_bands, new_bands = {b.label: b for b in a.input.bands}, {b.label: b for b in b.input.bands}
    for label, band in old_bands.items():
        if label not in new_bands:
            out.append(Change("band", label, "", "removed", band.description.zh, "", True))
        elif band.description != new_bands[label].description:
            out.append(Change("band", label, "description", "changed", _text(band.description),
                              _text(new_bands[label].description), False))
    out += [Change("band", label, "", "added", "", band.description.zh, True) for label, band in new_bands.items()
            if label not in old_bands]
    for name in ("special_deductions", "special_bonus"):
        old, new = getattr(a.rules, name), getattr(b.rules, name)
        if old is None and new is not None:
            out.append(Change("rule", name, "", "added", "", _rule(new), True))
        elif old is not None and new is None:
            out.append(Change("rule", name, "", "removed", _rule(old), "", True))
        elif old is not None and new is not None:
            names = {"points": True, "blocks_at": True, "max_count": True, "label": False}
            out += _fields("rule", name, old, new, {k: v for k, v in names.items() if k in type(old).model_fields})
    if a.rules.renormalise_not_applicable != b.rules.renormalise_not_applicable:
        out.append(Change("rule", "renormalise_not_applicable", "", "changed",
                          _text(a.rules.renormalise_not_applicable), _text(b.rules.renormalise_not_applicable), True))
    return out


def _rule(rule: object) -> str:
    return ", ".join(f"{name}={_text(getattr(rule, name))}" for name in ("points", "blocks_at", "max_count")
                     if hasattr(rule, name))
