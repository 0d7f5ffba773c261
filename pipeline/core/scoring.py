"""Exact scoring. Pure: a ``Standard`` and an audit's ``Entries`` in, a ``ScoreCard`` out.

Rules (docs/en/scheme-manager.md §2 explains them for scheme managers):
- a leaf earns the points entered, or ``maximum × percent ÷ 100`` (exact, no rounding);
- a parent earns the sum of its applicable children; a not-applicable indicator (and its subtree)
  is left out of both the points and the maximum;
- a part's score is its earned points; when indicators were left out it is renormalised to
  ``earned ÷ applicable maximum × part maximum``, rounded to 2 decimals half-up;
- total = sum of part scores − special deductions + special bonus, kept within 0..maximum;
- a level is reached when the score *as reported* is ``>=`` its minimum; too many special
  deductions block every level.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction

from pipeline.core.audit import Entries
from pipeline.core.numbers import tidy
from pipeline.core.standard import Indicator, Level, Standard, Text
from pipeline.i18n import t

ZERO = Decimal(0)
HUNDRED = Decimal(100)
WEAKEST_COUNT = 5


def round_half_up(value: Fraction, places: int = 2) -> Decimal:
    """Round an exact fraction to ``places`` decimals, halves away from zero (四舍五入)."""
    scale = 10**places
    scaled = abs(value) * scale
    rounded = int(scaled + Fraction(1, 2))  # floor of x + ½ for x ≥ 0
    sign = -1 if value < 0 else 1
    return (Decimal(sign * rounded) / Decimal(scale)).quantize(Decimal(1).scaleb(-places))


def rate(points: Decimal, maximum: Decimal) -> Decimal:
    """Points as a percentage of the maximum, 2 decimals half-up."""
    if maximum == 0:
        return ZERO
    return tidy(round_half_up(Fraction(points) * 100 / Fraction(maximum)))


@dataclass(frozen=True)
class IndicatorScore:
    code: str
    title: Text
    depth: int
    part_key: str
    max: Decimal
    is_leaf: bool
    applicable: bool
    entered: Decimal | None  # leaves only: the value as entered (points or percent)
    points: Decimal | None  # None when not applicable
    applicable_max: Decimal  # the maximum less its not-applicable children
    rate: Decimal | None  # percent of the applicable maximum

    @property
    def lost(self) -> Decimal:
        return self.max - self.points if self.points is not None else ZERO


@dataclass(frozen=True)
class Blocker:
    """Why no level is awarded, as a catalogue key and its parameters."""

    key: str
    params: tuple[tuple[str, object], ...] = ()

    def message(self, lang: str = "zh") -> str:
        return t(self.key, lang, **dict(self.params))


@dataclass(frozen=True)
class PartScore:
    key: str
    title: Text
    max: Decimal
    earned: Decimal
    applicable_max: Decimal
    score: Decimal  # as reported: renormalised and rounded when indicators were left out
    renormalised: bool
    rate: Decimal
    level: Level | None
    next_level: Level | None
    short_of_next: Decimal | None


@dataclass(frozen=True)
class ScoreCard:
    standard_key: str
    standard_code: str
    edition: str
    provisional: bool
    max: Decimal
    indicators: tuple[IndicatorScore, ...]
    parts: tuple[PartScore, ...]
    subtotal: Decimal
    deductions: int
    deduction_points: Decimal
    bonus: int
    bonus_points: Decimal
    total: Decimal
    level: Level | None
    blockers: tuple[Blocker, ...]
    next_level: Level | None
    short_of_next: Decimal | None
    weakest: tuple[IndicatorScore, ...]

    @property
    def not_applicable(self) -> tuple[IndicatorScore, ...]:
        """The indicators left out, top-most only (a left-out parent stands for its children)."""
        out: list[IndicatorScore] = []
        for ind in self.indicators:
            if not ind.applicable and not any(ind.code.startswith(o.code + ".") for o in out):
                out.append(ind)
        return tuple(out)

    def indicator(self, code: str) -> IndicatorScore:
        return next(i for i in self.indicators if i.code == code)


def _level_for(levels: tuple[Level, ...], value: Decimal) -> tuple[Level | None, Level | None]:
    """The highest level reached and the next one above it."""
    reached = [lv for lv in levels if value >= lv.min]
    above = [lv for lv in levels if value < lv.min]
    return (max(reached, key=lambda lv: lv.min) if reached else None,
            min(above, key=lambda lv: lv.min) if above else None)


def _walk(ind: Indicator, depth: int, part_key: str, std: Standard, entries: Entries,
          excluded: bool, out: list[IndicatorScore]) -> IndicatorScore:
    excluded = excluded or ind.code in entries.not_applicable
    slot = len(out)
    out.append(None)  # type: ignore[arg-type]  # parents come before their children
    entered = None
    if ind.is_leaf:
        entered = entries.scores.get(ind.code)
        applicable = not excluded
        value = entered if entered is not None else ZERO
        points = (value if std.input.mode == "points" else ind.max * value / HUNDRED) if applicable else None
        applicable_max = ind.max if applicable else ZERO
    else:
        kids = [_walk(c, depth + 1, part_key, std, entries, excluded, out) for c in ind.children]
        live = [k for k in kids if k.applicable]
        applicable = bool(live)
        points = sum((k.points for k in live), ZERO) if applicable else None
        applicable_max = sum((k.applicable_max for k in live), ZERO)
    out[slot] = IndicatorScore(
        code=ind.code, title=ind.title, depth=depth, part_key=part_key, max=ind.max, is_leaf=ind.is_leaf,
        applicable=applicable, entered=entered, points=tidy(points) if points is not None else None,
        applicable_max=applicable_max,
        rate=rate(points, applicable_max) if points is not None else None,
    )
    return out[slot]


def score(std: Standard, entries: Entries) -> ScoreCard:
    indicators: list[IndicatorScore] = []
    parts: list[PartScore] = []
    blockers: list[Blocker] = []
    for part in std.parts:
        tops = [_walk(ind, 1, part.key, std, entries, False, indicators) for ind in part.indicators]
        live = [s for s in tops if s.applicable]
        earned = sum((s.points for s in live), ZERO)
        applicable_max = sum((s.applicable_max for s in live), ZERO)
        renormalised = applicable_max != part.max
        if not renormalised or (applicable_max > 0 and not std.rules.renormalise_not_applicable):
            reported = earned
        elif applicable_max > 0:
            reported = round_half_up(Fraction(earned) * Fraction(part.max) / Fraction(applicable_max))
        else:
            reported = ZERO
            blockers.append(Blocker("score.part_all_na", (("part", part.key),)))
        level, nxt = _level_for(part.levels, reported)
        parts.append(PartScore(
            key=part.key, title=part.title, max=part.max, earned=earned, applicable_max=applicable_max,
            score=tidy(reported), renormalised=renormalised, rate=rate(reported, part.max),
            level=level, next_level=nxt, short_of_next=tidy(nxt.min - reported) if nxt else None,
        ))

    rules = std.rules
    deduction_points = rules.special_deductions.points * entries.deductions if rules.special_deductions else ZERO
    bonus_points = rules.special_bonus.points * entries.bonus if rules.special_bonus else ZERO
    subtotal = sum((p.score for p in parts), ZERO)
    total = tidy(min(std.max, max(ZERO, subtotal - deduction_points + bonus_points)))
    sd = rules.special_deductions
    if sd and sd.blocks_at is not None and entries.deductions >= sd.blocks_at:
        blockers.append(Blocker("score.too_many_deductions", (("count", entries.deductions), ("limit", sd.blocks_at))))

    level, nxt = _level_for(std.levels, total)
    if blockers:
        level = None
        parts = [replace(p, level=None) for p in parts]
    weakest = sorted(
        (i for i in indicators if i.is_leaf and i.applicable and i.lost > 0),
        key=lambda i: (-i.lost, i.rate),
    )[:WEAKEST_COUNT]
    return ScoreCard(
        standard_key=std.key, standard_code=std.code, edition=std.edition, provisional=std.provisional,
        max=std.max, indicators=tuple(indicators), parts=tuple(parts), subtotal=subtotal,
        deductions=entries.deductions, deduction_points=deduction_points,
        bonus=entries.bonus, bonus_points=bonus_points, total=total, level=level, blockers=tuple(blockers),
        next_level=nxt, short_of_next=tidy(nxt.min - total) if nxt else None, weakest=tuple(weakest),
    )
