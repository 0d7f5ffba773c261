"""Return a rejected workbook to its auditor: a copy of their own file with every problem cell
highlighted and commented, and a problems sheet listing them all with links to the cells. Their
entries are untouched (only fills, comments and the added sheet change)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import quote_sheetname
from openpyxl.worksheet.hyperlink import Hyperlink

from pipeline.atomic import save_workbook
from pipeline.errors import WorkbookError
from pipeline.excel.checks import Problem
from pipeline.excel.names import LISTS_SHEET, META_SHEET
from pipeline.excel.style import (
    FONT,
    HEADER_FILL,
    HEADER_FONT,
    INPUT_FILL,
    PROBLEM_FILL,
    TITLE_FONT,
    WRAP,
    a4,
    lines_needed,
    put,
    regrow_rows,
)
from pipeline.i18n import t

AUTHOR = "certpipe"
COLUMNS = (("no", 6), ("where", 22), ("name", 22), ("code", 10), ("problem", 60), ("hint", 60))


def problems_text(problems: Sequence[Problem], lang: str = "zh") -> str:
    """The problems as plain text, one block each: ``sheet!cell: message`` and what to do."""
    lines = [t("ann.text_title", lang, count=len(problems)), ""]
    for i, problem in enumerate(problems, start=1):
        lines.append(f"{i}. {problem.format(lang)}")
        if problem.hint(lang):
            lines.append(f"   → {problem.hint(lang)}")
    return "\n".join(lines) + "\n"


def _clear_previous(wb, sheet_title: str) -> None:
    """A resubmitted annotated copy: drop our old problems sheet, comments and red fills."""
    for ws in list(wb.worksheets):
        if ws.title == sheet_title:
            wb.remove(ws)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.comment is not None and cell.comment.author == AUTHOR:
                    cell.comment = None
                    if cell.fill == PROBLEM_FILL:
                        cell.fill = INPUT_FILL


def annotate(src: Path, problems: list[Problem], dest: Path, *, lang: str = "zh") -> Path:
    """Write the marked copy of ``src`` to ``dest``. Raises ``WorkbookError`` when ``src`` cannot be
    opened at all (then there is nothing to mark: send the problems as text)."""
    try:
        wb = load_workbook(src)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise WorkbookError("ann.unreadable", {"detail": type(exc).__name__}) from exc
    title = t("ann.sheet", lang)
    _clear_previous(wb, title)
    by_cell: dict[tuple[str, str], list[Problem]] = {}
    for problem in problems:
        if problem.sheet and problem.cell and problem.sheet in wb.sheetnames \
                and problem.sheet not in (META_SHEET, LISTS_SHEET):
            by_cell.setdefault((problem.sheet, problem.cell), []).append(problem)
    for (sheet, ref), found in by_cell.items():
        cell = wb[sheet][ref]
        cell.fill = PROBLEM_FILL
        text = "\n".join(f"• {p.text(lang)}\n  → {p.hint(lang)}" if p.hint(lang) else f"• {p.text(lang)}"
                         for p in found)
        comment = Comment(text, AUTHOR)
        comment.width = 320
        comment.height = min(400, 40 + 18 * lines_needed(text, 40))
        cell.comment = comment

    ws = wb.create_sheet(title, 0)
    ws.sheet_properties.tabColor = "C00000"
    put(ws, "A1", t("ann.title", lang, count=len(problems)), font=TITLE_FONT)
    ws.merge_cells("A1:F1")
    put(ws, "A2", t("ann.intro", lang))
    ws.merge_cells("A2:F2")
    ws.row_dimensions[2].height = 32
    for i, (key, width) in enumerate(COLUMNS):
        letter = chr(ord("A") + i)
        ws.column_dimensions[letter].width = width
        put(ws, f"{letter}3", t(f"ann.col.{key}", lang), font=HEADER_FONT, fill=HEADER_FILL, box=True)
    for row, problem in enumerate(problems, start=4):
        where = f"{problem.sheet}!{problem.cell}" if problem.sheet and problem.cell else "—"
        message, hint = problem.text(lang), problem.hint(lang)
        values = (row - 3, where, problem.name or "", problem.code or "", message, hint)
        for i, value in enumerate(values):
            put(ws, f"{chr(ord('A') + i)}{row}", value, box=True, align=WRAP)
        if (problem.sheet, problem.cell) in by_cell:
            link = ws[f"B{row}"]
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"{quote_sheetname(problem.sheet)}!{problem.cell}")
            link.font = Font(name=FONT, bold=True, color="0563C1", underline="single")
        ws.row_dimensions[row].height = 15 * max(lines_needed(message, 60), lines_needed(hint, 60)) + 4
    ws.freeze_panes = "A4"
    a4(ws, landscape=True, title_rows="3:3")
    wb.active = 0
    for sheet in wb.worksheets[1:]:
        sheet.sheet_view.tabSelected = False

    regrow_rows(wb)  # (openpyxl wrote every row with a height as fixed: evidence typed later is cut off)
    save_workbook(wb, dest)
    return dest
