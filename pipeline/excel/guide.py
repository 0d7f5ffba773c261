"""The guide sheet of a scoring workbook: how to fill it in, the band scale, the levels, the special
rules, and for a provisional definition a visible warning."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from openpyxl.worksheet.worksheet import Worksheet

from pipeline.core.provenance import Resolver, Source, summary
from pipeline.core.standard import Level, Standard
from pipeline.excel.style import (
    BOLD,
    CENTER,
    HEADER_FILL,
    HEADER_FONT,
    HINT_FONT,
    TITLE_FONT,
    WARN_FILL,
    WARN_FONT,
    a4,
    lines_needed,
    protect,
    put,
)
from pipeline.i18n import t

STEPS = ("open", "cover", "score", "note", "na", "special", "check", "send")


def _num(value: Decimal) -> str:
    return f"{value.normalize():f}"


def write_guide(ws: Worksheet, std: Standard, lang: str) -> None:
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 90
    ws.merge_cells("A1:B1")
    title_key = "wb.guide.title" if std.edition else "prov.guide_title_no_edition"
    put(ws, "A1", t(title_key, lang, code=std.code, title=std.title.get(lang), edition=std.edition_label(lang)),
        font=TITLE_FONT)
    where = Resolver(std)
    ws.row_dimensions[1].height = 30
    row = 2
    if std.provisional:
        ws.merge_cells(f"A{row}:B{row}")
        put(ws, f"A{row}", t("wb.provisional", lang, reason=std.status.reason.get(lang)), font=WARN_FONT,
            fill=WARN_FILL)
        ws.row_dimensions[row].height = 48
        row += 1
    row += 1
    put(ws, f"A{row}", t("wb.guide.how", lang), font=BOLD)
    row += 1
    has_na = any(ind.na_allowed for ind in std.indicators.values())
    has_special = std.rules.special_deductions is not None or std.rules.special_bonus is not None
    number = 1
    for step in STEPS:
        if (step == "na" and not has_na) or (step == "special" and not has_special):
            continue
        key = f"wb.guide.step.{step}_{std.input.mode}" if step == "score" else f"wb.guide.step.{step}"
        text = t(key, lang, step=_num(std.input.step))
        put(ws, f"A{row}", number, align=CENTER)
        put(ws, f"B{row}", text)
        ws.row_dimensions[row].height = 15 * lines_needed(text, 90) + 3
        number += 1
        row += 1
    if std.input.bands:
        row += 1
        put(ws, f"A{row}", t("wb.guide.bands", lang), font=BOLD)
        row += 1
        for ref, key in (("A", "wb.guide.band"), ("B", "wb.guide.band_rule")):
            put(ws, f"{ref}{row}", t(key, lang), font=HEADER_FONT, fill=HEADER_FILL, box=True)
        row += 1
        for i, band in enumerate(std.input.bands):
            text = band.description.get(lang)
            src = where.source(("input", "bands", i, "description", lang))
            text = f"{_mark(src, lang)} {text}" if _marked(src) else text
            put(ws, f"A{row}", band.label, box=True, align=CENTER)
            put(ws, f"B{row}", text, box=True)
            ws.row_dimensions[row].height = 15 * lines_needed(text, 88) + 3
            row += 1
    row += 1
    put(ws, f"A{row}", t("wb.guide.levels", lang), font=BOLD)
    row += 1
    row = _levels(ws, row, t("wb.guide.overall", lang, max=_num(std.max)), std.levels, std, lang,
                  lambda i: where.source(("levels", i, "min")))
    for p, part in enumerate(std.parts):
        if part.levels:
            row = _levels(ws, row, t("wb.guide.part_levels", lang, part=part.title.get(lang), max=_num(part.max)),
                          part.levels, std, lang, lambda i, p=p: where.source(("parts", p, "levels", i, "min")))
    rules = std.rules
    if rules.special_deductions:
        sd = rules.special_deductions
        row += 1
        key = "wb.guide.deductions" if sd.blocks_at is not None else "wb.guide.deductions_unblocked"
        put(ws, f"B{row}", t(key, lang, points=_num(sd.points), blocks=sd.blocks_at))
    if rules.special_bonus:
        row += 1
        put(ws, f"B{row}", t("wb.guide.bonus", lang, points=_num(rules.special_bonus.points),
                             count=rules.special_bonus.max_count))
    if any(ind.na_allowed for ind in std.indicators.values()) and rules.renormalise_not_applicable:
        row += 1
        put(ws, f"B{row}", t("wb.guide.renormalise", lang))
    row = _provenance(ws, row, std, lang)
    row += 2
    put(ws, f"B{row}", t("wb.guide.formulas", lang))
    ws.row_dimensions[row].height = 33
    protect(ws)
    a4(ws, landscape=False)
    ws.print_area = f"A1:B{row}"


def _marked(src: Source) -> bool:
    return src.kind in ("inferred", "placeholder")


def _mark(src: Source, lang: str) -> str:
    return t("prov.mark", lang, kind=src.label(lang))


def _provenance(ws: Worksheet, row: int, std: Standard, lang: str) -> int:
    """Every value not given by the source: what it is, inferred or placeholder, and why."""
    notes = summary(std).notes
    if not notes:
        return row
    row += 2
    put(ws, f"A{row}", t("prov.guide_heading", lang), font=BOLD)
    row += 1
    for src in notes:
        what = src.origin.what_text(lang, src.pattern) if src.origin is not None else src.pattern
        text = t("prov.guide_note", lang, what=what, why=src.text(lang))
        put(ws, f"A{row}", _mark(src, lang), box=True, align=CENTER, font=BOLD)
        put(ws, f"B{row}", text, box=True, font=HINT_FONT)
        ws.row_dimensions[row].height = 15 * lines_needed(text, 88) + 3
        row += 1
    return row


def _levels(ws: Worksheet, row: int, heading: str, levels: tuple[Level, ...], std: Standard, lang: str,
            source: Callable[[int], Source]) -> int:
    put(ws, f"A{row}", heading, font=HEADER_FONT, fill=HEADER_FILL, box=True)
    ws.merge_cells(f"A{row}:B{row}")
    row += 1
    for i, level in sorted(enumerate(levels), key=lambda il: il[1].min):
        src = source(i)
        mark = f" {_mark(src, lang)}" if _marked(src) else ""
        put(ws, f"A{row}", std.describe_level(level, lang), box=True, align=CENTER)
        put(ws, f"B{row}", t("wb.guide.level_min", lang, min=_num(level.min)) + mark, box=True)
        row += 1
    return row
