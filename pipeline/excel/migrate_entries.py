"""Carrying an auditor's entries from a workbook of an earlier definition into one of the current
definition (``certpipe migrate``): every cover value, score, note, not-applicable mark and special
count that still fits, and for each one that does not, where it was and why (a removed indicator, a
score above a new maximum, an indicator that may no longer be not applicable …).

The old workbook is read by its defined names and its code column, never by the old definition
(which is gone). Pure apart from ``write_migrated``, which builds and fills the new workbook."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from pipeline.core.audit import COVER_FIELDS, AuditInfo
from pipeline.core.numbers import plain
from pipeline.core.standard import Indicator, Standard
from pipeline.excel.intake import CellValue, FilledWorkbook
from pipeline.excel.names import SPECIAL_BONUS, SPECIAL_DEDUCTIONS, na_name, na_state, note_name, score_name
from pipeline.excel.values import parse_count, parse_date, parse_number, text_of
from pipeline.i18n import Message, t


@dataclass(frozen=True)
class Left:
    """One entry that could not be carried: where it was in the old workbook and why."""

    message: Message
    sheet: str | None = None
    cell: str | None = None
    code: str | None = None

    def format(self, lang: str = "zh") -> str:
        text = self.message.render(lang)
        return f"{self.sheet}!{self.cell}: {text}" if self.sheet and self.cell else text

    def to_json(self, lang: str = "zh") -> dict:
        return {"sheet": self.sheet, "cell": self.cell, "code": self.code, "key": self.message.key,
                "text": self.message.render(lang)}


@dataclass
class Carried:
    """What goes into the new workbook (defined name → value), what was left behind, and the
    indicators of the new definition that the old workbook did not have (to be scored)."""

    values: dict[str, object] = field(default_factory=dict)
    left: list[Left] = field(default_factory=list)
    new_codes: list[str] = field(default_factory=list)
    audit_id: str = ""

    @property
    def counts(self) -> dict[str, int]:
        kinds = {"cover": 0, "scores": 0, "notes": 0, "not_applicable": 0, "special": 0}
        for name in self.values:
            kind = ("cover" if name in COVER_FIELDS else "special" if name in (SPECIAL_DEDUCTIONS, SPECIAL_BONUS)
                    else "notes" if name.startswith("note_") else "not_applicable" if name.startswith("na_")
                    else "scores")
            kinds[kind] += 1
        return kinds


@dataclass(frozen=True)
class Migrated:
    """The new workbook written by ``certpipe migrate`` and what was carried into it."""

    path: Path
    standard: str
    carried: Carried


def _where(cell: CellValue | None) -> dict[str, str | None]:
    return {"sheet": cell.sheet, "cell": cell.ref} if cell is not None else {}


def _filled(cell: CellValue | None) -> bool:
    return cell is not None and not cell.formula and cell.value is not None and text_of(cell.value) != ""


def carry(filled: FilledWorkbook, std: Standard, *, lang: str = "zh") -> Carried:
    """The entries of ``filled`` that fit ``std``, and those that do not."""
    id_cell = filled.cell("audit_id")
    out = Carried(audit_id=(text_of(id_cell.value) if id_cell is not None else "") or filled.meta.get("audit_id", ""))
    for name in COVER_FIELDS:
        cell = filled.cell(name)
        if _filled(cell):
            value = cell.value
            if name in ("audit_start", "audit_end"):
                value = parse_date(value) or text_of(value)
            out.values[name] = value if not isinstance(value, str) else text_of(value)
    old_codes = list(filled.rows)
    for code in old_codes:
        ind = std.indicators.get(code)
        if ind is None:
            _removed(filled, code, out)
        else:
            _indicator(filled, std, ind, out, lang)
    out.new_codes = [code for code, ind in std.indicators.items() if code not in filled.rows and ind.is_leaf]
    for name, rule in ((SPECIAL_DEDUCTIONS, std.rules.special_deductions), (SPECIAL_BONUS, std.rules.special_bonus)):
        cell = filled.cell(name)
        if not _filled(cell):
            continue
        count = parse_count(cell.value)
        if not count:
            continue
        if rule is None:
            out.left.append(Left(Message("mig.special_gone", {"count": count, "name": Message(f"mig.{name}")}),
                                 **_where(cell)))
        elif count > rule.max_count:
            out.left.append(Left(Message("mig.special_above", {"count": count, "max": rule.max_count,
                                                               "name": rule.label}), **_where(cell)))
        else:
            out.values[name] = count
    return out


def _removed(filled: FilledWorkbook, code: str, out: Carried) -> None:
    for name, what in ((score_name(code), "score"), (note_name(code), "note"), (na_name(code), "na")):
        cell = filled.cell(name)
        if _filled(cell) and (what != "na" or na_state(cell.value)):
            out.left.append(Left(Message("mig.removed", {"code": code, "what": Message(f"mig.what.{what}"),
                                                         "value": text_of(cell.value)[:40]}), code=code,
                                 **_where(cell)))


def _indicator(filled: FilledWorkbook, std: Standard, ind: Indicator, out: Carried, lang: str) -> None:
    code = ind.code
    note = filled.cell(note_name(code))
    if _filled(note):
        out.values[note_name(code)] = text_of(note.value)
    na = filled.cell(na_name(code))
    excluded = _filled(na) and na_state(na.value) is True
    if excluded:
        if ind.na_allowed:
            out.values[na_name(code)] = t("wb.na_mark", lang)
        else:
            out.left.append(Left(Message("mig.na_not_allowed", {"code": code}), code=code, **_where(na)))
    cell = filled.cell(score_name(code))
    if not _filled(cell):
        return
    if not ind.is_leaf:
        out.left.append(Left(Message("mig.not_leaf", {"code": code, "value": text_of(cell.value)[:40]}), code=code,
                             **_where(cell)))
        return
    if isinstance(cell.value, str) and na_state(cell.value) is True:
        if ind.na_allowed:
            out.values[na_name(code)] = t("wb.na_mark", lang)
        else:
            out.left.append(Left(Message("mig.na_not_allowed", {"code": code}), code=code, **_where(cell)))
        return
    old_percent = "band" in filled.columns
    percent = std.input.mode == "percent"
    value, _ = parse_number(cell.value)
    if value is None:  # what the auditor typed and the old check would have refused: carried as typed
        out.values[score_name(code)] = text_of(cell.value)
        return
    if old_percent != percent:
        key = "mig.mode_to_percent" if percent else "mig.mode_to_points"
        out.left.append(Left(Message(key, {"code": code, "value": plain(value)}), code=code, **_where(cell)))
        return
    top = Decimal(100) if percent else ind.max
    if value > top:
        out.left.append(Left(Message("mig.above_max", {"code": code, "value": plain(value), "max": plain(top),
                                                       "unit": "%" if percent else ""}), code=code, **_where(cell)))
    elif std.input.step > 0 and value % std.input.step:
        out.left.append(Left(Message("mig.off_step", {"code": code, "value": plain(value),
                                                      "step": plain(std.input.step)}), code=code, **_where(cell)))
    else:
        out.values[score_name(code)] = value


def write_migrated(std: Standard, carried: Carried, dest: Path, *, lang: str = "zh") -> Path:
    """The new workbook of ``std`` for the same audit, with every carried entry filled in."""
    from pipeline.excel.build import build_workbook
    from pipeline.excel.fill import fill_workbook

    build_workbook(std, AuditInfo(audit_id=carried.audit_id, org_name=""), dest, lang=lang)
    fill_workbook(dest, dest, carried.values)
    return dest
