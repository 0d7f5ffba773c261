"""Workbooks of plain tables (a header row, then typed rows), written as XML directly.

``register.xlsx`` lists every certificate and every change of one, and is rewritten after each run
and each change a person makes: with openpyxl (even write-only) that was ~0.25 ms a cell, 2 s for
8,000 certificates, paid by every run and every console action of a large body. Here each sheet is
one string built from the rows: text as inline strings (never a formula, whatever it starts with),
dates as serial numbers with a date format, numbers with ``0.##``; the header bold on a light fill,
frozen with the first column, filtered, repeated on every printed page; landscape, A4, one page
wide. ``tests/test_ledger_publish.py`` reads the result back with openpyxl; LibreOffice and Excel
open it as any workbook.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from xml.sax.saxutils import escape

from pipeline.zipfiles import pack_member, zip_bytes

#: Characters XML 1.0 cannot hold (what openpyxl refuses as illegal); dropped from text.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MAX_TEXT = 32767  # what a cell holds
_EPOCH = date(1899, 12, 30).toordinal()
TEXT, DATE, NUMBER, DATETIME = "text", "date", "number", "datetime"
_HEADER, _DATE, _NUMBER, _DATETIME = 1, 2, 3, 4  # cell styles (``_STYLES``)


@dataclass(frozen=True)
class Column:
    title: str
    width: float = 13
    kind: str = TEXT  # TEXT, DATE (an ISO date or date-time, its day kept), DATETIME (its day and minute) or NUMBER


@dataclass(frozen=True)
class Table:
    name: str  # the sheet's name (at most 31 characters, none of []:*?/\)
    columns: Sequence[Column]
    rows: Sequence[Sequence[object]]


def column_letter(n: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text(ref: str, value: object, style: int = 0) -> str:
    text = _ILLEGAL.sub("", str(value))[:MAX_TEXT]
    space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
    styled = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{styled} t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


def _cell(ref: str, kind: str, value: object) -> str:
    if value is None or value == "":
        return ""
    if kind == DATE:
        try:
            day = date.fromisoformat(str(value)[:10])
        except ValueError:
            return _text(ref, value)
        return f'<c r="{ref}" s="{_DATE}"><v>{day.toordinal() - _EPOCH}</v></c>'
    if kind == DATETIME:  # the wall time as recorded (its offset is the recording machine's zone)
        try:
            when = datetime.fromisoformat(str(value))
        except ValueError:
            return _text(ref, value)
        serial = when.toordinal() - _EPOCH + (when.hour * 3600 + when.minute * 60 + when.second) / 86400
        return f'<c r="{ref}" s="{_DATETIME}"><v>{serial:.10f}</v></c>'
    if kind == NUMBER:
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError):
            return _text(ref, value)
        if number.is_finite():
            return f'<c r="{ref}" s="{_NUMBER}"><v>{number.normalize():f}</v></c>'
        return _text(ref, value)
    return _text(ref, value)


def _quoted(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


_SELECTED = ' tabSelected="1"'


def _sheet(table: Table, first: bool) -> str:
    letters = [column_letter(i) for i in range(1, len(table.columns) + 1)]
    last = f"{letters[-1]}{len(table.rows) + 1}"
    parts = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
        f'<dimension ref="A1:{last}"/>'
        f'<sheetViews><sheetView{_SELECTED if first else ""} workbookViewId="0">'
        '<pane xSplit="1" ySplit="1" topLeftCell="B2" activePane="bottomRight" state="frozen"/>'
        '<selection pane="topRight"/><selection pane="bottomLeft"/><selection pane="bottomRight"/>'
        '</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/><cols>',
        *(f'<col min="{i}" max="{i}" width="{c.width:g}" customWidth="1"/>' for i, c in enumerate(table.columns, 1)),
        '</cols><sheetData><row r="1">',
        *(_text(f"{letter}1", c.title, _HEADER) for letter, c in zip(letters, table.columns, strict=True)),
        "</row>",
    ]
    kinds = [c.kind for c in table.columns]
    for r, row in enumerate(table.rows, 2):
        cells = "".join(_cell(f"{letter}{r}", kind, value)
                        for letter, kind, value in zip(letters, kinds, row, strict=True))
        parts.append(f'<row r="{r}">{cells}</row>')
    parts.append(f'</sheetData><autoFilter ref="A1:{last}"/>'
                 '<pageMargins left="0.5" right="0.5" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
                 '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/></worksheet>')
    return "".join(parts)


_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="3"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/><numFmt numFmtId="165" formatCode="0.##"/>'
    '<numFmt numFmtId="166" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FF{fill}"/><bgColor indexed="64"/></patternFill></fill>'
    '</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" applyAlignment="1">'
    '<alignment vertical="center" wrapText="1"/></xf>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)


def tables_xlsx(tables: Iterable[Table], *, header_fill: str = "DDEBF7") -> bytes:
    """The workbook of ``tables``, a sheet each, as the bytes of an .xlsx."""
    tables = list(tables)
    n = len(tables)
    sheets = "".join(f'<sheet name="{escape(t.name, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
                     for i, t in enumerate(tables, 1))
    names = []
    for i, t in enumerate(tables):
        end = f"${column_letter(len(t.columns))}${len(t.rows) + 1}"
        names.append(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
                     f'{escape(_quoted(t.name))}!$A$1:{end}</definedName>')
        names.append(f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">{escape(_quoted(t.name))}!$1:$1'
                     '</definedName>')
    workbook = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                f'<bookViews><workbookView activeTab="0"/></bookViews><sheets>{sheets}</sheets>'
                f'<definedNames>{"".join(names)}</definedNames></workbook>')
    sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    types = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/xl/workbook.xml" '
             'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
             + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{sheet_type}"/>'
                       for i in range(1, n + 1))
             + '<Override PartName="/xl/styles.xml" '
             'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>')
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    root_rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                 '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    book_rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                 '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 + "".join(f'<Relationship Id="rId{i}" Type="{rel}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                           for i in range(1, n + 1))
                 + f'<Relationship Id="rId{n + 1}" Type="{rel}/styles" Target="styles.xml"/></Relationships>')
    members = [("[Content_Types].xml", types), ("_rels/.rels", root_rels), ("xl/workbook.xml", workbook),
               ("xl/_rels/workbook.xml.rels", book_rels), ("xl/styles.xml", _STYLES.replace("{fill}", header_fill)),
               *((f"xl/worksheets/sheet{i}.xml", _sheet(t, i == 1)) for i, t in enumerate(tables, 1))]
    stamp = datetime.now().timetuple()[:6]
    return zip_bytes([pack_member(zipfile.ZipInfo(name, stamp), text.encode("utf-8"), 1) for name, text in members])
