"""Looks shared by the generated workbook and the annotated copy: fills, fonts, borders, and the
small helpers that write a styled cell, protect a sheet and set up A4 printing."""

from __future__ import annotations

from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.worksheet.dimensions import RowDimension
from openpyxl.worksheet.worksheet import Worksheet

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")  # pale yellow: type here
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
PARENT_FILL = PatternFill("solid", fgColor="DDEBF7")
TOTAL_FILL = PatternFill("solid", fgColor="E2EFDA")
WARN_FILL = PatternFill("solid", fgColor="FFC7CE")
PROBLEM_FILL = PatternFill("solid", fgColor="FF9999")
#: Conditional formatting of a score cell that will not be accepted (a differential style: bgColor)
MARK_FILL = PatternFill(bgColor="FFC7CE", fill_type="solid")

FONT = "Noto Sans CJK SC"  # falls back to the system UI font where it is not installed
TITLE_FONT = Font(name=FONT, size=14, bold=True, color="1F4E78")
HEADER_FONT = Font(name=FONT, bold=True, color="FFFFFF")
BOLD = Font(name=FONT, bold=True)
PLAIN = Font(name=FONT)
HINT_FONT = Font(name=FONT, italic=True, color="595959")
WARN_FONT = Font(name=FONT, bold=True, color="9C0006")
MARK_FONT = Font(bold=True, color="9C0006")

_THIN = Side(style="thin", color="A6A6A6")
BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="top", wrap_text=True)
UNLOCKED = Protection(locked=False)


def put(ws: Worksheet, ref: str, value: object, *, font: Font = PLAIN, fill: PatternFill | None = None,
        align: Alignment = WRAP, box: bool = False, fmt: str | None = None):
    cell = ws[ref]
    cell.value = value
    cell.font = font
    cell.alignment = align
    if fill is not None:
        cell.fill = fill
    if box:
        cell.border = BOX
    if fmt:
        cell.number_format = fmt
    return cell


def make_input(cell, fmt: str | None = None) -> None:
    """Tint and unlock an input cell."""
    cell.fill = INPUT_FILL
    cell.protection = UNLOCKED
    cell.border = BOX
    if fmt:
        cell.number_format = fmt


def protect(ws: Worksheet) -> None:
    """Protect without a password (a guide, not security); rows and columns may still be resized."""
    ws.protection.sheet = True
    ws.protection.formatRows = False
    ws.protection.formatColumns = False
    ws.protection.formatCells = True


def a4(ws: Worksheet, *, landscape: bool, title_rows: str | None = None) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_options.horizontalCentered = True
    if title_rows:
        ws.print_title_rows = title_rows


def lines_needed(text: str, width: float) -> int:
    """Rough wrapped line count of ``text`` in a column ``width`` wide (a CJK character is two units)."""
    per_line = max(1, int(width))
    total = 0
    for para in (text or "").split("\n"):
        units = sum(2 if ord(ch) > 0x2E80 else 1 for ch in para)
        total += max(1, -(-units // per_line))
    return total


class _GrowingRow(RowDimension):
    """A row height that is only a first guess: written without ``customHeight``, so Excel and WPS
    size the row to its text again when it changes, and LibreOffice keeps it an "optimal height"
    row. (openpyxl marks every row it gives a height as fixed.)"""

    @property
    def customHeight(self) -> bool:
        return False


def growing_row(ws: Worksheet, row: int, height: float) -> None:
    """Start ``row`` at ``height`` points and let it grow with its text (evidence typed in later is
    not cut off, on screen or in print)."""
    ws.row_dimensions[row] = _GrowingRow(ws, index=row, ht=height)


def regrow_rows(wb) -> None:
    """Make the indicator rows of a generated workbook growing again after openpyxl loaded it: it
    writes every row that has a height as fixed, so evidence typed in later would be cut off. An
    indicator row is the row of an evidence cell (a defined name ``note_*``)."""
    for name, defined in wb.defined_names.items():
        if name.startswith("note_"):
            for sheet, ref in defined.destinations:
                ws = wb[sheet]
                row = ws[ref.replace("$", "")].row
                height = ws.row_dimensions[row].height
                if height is not None:
                    growing_row(ws, row, height)
