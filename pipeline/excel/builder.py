"""The openpyxl build of one audit's blank scoring workbook (the contract: docs/architecture.md, "The workbook").

Sheets: a cover (audit data, live summary), one scoring sheet per part, a guide (how to fill in,
bands, levels), a hidden ``_lists`` sheet (dropdown values) and a very hidden ``_meta`` sheet.
Every input cell carries a workbook-level defined name; the formulas are for the auditor only."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.utils import absolute_coordinate, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.worksheet import Worksheet

from pipeline.core.audit import COVER_FIELDS, AuditInfo
from pipeline.core.standard import Indicator, Level, Part, Standard
from pipeline.excel.guide import write_guide
from pipeline.excel.names import (
    FORMAT_VERSION,
    LISTS_SHEET,
    META_SHEET,
    REQUIRED_COVER,
    SPECIAL_BONUS,
    SPECIAL_DEDUCTIONS,
    encode_columns,
    na_name,
    note_name,
    roles_for,
    score_name,
)
from pipeline.excel.style import (
    BOLD,
    CENTER,
    HEADER_FILL,
    HEADER_FONT,
    HINT_FONT,
    MARK_FILL,
    MARK_FONT,
    PARENT_FILL,
    TITLE_FONT,
    TOTAL_FILL,
    WARN_FILL,
    WARN_FONT,
    a4,
    growing_row,
    lines_needed,
    make_input,
    protect,
    put,
)
from pipeline.i18n import t

FIRST_ROW = 4  # first indicator row of a scoring sheet (rows 1-3: title, hint, header)
#: The cover, the same for every standard: title, the provisional banner (or an empty row), the hint,
#: the fields from ``COVER_FIELD_ROW`` on, an empty row, then the summary.
BANNER_ROW, COVER_FIELD_ROW = 2, 4
WIDTHS = {"code": 8, "title": 18, "requirement": 48, "max": 7, "score": 9, "band": 11, "na": 8,
          "note": 36, "points": 9, "rate": 9, "appl": 6}
DATE_FMT = "yyyy-mm-dd"


def num(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _safe_title(text: str, taken: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\']", " ", text).strip()[:31] or "Sheet"
    name, i = base, 2
    while name.lower() in {n.lower() for n in taken}:
        name, i = f"{base[:27]}({i})", i + 1
    taken.add(name)
    return name


class Builder:
    """The openpyxl build of one audit's blank workbook: every sheet, name, list and protection."""

    def __init__(self, std: Standard, info: AuditInfo, lang: str, *, generated_at: str | None = None) -> None:
        self.std, self.info, self.lang = std, info, lang
        self.generated_at = generated_at
        self.wb = Workbook()
        self.has_bands = std.input.mode == "percent" and bool(std.input.bands)
        self.has_na = any(ind.na_allowed for ind in std.indicators.values())
        self.col = roles_for(self.has_bands, self.has_na)
        self.lists: dict[str, str] = {}  # values key -> range on _lists
        self.list_cols = 0
        self.part_cells: list[tuple[Part, str, str, str | None]] = []  # part, sheet, score cell, level cell
        self.marked_counts: list[tuple[str, str]] = []  # sheet, cell counting its marked score cells

    # ---- helpers -----------------------------------------------------------------------
    def t(self, key: str, **params: object) -> str:
        return t(key, self.lang, **params)

    def name(self, ws: Worksheet, name: str, ref: str) -> None:
        dest = f"{quote_sheetname(ws.title)}!{absolute_coordinate(ref)}"
        self.wb.defined_names[name] = DefinedName(name, attr_text=dest)

    def ref(self, ws: Worksheet, ref: str) -> str:
        return f"{quote_sheetname(ws.title)}!{ref}"

    def validation(self, ws: Worksheet, ref: str, prompt: str, **kw: object) -> None:
        dv = DataValidation(allow_blank=True, showInputMessage=True, showErrorMessage=True,
                            promptTitle=self.t("wb.dv.title")[:32], prompt=prompt[:250],
                            errorTitle=self.t("wb.dv.error_title")[:32], error=prompt[:250], **kw)
        dv.add(ref)
        ws.add_data_validation(dv)

    def value_list(self, maximum: Decimal) -> str:
        """A column of allowed values 0..maximum by step on ``_lists`` (dropdown source)."""
        step = self.std.input.step
        top = Decimal(100) if self.std.input.mode == "percent" else maximum
        key = num(top)
        if key not in self.lists:
            ws = self.wb[LISTS_SHEET]
            self.list_cols += 1
            col = self.list_cols
            letter = ws.cell(row=1, column=col).column_letter
            values = [Decimal(0) + step * i for i in range(int(top / step) + 1)]
            for i, value in enumerate(values, start=1):
                ws.cell(row=i, column=col, value=int(value) if value == value.to_integral() else float(value))
            self.lists[key] = f"{quote_sheetname(LISTS_SHEET)}!${letter}$1:${letter}${len(values)}"
        return self.lists[key]

    def level_formula(self, levels: tuple[Level, ...], score_ref: str, blocked: str | None = None) -> str:
        expr = f'"{self.t("wb.no_level")}"'
        for lv in sorted(levels, key=lambda lv: lv.min):
            expr = f'IF({score_ref}>={num(lv.min)},"{self.std.describe_level(lv, self.lang)}",{expr})'
        if blocked:
            expr = f'IF({blocked},"{self.t("wb.level_blocked")}",{expr})'
        return f"={expr}"

    # ---- sheets ------------------------------------------------------------------------
    def build(self) -> Workbook:
        wb, std = self.wb, self.std
        cover = wb.active
        taken: set[str] = {META_SHEET, LISTS_SHEET}
        cover.title = _safe_title(self.t("wb.sheet.cover"), taken)
        guide_title = _safe_title(self.t("wb.sheet.guide"), taken)
        part_titles = [_safe_title(p.title.get(self.lang), taken) for p in std.parts]
        lists = wb.create_sheet(LISTS_SHEET)
        lists.sheet_state = "hidden"
        for part, title in zip(std.parts, part_titles, strict=True):
            self.scoring_sheet(wb.create_sheet(title), part)
        self.cover(cover)
        guide = wb.create_sheet(guide_title)
        write_guide(guide, std, self.lang)
        wb.move_sheet(LISTS_SHEET, offset=len(wb.sheetnames))
        self.meta(wb.create_sheet(META_SHEET), part_titles)
        protect(lists)
        wb.active = 0
        return wb

    def cover(self, ws: Worksheet) -> None:
        std, info = self.std, self.info
        ws.column_dimensions["A"].width = 30
        ws.column_dimensions["B"].width = 40
        ws.column_dimensions["C"].width = 22
        ws.merge_cells("A1:C1")
        put(ws, "A1", self.t("wb.cover.title", code=std.code, title=std.title.get(self.lang)), font=TITLE_FONT)
        ws.row_dimensions[1].height = 36
        row = BANNER_ROW  # the provisional banner's row, empty for other standards: no row moves
        ws.merge_cells(f"A{row}:C{row}")
        if std.provisional:
            put(ws, f"A{row}", self.t("wb.provisional", reason=std.status.reason.get(self.lang)),
                font=WARN_FONT, fill=WARN_FILL)
            ws.row_dimensions[row].height = 48
        else:
            ws.row_dimensions[row].height = 6
        row += 1
        put(ws, f"A{row}", self.t("wb.cover.hint"), font=HINT_FONT)
        ws.merge_cells(f"A{row}:C{row}")
        row += 1
        for field in COVER_FIELDS:
            star = " *" if field in REQUIRED_COVER else ""
            put(ws, f"A{row}", self.t(f"wb.field.{field}") + star, font=BOLD, box=True)
            value = getattr(info, field)
            cell = put(ws, f"B{row}", value if value not in ("", None) else None, box=True)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # data, not a formula: an organisation may be called "=1+1"
            self.name(ws, field, f"B{row}")
            if field == "audit_id":
                cell.font = BOLD
            else:
                make_input(cell, DATE_FMT if field in ("audit_start", "audit_end") else "@")
                self.cover_validation(ws, field, f"B{row}")
            put(ws, f"C{row}", self.t(f"wb.field_hint.{field}"), font=HINT_FONT)
            row += 1
        row += 1
        self.summary(ws, row)
        protect(ws)
        a4(ws, landscape=False)
        ws.freeze_panes = None

    def cover_validation(self, ws: Worksheet, field: str, ref: str) -> None:
        if field in ("audit_start", "audit_end"):
            self.validation(ws, ref, self.t("wb.dv.date"), type="date", operator="between",
                            formula1="DATE(2000,1,1)", formula2="DATE(2100,12,31)")
        elif field == "org_credit_code":
            self.validation(ws, ref, self.t("wb.dv.credit_code"), type="textLength", operator="equal",
                            formula1="18")
        elif field == "audit_type":
            types = ",".join(self.t(f"wb.audit_type.{k}") for k in ("initial", "surveillance", "recert"))
            self.validation(ws, ref, self.t("wb.dv.audit_type"), type="list", formula1=f'"{types}"')
        else:
            self.validation(ws, ref, self.t("wb.dv.text"), type="textLength", operator="lessThanOrEqual",
                            formula1="500")

    def summary(self, ws: Worksheet, row: int) -> None:
        std, rules = self.std, self.std.rules
        ws.merge_cells(f"A{row}:C{row}")
        put(ws, f"A{row}", self.t("wb.summary.title"), font=BOLD, fill=TOTAL_FILL)
        row += 1
        part_refs = []
        for part, sheet, score_ref, level_ref in self.part_cells:
            put(ws, f"A{row}", f"{part.title.get(self.lang)} ({num(part.max)})", box=True)
            put(ws, f"B{row}", f"={self.ref(self.wb[sheet], score_ref)}", box=True, fmt="0.00")
            if level_ref:
                put(ws, f"C{row}", f"={self.ref(self.wb[sheet], level_ref)}", box=True)
            part_refs.append(f"B{row}")
            row += 1
        total = f"SUM({','.join(part_refs)})"
        blocked = None
        for kind, rule, name in (("deductions", rules.special_deductions, SPECIAL_DEDUCTIONS),
                                 ("bonus", rules.special_bonus, SPECIAL_BONUS)):
            if rule is None:
                continue
            put(ws, f"A{row}", f"{rule.label.get(self.lang)}" + self.t(f"wb.summary.{kind}_unit",
                points=num(rule.points), count=rule.max_count), font=BOLD, box=True)
            cell = put(ws, f"B{row}", None, box=True)
            make_input(cell, "0")
            self.name(ws, name, f"B{row}")
            self.validation(ws, f"B{row}", self.t("wb.dv.count", count=rule.max_count), type="whole",
                            operator="between", formula1="0", formula2=str(rule.max_count))
            ws.row_dimensions[row].height = 32
            sign = "-" if kind == "deductions" else "+"
            total += f"{sign}B{row}*{num(rule.points)}"
            if kind == "deductions" and rule.blocks_at is not None:
                blocked = f"B{row}>={rule.blocks_at}"
            row += 1
        put(ws, f"A{row}", self.t("wb.summary.total", max=num(std.max)), font=BOLD, box=True, fill=TOTAL_FILL)
        put(ws, f"B{row}", f"=MIN({num(std.max)},MAX(0,{total}))", font=BOLD, box=True, fmt="0.00",
            fill=TOTAL_FILL)
        put(ws, f"C{row}", self.not_final_formula(), font=WARN_FONT, box=True)
        total_ref = f"B{row}"
        row += 1
        put(ws, f"A{row}", self.t("wb.summary.level"), font=BOLD, box=True, fill=TOTAL_FILL)
        put(ws, f"B{row}", self.level_formula(std.levels, total_ref, blocked), font=BOLD, box=True,
            fill=TOTAL_FILL)
        row += 1
        ws.merge_cells(f"A{row}:C{row}")
        put(ws, f"A{row}", self.t("wb.summary.note"), font=HINT_FONT)
        ws.row_dimensions[row].height = 30

    def not_final_formula(self) -> str:
        """The cover's word beside the live total: empty, or how many score cells are marked (a value
        outside its cell's range, text such as ``8分``, a score beside a not-applicable mark)."""
        count = "SUM(" + ",".join(self.ref(self.wb[sheet], ref) for sheet, ref in self.marked_counts) + ")"
        before, after = (part.replace('"', '""') for part in self.t("wb.summary.not_final", count="\x00").split("\x00"))
        return f'=IF({count}>0,"{before}"&{count}&"{after}","")'

    def mark_scores(self, ws: Worksheet, first: int, last: int, count_ref: str) -> None:
        """Conditional formatting of a scoring sheet's score column, and the count of marked cells
        (an array formula in ``count_ref``, in the hidden column) that the cover adds up. Pasting
        a value skips the dropdown's validation; this still shows it."""
        c, std = self.col, self.std
        score, top = f"{c['score']}{first}", f"{c['max']}{first}" if std.input.mode == "points" else "100"
        rule = [f'AND({score}<>"",ISERROR(VALUE({score})))',
                f'AND({score}<>"",IFERROR(OR(VALUE({score})<0,VALUE({score})>{top}),FALSE))']
        col = f"{c['score']}{first}:{c['score']}{last}"
        bound = f"{c['max']}{first}:{c['max']}{last}" if std.input.mode == "points" else "100"
        counts = [f'SUM(IF({col}<>"",IF(ISERROR(VALUE({col})),1,IF((VALUE({col})<0)+(VALUE({col})>{bound}),1,0)),0))']
        if self.has_na:
            na = f"{c['na']}{first}"
            rule.append(f'AND({na}<>"",{score}<>"")')
            counts.append(f'SUM(({c["na"]}{first}:{c["na"]}{last}<>"")*({col}<>""))')
        ws.conditional_formatting.add(col, FormulaRule(formula=[f"OR({','.join(rule)})"], stopIfTrue=True,
                                                       fill=MARK_FILL, font=MARK_FONT))
        ws[count_ref] = ArrayFormula(count_ref, "=" + "+".join(counts))
        self.marked_counts.append((ws.title, count_ref))

    def scoring_sheet(self, ws: Worksheet, part: Part) -> None:
        std, c = self.std, self.col
        last = max(c[r] for r in c if r != "appl")
        for role, letter in c.items():
            ws.column_dimensions[letter].width = WIDTHS[role]
        ws.column_dimensions[c["appl"]].hidden = True
        ws.merge_cells(f"A1:{last}1")
        put(ws, "A1", self.t("wb.part.title", title=part.title.get(self.lang), max=num(part.max)), font=TITLE_FONT)
        ws.row_dimensions[1].height = 26
        ws.merge_cells(f"A2:{last}2")
        put(ws, "A2", self.t(f"wb.part.hint_{std.input.mode}", step=num(std.input.step)), font=HINT_FONT)
        ws.row_dimensions[2].height = 30
        for role, letter in c.items():
            label = self.t(f"wb.col.{role}_{std.input.mode}" if role == "score" else f"wb.col.{role}")
            put(ws, f"{letter}3", label, font=HEADER_FONT, fill=HEADER_FILL, align=CENTER, box=True)
        rows: dict[str, int] = {}
        row = FIRST_ROW
        for ind, _depth in part.walk():
            rows[ind.code] = row
            row += 1
        for ind, depth in part.walk():
            self.indicator_row(ws, ind, depth, rows)
        tops = [rows[ind.code] for ind in part.indicators]
        total_row = row
        put(ws, f"{c['title']}{total_row}", self.t("wb.part.subtotal"), font=BOLD, fill=TOTAL_FILL)
        for role in ("points", "appl"):
            put(ws, f"{c[role]}{total_row}", "=SUM(" + ",".join(f"{c[role]}{r}" for r in tops) + ")",
                font=BOLD, fill=TOTAL_FILL, box=True, fmt="0.00")
        score_row = total_row + 1
        pts, appl = f"{c['points']}{total_row}", f"{c['appl']}{total_row}"
        if std.rules.renormalise_not_applicable:
            formula = f"=IF({appl}={num(part.max)},{pts},IF({appl}=0,0,ROUND({pts}/{appl}*{num(part.max)},2)))"
        else:
            formula = f"={pts}"
        put(ws, f"{c['title']}{score_row}", self.t("wb.part.score", max=num(part.max)), font=BOLD, fill=TOTAL_FILL)
        put(ws, f"{c['points']}{score_row}", formula, font=BOLD, fill=TOTAL_FILL, box=True, fmt="0.00")
        self.mark_scores(ws, FIRST_ROW, total_row - 1, f"{c['appl']}{score_row}")
        level_ref = None
        if part.levels:
            level_row = score_row + 1
            put(ws, f"{c['title']}{level_row}", self.t("wb.part.level"), font=BOLD, fill=TOTAL_FILL)
            put(ws, f"{c['points']}{level_row}", self.level_formula(part.levels, f"{c['points']}{score_row}"),
                font=BOLD, fill=TOTAL_FILL, box=True)
            level_ref = f"{c['points']}{level_row}"
        self.part_cells.append((part, ws.title, f"{c['points']}{score_row}", level_ref))
        ws.freeze_panes = f"C{FIRST_ROW}"
        protect(ws)
        a4(ws, landscape=True, title_rows="3:3")
        ws.print_area = f"A1:{last}{(score_row + 1) if part.levels else score_row}"

    def indicator_row(self, ws: Worksheet, ind: Indicator, depth: int, rows: dict[str, int]) -> None:
        std, c, r = self.std, self.col, rows[ind.code]
        fill = None if ind.is_leaf else PARENT_FILL
        font = BOLD if not ind.is_leaf else None
        title = ("  " * (depth - 1)) + ind.title.get(self.lang)
        text = ind.requirement.get(self.lang)
        if ind.guidance.get(self.lang):
            text += "\n" + self.t("wb.guidance") + ind.guidance.get(self.lang)
        values = {"code": ind.code, "title": title, "requirement": text, "max": float(ind.max)
                  if ind.max != ind.max.to_integral() else int(ind.max)}
        for role, value in values.items():
            cell = put(ws, f"{c[role]}{r}", value, fill=fill, box=True, **({"font": font} if font else {}))
            if role == "code":
                cell.number_format = "@"
        # a first height for the requirement's text, not a fixed one: the row grows with the evidence
        # typed in (a fixed height cut long evidence off in print)
        height = max(lines_needed(text, WIDTHS["requirement"]), lines_needed(title, WIDTHS["title"]))
        growing_row(ws, r, max(18, 15 * height + 3))
        na_cond = f'{c["na"]}{r}<>""' if ind.na_allowed else None
        kids = [rows[k.code] for k in ind.children]
        if ind.is_leaf:
            score = f"{c['score']}{r}"
            cell = put(ws, score, None, box=True)
            make_input(cell, "General")
            self.name(ws, score_name(ind.code), score)
            prompt = self.t(f"wb.dv.score_{std.input.mode}", max=num(ind.max), step=num(std.input.step))
            self.validation(ws, score, prompt, type="list", formula1=self.value_list(ind.max))
            empty = f'OR({na_cond},{score}="")' if na_cond else f'{score}=""'
            # VALUE: text that is a number ("9.5") counts here too, as it does for certpipe
            earned = f"{c['max']}{r}*VALUE({score})/100" if std.input.mode == "percent" else f"VALUE({score})"
            points = f'=IF({empty},"",IFERROR({earned},""))'
            appl = f"=IF({na_cond},0,{c['max']}{r})" if na_cond else f"={c['max']}{r}"
            if self.has_bands:
                put(ws, f"{c['band']}{r}", self.band_formula(score), box=True, align=CENTER)
        else:
            sums = lambda role: "SUM(" + ",".join(f"{c[role]}{k}" for k in kids) + ")"  # noqa: E731
            points = f'=IF({na_cond},"",{sums("points")})' if na_cond else f"={sums('points')}"
            appl = f"=IF({na_cond},0,{sums('appl')})" if na_cond else f"={sums('appl')}"
            if self.has_bands:
                put(ws, f"{c['band']}{r}", None, fill=fill, box=True)
        put(ws, f"{c['points']}{r}", points, fill=fill, box=True, fmt="0.00", **({"font": font} if font else {}))
        put(ws, f"{c['appl']}{r}", appl, fmt="0.00")
        put(ws, f"{c['rate']}{r}", f'=IF(OR({c["points"]}{r}="",{c["appl"]}{r}=0),"",{c["points"]}{r}/{c["appl"]}{r})',
            fill=fill, box=True, fmt="0.0%")
        note = put(ws, f"{c['note']}{r}", None, box=True)
        make_input(note)
        self.name(ws, note_name(ind.code), f"{c['note']}{r}")
        self.validation(ws, f"{c['note']}{r}", self.t("wb.dv.note"), type="textLength",
                        operator="lessThanOrEqual", formula1="2000")
        if self.has_na:
            na = put(ws, f"{c['na']}{r}", None, box=True, align=CENTER, fill=fill)
            if ind.na_allowed:
                make_input(na)
                self.name(ws, na_name(ind.code), f"{c['na']}{r}")
                self.validation(ws, f"{c['na']}{r}", self.t("wb.dv.na"), type="list",
                                formula1=f'"{self.t("wb.na_mark")}"')

    def band_formula(self, score: str) -> str:
        bands = sorted(self.std.input.bands, key=lambda b: b.low)
        expr = f'"{bands[-1].label}"'
        for band in reversed(bands[:-1]):
            expr = f'IF(VALUE({score})<{num(band.high)},"{band.label}",{expr})'
        return f'=IF({score}="","",IFERROR({expr},""))'

    def meta(self, ws: Worksheet, part_titles: list[str]) -> None:
        std, info = self.std, self.info
        values = {
            "format_version": FORMAT_VERSION, "standard_key": std.key, "edition": std.edition,
            "fingerprint": std.fingerprint(), "audit_id": info.audit_id,
            "generated_at": self.generated_at or datetime.now(UTC).replace(microsecond=0).isoformat(),
            "lang": self.lang,
            "sheets": "\t".join(part_titles), "columns": encode_columns(self.col), "first_row": str(FIRST_ROW),
            "text_fingerprint": std.text_fingerprint(),  # last: the fast build patches rows by place
        }
        for i, (key, value) in enumerate(values.items(), start=1):
            ws.cell(row=i, column=1, value=key)
            ws.cell(row=i, column=2, value=value).number_format = "@"
        ws.sheet_state = "veryHidden"
        protect(ws)
