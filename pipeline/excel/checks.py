"""Validate a filled workbook: every problem at once, none silently, each with sheet!cell, the
defined name, the indicator, what is wrong and what to do (as message data, in words when shown).

Pure: a ``FilledWorkbook`` (``excel/intake.py``) and a ``Standard`` in, problems and an ``Audit``
out; nothing here reads a file or raises for bad data. The edge that reads the file and finds the
standard is ``flow/check_file.py``."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from pipeline.core.audit import AUDIT_TYPES, COVER_FIELDS, Audit, AuditInfo, Entries, audit_type_key
from pipeline.core.credit_code import check_character, credit_code_problem
from pipeline.core.ids import valid_audit_id
from pipeline.core.numbers import plain
from pipeline.core.standard import Indicator, Standard
from pipeline.errors import UnknownStandard
from pipeline.excel.intake import CellValue, FilledWorkbook
from pipeline.excel.names import (
    FORMAT_VERSION,
    REQUIRED_COVER,
    SPECIAL_BONUS,
    SPECIAL_DEDUCTIONS,
    na_name,
    na_state,
    note_name,
    score_name,
)
from pipeline.excel.values import parse_count, parse_date, parse_number, text_of
from pipeline.i18n import Message, t

#: Excel's limit of characters in one cell: longer text was not typed in Excel, and is refused.
MAX_TEXT = 32767
_FINGERPRINTS: dict[int, tuple[Standard, str]] = {}


def _fingerprint(std: Standard) -> str:
    """``std.fingerprint()``, computed once per loaded definition (it dumps and hashes the whole model)."""
    cached = _FINGERPRINTS.get(id(std))
    if cached is None or cached[0] is not std:
        cached = _FINGERPRINTS[id(std)] = (std, std.fingerprint())
    return cached[1]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a workbook: a catalogue ``key`` (``val.score_empty``) and its ``params``,
    where (``sheet``, ``cell``, the defined ``name``, the indicator ``code``). Words only when shown:
    ``text(lang)``, ``hint(lang)``, ``format(lang)`` (``sheet!cell: text``); ``str()`` is Chinese."""

    key: str
    params: Mapping[str, object] = field(default_factory=dict)
    sheet: str | None = None
    cell: str | None = None
    name: str | None = None
    code: str | None = None

    @property
    def message(self) -> Message:
        return Message(self.key, self.params)

    def text(self, lang: str = "zh") -> str:
        return self.message.render(lang)

    def hint(self, lang: str = "zh") -> str:
        return self.message.hint(lang)

    def format(self, lang: str = "zh") -> str:
        text = self.text(lang)
        return f"{self.sheet}!{self.cell}: {text}" if self.sheet and self.cell else text

    def __str__(self) -> str:
        return self.format("zh")

    def to_json(self) -> dict:
        where = {k: v for k, v in (("sheet", self.sheet), ("cell", self.cell), ("name", self.name),
                                   ("code", self.code)) if v}
        return self.message.to_json() | where

    @classmethod
    def from_json(cls, data: Mapping) -> Problem:
        message = Message.from_json(data)
        return cls(message.key, message.params, data.get("sheet"), data.get("cell"), data.get("name"),
                   data.get("code"))


@dataclass(frozen=True)
class Checked:
    path: Path
    problems: list[Problem] = field(default_factory=list)
    audit: Audit | None = None
    standard: Standard | None = None
    audit_cell: CellValue | None = None  # where the audit id is (a problem with it is marked there)
    type_cell: CellValue | None = None  # where the audit type is
    end_cell: CellValue | None = None  # where the audit's end date is

    @property
    def ok(self) -> bool:
        return not self.problems


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, which: str, cell: CellValue | None = None, /, *, name: str | None = None,
            code: str | None = None, **params: object) -> None:
        params.setdefault("code", code or "")
        params.setdefault("name", name or "")
        self.problems.append(Problem(f"val.{which}", params, sheet=cell.sheet if cell else None,
                                     cell=cell.ref if cell else None, name=name, code=code))


@functools.cache
def type_labels() -> dict[str, tuple[str, str]]:
    """The audit types' labels as the cover's list shows them, in Chinese and English."""
    return {key: (t(f"wb.audit_type.{key}", "zh"), t(f"wb.audit_type.{key}", "en")) for key in AUDIT_TYPES}


def _shown(value: object) -> str:
    text = text_of(value)
    return text if len(text) <= 40 else text[:39] + "…"


# ---- identity: _meta ---------------------------------------------------------------------------

def check_meta(filled: FilledWorkbook, find: Callable[[str], Standard]) -> tuple[list[Problem], Standard | None]:
    """The workbook's identity: ``_meta`` present, a known standard (``find`` looks a key up and raises
    ``UnknownStandard``), the same edition and definition."""
    out = _Collector()
    meta = filled.meta
    if not filled.has_meta or not meta.get("standard_key"):
        out.add("meta_missing")
        return out.problems, None
    if meta.get("format_version") != FORMAT_VERSION:
        out.add("format_version", found=meta.get("format_version", ""), expected=FORMAT_VERSION)
        return out.problems, None
    try:
        std = find(meta["standard_key"])
    except UnknownStandard:
        out.add("unknown_standard", key=meta["standard_key"])
        return out.problems, None
    found, edition = meta.get("fingerprint"), meta.get("edition", "")
    if found == _fingerprint(std) and edition == std.edition:
        pass  # the scoring hash: text edits leave it unchanged
    elif found == std.legacy_fingerprint(edition):
        pass  # made before the scoring hash: valid while points, levels, rules and texts are unchanged
    elif edition != std.edition:
        out.add("other_edition", key=std.key, found=edition, expected=std.edition)
    else:
        out.add("definition_changed", key=std.key)
    return out.problems, std


# ---- the rest: pure ------------------------------------------------------------------------------

def _structure(filled: FilledWorkbook, std: Standard, out: _Collector) -> set[str]:
    """Every indicator once, with its maximum untouched. Returns the codes whose row is missing."""
    missing: set[str] = set()
    for code, ind in std.indicators.items():
        rows = filled.rows.get(code, ())
        if not rows:
            missing.add(code)
            out.add("indicator_missing", code=code, title=ind.title)
            continue
        code_col = filled.columns.get("code", "A")
        for extra in rows[1:]:
            out.add("indicator_duplicated", CellValue(extra.sheet, f"{code_col}{extra.row}"), code=code,
                    first=f"{rows[0].sheet}!{code_col}{rows[0].row}")
        found, _ = parse_number(rows[0].max.value)
        if found != ind.max or rows[0].max.formula:
            out.add("max_edited", rows[0].max, code=code, found=_shown(rows[0].max.value), expected=plain(ind.max))
    for code, rows in filled.rows.items():
        if code not in std.indicators:
            for row in rows:
                out.add("indicator_unknown", CellValue(row.sheet, f"{filled.columns.get('code', 'A')}{row.row}"),
                        code=code)
    return missing


def _cover(filled: FilledWorkbook, out: _Collector) -> dict[str, object]:
    info: dict[str, object] = {}
    for name in COVER_FIELDS:
        cell = filled.cell(name)
        label = Message(f"wb.field.{name}")
        if cell is None:
            out.add("cover_name_lost", name=name, label=label)
            continue
        if cell.formula:
            out.add("cover_formula", cell, name=name, label=label)
            continue
        if name in ("audit_start", "audit_end"):
            if cell.value is None:
                info[name] = None
            else:
                day = parse_date(cell.value)
                if day is None:
                    out.add("not_date", cell, name=name, label=label, value=_shown(cell.value))
                info[name] = day
        else:
            info[name] = text_of(cell.value)
            if len(info[name]) > MAX_TEXT:
                out.add("text_too_long", cell, name=name, label=label, length=len(info[name]), max=MAX_TEXT)
        if name == "audit_type" and info.get(name) and audit_type_key(str(info[name]), type_labels()) is None:
            out.add("audit_type_bad", cell, name=name, label=label, value=_shown(cell.value),
                    allowed=" / ".join(type_labels()[k][0] for k in AUDIT_TYPES))
        if name in REQUIRED_COVER and (cell.value is None or info.get(name) == ""):
            out.add("cover_required", cell, name=name, label=label)
    start, end = info.get("audit_start"), info.get("audit_end")
    if start and end and end < start:  # type: ignore[operator]
        out.add("end_before_start", filled.cell("audit_end"), name="audit_end", start=start, end=end)
    code = str(info.get("org_credit_code") or "").upper()
    info["org_credit_code"] = code
    if code:
        what = credit_code_problem(code)
        if what:
            expected = check_character(code[:17]) if what == "check" else ""
            out.add(f"credit_{what}", filled.cell("org_credit_code"), name="org_credit_code", value=code,
                    length=len(code), expected=expected)
    if info.get("audit_id") and not valid_audit_id(str(info["audit_id"])):
        out.add("audit_id_bad", filled.cell("audit_id"), name="audit_id", value=info["audit_id"])
    return info


def _excluded_by(ind: Indicator, filled: FilledWorkbook, std: Standard, out: _Collector,
                 marked: set[str]) -> None:
    """Collect the not-applicable marks (and report bad ones) in ``marked``."""
    name = na_name(ind.code)
    cell = filled.cell(name)
    if cell is not None and cell.value is not None:
        state = na_state(cell.value)
        if state is None:
            out.add("na_bad_mark", cell, name=name, code=ind.code, value=_shown(cell.value))
        elif state and not ind.na_allowed:
            out.add("na_not_allowed", cell, name=name, code=ind.code)
        elif state:
            marked.add(ind.code)
    for child in ind.children:
        _excluded_by(child, filled, std, out, marked)


def _scores(filled: FilledWorkbook, std: Standard, out: _Collector, missing: set[str]
            ) -> tuple[dict[str, Decimal], set[str], dict[str, str]]:
    marked: set[str] = set()
    for part in std.parts:
        for ind in part.indicators:
            _excluded_by(ind, filled, std, out, marked)
    percent = std.input.mode == "percent"
    step = std.input.step
    scores: dict[str, Decimal] = {}
    notes: dict[str, str] = {}
    for part in std.parts:
        for ind, _ in part.walk():
            note = filled.cell(note_name(ind.code))
            if note is not None and note.value is not None:
                notes[ind.code] = text_of(note.value)
                if len(notes[ind.code]) > MAX_TEXT:
                    out.add("text_too_long", note, name=note_name(ind.code), code=ind.code,
                            label=Message("val.note_label", {"code": ind.code}), length=len(notes[ind.code]),
                            max=MAX_TEXT)
            if not ind.is_leaf or ind.code in missing:
                continue
            name = score_name(ind.code)
            cell = filled.cell(name)
            excluded = any(ind.code == c or ind.code.startswith(c + ".") for c in marked)
            if cell is None:
                out.add("score_name_lost", name=name, code=ind.code)
                continue
            if cell.formula:
                out.add("score_formula", cell, name=name, code=ind.code)
                continue
            if excluded:
                if cell.value is not None:
                    out.add("na_and_score", cell, name=name, code=ind.code, value=_shown(cell.value))
                continue
            if cell.value is None:
                out.add("score_empty", cell, name=name, code=ind.code)
                continue
            if isinstance(cell.value, str) and na_state(cell.value) is True:
                out.add("na_in_score" if ind.na_allowed else "na_not_allowed", cell, name=name, code=ind.code)
                continue
            value, _ = parse_number(cell.value)
            top = Decimal(100) if percent else ind.max
            unit = "%" if percent else ""
            if value is None:
                out.add("not_number", cell, name=name, code=ind.code, value=_shown(cell.value))
            elif value < 0:
                out.add("negative", cell, name=name, code=ind.code, value=plain(value))
            elif value > top:
                out.add("above_max_percent" if percent else "above_max", cell, name=name, code=ind.code,
                        value=plain(value), max=plain(top))
            elif value % step:
                out.add("off_step", cell, name=name, code=ind.code, value=plain(value), step=plain(step), unit=unit)
            else:
                scores[ind.code] = value
    return scores, marked, notes


def _special(filled: FilledWorkbook, std: Standard, out: _Collector) -> tuple[int, int]:
    counts = {SPECIAL_DEDUCTIONS: 0, SPECIAL_BONUS: 0}
    for name, rule in ((SPECIAL_DEDUCTIONS, std.rules.special_deductions), (SPECIAL_BONUS, std.rules.special_bonus)):
        if rule is None:
            continue
        cell = filled.cell(name)
        label = rule.label
        if cell is None:
            out.add("special_name_lost", name=name, label=label)
            continue
        if cell.formula:
            out.add("special_formula", cell, name=name, label=label)
            continue
        count = parse_count(cell.value)
        if count is None or count < 0 or count > rule.max_count:
            out.add("special_range", cell, name=name, label=label, value=_shown(cell.value), max=rule.max_count)
        else:
            counts[name] = count
    return counts[SPECIAL_DEDUCTIONS], counts[SPECIAL_BONUS]


def check(filled: FilledWorkbook, std: Standard, *, today: date | None = None
          ) -> tuple[list[Problem], Audit | None]:
    """Every problem of a workbook whose identity is settled; the audit when there is none.
    ``today``: an audit that ends after it is not finished (its certificate would be dated before
    its audit ended), a problem of the end date's cell; None: not checked."""
    out = _Collector()
    missing = _structure(filled, std, out)
    info = _cover(filled, out)
    end = info.get("audit_end")
    if today is not None and isinstance(end, date) and end > today:
        out.add("end_in_future", filled.cell("audit_end"), name="audit_end", end=end, today=today)
    scores, marked, notes = _scores(filled, std, out, missing)
    deductions, bonus = _special(filled, std, out)
    if out.problems:
        return out.problems, None
    audit = Audit(
        standard_key=std.key, edition=std.edition,
        info=AuditInfo(**{k: info.get(k) if k in ("audit_start", "audit_end") else str(info.get(k) or "")
                          for k in COVER_FIELDS}),
        entries=Entries(scores=scores, not_applicable=frozenset(marked), deductions=deductions, bonus=bonus),
        notes=notes,
    )
    return [], audit
