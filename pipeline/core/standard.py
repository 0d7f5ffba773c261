"""The standard definition: a pydantic model of ``standards/*.yaml`` (read from text by ``definition.py``).

Field by field documentation: §2 of ``docs/zh/scheme-manager.md`` (English twin in ``docs/en/``).
Consistency checks (sums, levels, bands, translations) are in ``standard_check.py``."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from decimal import Decimal
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from pipeline.i18n import t

# Points, minimums, steps and percentages: finite and of a sane size (1e30 is a typo, not a score).
Number = Annotated[Decimal, Field(ge=-10**6, le=10**6, allow_inf_nan=False)]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]+(\.[A-Za-z0-9]+)*$", max_length=32)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Model):
    """A text in Chinese and English. Both are required of a finished definition; an empty one is
    reported by ``standards check`` as a missing translation."""

    zh: str = ""
    en: str = ""

    def get(self, lang: str) -> str:
        return (self.en if lang == "en" else self.zh) or self.zh or self.en

    render = get  # a Text can be a message's parameter (rendered in the message's language)


class LongText(_Model):
    """Requirement and guidance text: Chinese as the standard has it, English optional."""

    zh: str = ""
    en: str = ""

    def get(self, lang: str) -> str:
        return (self.en if lang == "en" else self.zh) or self.zh


class Level(_Model):
    """A level reached when the score is at least ``min`` (inclusive: "80 分以上（含 80分）")."""

    key: Key
    label: Text
    min: Number
    stars: int = Field(0, ge=0, le=5, description="0 for a grade without stars")


class Band(_Model):
    """One band of a percent scale: the indicator earns ``low``..``high`` % of its maximum."""

    low: Number
    high: Number
    description: Text

    @property
    def label(self) -> str:
        return f"{self.low:f}%~{self.high:f}%"


class InputMode(_Model):
    """How the auditor enters a leaf indicator: ``points`` directly, or ``percent`` of its maximum.

    ``step`` is the precision of an entered value (0.5 points, 1 percent, ...)."""

    mode: Literal["points", "percent"] = "points"
    step: Number = Decimal("0.5")
    bands: tuple[Band, ...] = ()


class Indicator(_Model):
    code: Code
    title: Text
    max: Number
    requirement: LongText = LongText()
    guidance: LongText = LongText()
    na_allowed: bool = Field(False, description="the auditor may mark it not applicable (删减)")
    children: tuple[Indicator, ...] = ()

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def walk(self, depth: int = 1) -> Iterator[tuple[Indicator, int]]:
        yield self, depth
        for child in self.children:
            yield from child.walk(depth + 1)


class Part(_Model):
    """A separately totalled part (服务管理要求, 服务特性要求). A standard with one part still has one."""

    key: Key
    title: Text
    max: Number
    levels: tuple[Level, ...] = ()
    indicators: tuple[Indicator, ...]

    def walk(self) -> Iterator[tuple[Indicator, int]]:
        for ind in self.indicators:
            yield from ind.walk()


class SpecialDeductions(_Model):
    """专项扣分: ``points`` each, outside the indicators; ``blocks_at`` or more blocks every level."""

    points: Number = Decimal(1)
    blocks_at: int | None = None
    max_count: int = 99
    label: Text = Text(zh="专项扣分", en="Special deductions")


class SpecialBonus(_Model):
    """专项加分: ``points`` each, at most ``max_count``."""

    points: Number = Decimal(1)
    max_count: int = 1
    label: Text = Text(zh="专项加分", en="Special bonus")


class Rules(_Model):
    special_deductions: SpecialDeductions | None = None
    special_bonus: SpecialBonus | None = None
    renormalise_not_applicable: bool = Field(
        True, description="part score = earned ÷ applicable maximum × part maximum, 2 decimals half-up"
    )


class Status(_Model):
    state: Literal["official", "provisional"] = "official"
    reason: Text = Text()

    @property
    def provisional(self) -> bool:
        return self.state == "provisional"


class Erratum(_Model):
    """A fault in the source text and the reading this definition follows."""

    where: str
    says: str
    reading: str


class Origin(_Model):
    """Where a value comes from (one of ``given``, ``inferred``, ``placeholder``, each with its text:
    the reference, the reasoning, the note), and optionally ``what`` it is, in words for a reader.
    A plain string is read as the Chinese text. Resolution and checks: ``provenance.py``."""

    given: LongText | None = None
    inferred: LongText | None = None
    placeholder: LongText | None = None
    what: LongText | None = None

    @field_validator("given", "inferred", "placeholder", "what", mode="before")
    @classmethod
    def _plain_string(cls, value: object) -> object:
        return {"zh": value} if isinstance(value, str) else value

    @property
    def kind(self) -> str:
        return next((k for k in ("given", "inferred", "placeholder") if getattr(self, k) is not None), "given")

    def text(self, lang: str = "zh") -> str:
        found = getattr(self, self.kind)
        return found.get(lang) if found is not None else ""

    def what_text(self, lang: str, pattern: str) -> str:
        return self.what.get(lang) if self.what is not None else pattern


class Standard(_Model):
    key: Key
    code: str = Field(min_length=1)
    edition: str = Field("", description="the source's edition (year); empty when the source names none")
    title: Text
    status: Status = Status()
    max: Number
    input: InputMode = InputMode()
    parts: tuple[Part, ...] = Field(min_length=1)
    levels: tuple[Level, ...]
    rules: Rules = Rules()
    errata: tuple[Erratum, ...] = ()
    source: str = ""
    provenance: dict[str, Origin] | None = None

    # ---- navigation -------------------------------------------------------------------------
    @cached_property
    def indicators(self) -> dict[str, Indicator]:
        """Every indicator by code, in document order."""
        return {ind.code: ind for part in self.parts for ind, _ in part.walk()}

    @cached_property
    def leaves(self) -> tuple[Indicator, ...]:
        return tuple(ind for ind in self.indicators.values() if ind.is_leaf)

    def part_of(self, code: str) -> Part:
        for part in self.parts:
            if any(ind.code == code for ind, _ in part.walk()):
                return part
        raise KeyError(code)

    @property
    def provisional(self) -> bool:
        return self.status.provisional

    def fingerprint(self) -> str:
        """The scoring hash: the key, points, levels' minimums, the entry mode, step and bands' limits,
        the rules' numbers and the indicator tree (codes, maximums, not-applicable). A workbook made
        from a definition with another scoring hash is rejected; text edits (titles, requirement
        wording, hints, labels, the edition's name) leave it unchanged."""
        return _hash(self.scoring_data())

    def text_fingerprint(self) -> str:
        """The hash of the whole definition, texts included (titles, wording, labels, edition, provenance):
        it tells that a workbook's texts are older than the definition's, which does not reject it."""
        return _hash(self.model_dump(mode="json"))

    def legacy_fingerprint(self, edition: str | None = None) -> str:
        """The hash workbooks carried before the split (points and texts together, with ``edition``):
        a workbook sent out before stays valid while its scoring is unchanged. Computed once per
        edition asked (it dumps the whole model; a group of such workbooks asks it for each)."""
        edition = self.edition if edition is None else edition
        found = self.legacy_fingerprints.get(edition)
        if found is None:
            data = self.model_dump(mode="json", include={"key", "max", "input", "parts", "levels", "rules"})
            found = self.legacy_fingerprints[edition] = _hash(data | {"edition": edition})
        return found

    @cached_property
    def legacy_fingerprints(self) -> dict[str, str]:
        """``legacy_fingerprint`` by edition, as computed so far."""
        return {}

    def takes(self, edition: str, fingerprint: str) -> bool:
        """Whether a workbook made for ``edition`` with hash ``fingerprint`` is scored by this
        definition as when it was made (the rule of ``excel/checks.check_meta``)."""
        return fingerprint == self.legacy_fingerprint(edition) or (
            edition == self.edition and fingerprint == self.fingerprint())

    def scoring_data(self) -> dict:
        def tree(ind: Indicator) -> dict:
            return {"code": ind.code, "max": _n(ind.max), "na": ind.na_allowed,
                    "children": [tree(c) for c in ind.children]}

        def levels(lvs: tuple[Level, ...]) -> list:
            return [[lv.key, _n(lv.min)] for lv in lvs]

        rules = self.rules.model_dump(exclude={"special_deductions": {"label"}, "special_bonus": {"label"}})
        return {"key": self.key, "max": _n(self.max), "mode": self.input.mode, "step": _n(self.input.step),
                "bands": [[_n(b.low), _n(b.high)] for b in self.input.bands], "levels": levels(self.levels),
                "rules": json.loads(json.dumps(rules, default=_n)),
                "parts": [{"key": p.key, "max": _n(p.max), "levels": levels(p.levels),
                           "indicators": [tree(i) for i in p.indicators]} for p in self.parts]}

    def edition_label(self, lang: str = "zh") -> str:
        """The edition as printed: ``2011``, or 未注明 / not stated when the source names none."""
        return self.edition or t("std.edition_unknown", lang)

    def describe_level(self, level: Level, lang: str = "zh") -> str:
        """``★★★ 三星`` for a star level, the grade text otherwise."""
        label = level.label.get(lang)
        return f"{'★' * level.stars} {label}" if level.stars else label


def _hash(data: object) -> str:
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:16]



def _n(value: Decimal) -> str:
    """A number as hashed: ``70``, ``70.0`` and ``7E+1`` alike."""
    return f"{value.normalize():f}"
