"""A surveillance or recertification workbook shows the previous audit's entries, read-only, beside
each input: a column to the right of the scoring sheet's last one, headed "上次评分 / previous", locked
like every cell that is not an input (the sheets are protected). Nothing the workbook contract reads
moves: the column is outside every role and defined name, and intake never reads it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pipeline.atomic import save_workbook
from pipeline.core.numbers import plain
from pipeline.excel.names import META_SHEET, decode_columns, score_name
from pipeline.excel.style import regrow_rows
from pipeline.i18n import t

#: Rows 1-3 of a scoring sheet are the title, the hint and the header (``builder.FIRST_ROW``).
HEADER_ROW = 3


def add_previous(path: Path, scores: dict[str, Decimal], not_applicable: frozenset[str], label: str, *,
                 lang: str = "zh") -> int:
    """Write the previous entries (``scores`` by leaf code, ``not_applicable`` codes) beside the inputs
    of the workbook at ``path``; ``label`` names the audit they come from. Returns how many were shown."""
    from openpyxl import load_workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import column_index_from_string, get_column_letter

    wb = load_workbook(path)
    meta = {row[0].value: row[1].value for row in wb[META_SHEET].iter_rows(max_col=2) if row[0].value}
    columns = decode_columns(str(meta.get("columns") or ""))
    letter = get_column_letter(max(column_index_from_string(v) for v in columns.values()) + 1)
    grey, shade = Font(color="595959", italic=True), PatternFill("solid", fgColor="F2F2F2")
    shown, headed = 0, set()
    for code in sorted(set(scores) | set(not_applicable)):
        name = wb.defined_names.get(score_name(code))
        if name is None:  # an indicator the new definition does not have
            continue
        for sheet_title, ref in name.destinations:
            ws = wb[sheet_title]
            row = ws[ref.replace("$", "")].row
            if sheet_title not in headed:
                head = ws[f"{letter}{HEADER_ROW}"]
                head.value = t("wb.previous.header", lang, label=label)
                head.font, head.fill = Font(bold=True, color="595959"), shade
                head.alignment = Alignment(wrap_text=True, vertical="center")
                ws.column_dimensions[letter].width = 14
                headed.add(sheet_title)
            cell = ws[f"{letter}{row}"]
            cell.value = t("wb.previous.na", lang) if code in not_applicable else plain(scores[code])
            cell.data_type = "s"  # shown, never a number a formula could pick up
            cell.font, cell.fill = grey, shade
            shown += 1
    regrow_rows(wb)  # (openpyxl would save every indicator row fixed at its first height)
    save_workbook(wb, path)
    return shown
