"""Read a filled scoring workbook: cells only, no judgement.

Values come from python-calamine (fast, and it reads what the cell holds); the workbook's defined
names and the sheet files' formula markers are read straight from the zip, so an input cell holding a
formula is recognised and its cached result never taken. A name that was lost (deleted, ``#REF!``)
falls back to the indicator's row, found by its code in the code column.

Refuses, before inflating anything, a file or a zip member above the size limits (central directory
sizes); a member whose deflate stream could inflate beyond the limit is inflated once, bounded, to
prove its declared size is true (a lying header is how zip bombs pass size checks); a sheet whose
used range would be a grid of more than ``MAX_GRID_CELLS`` (one cell typed at XFD1048576 makes a
17-billion-cell range that python-calamine tries to allocate) is refused before calamine reads it.
An unreadable file raises ``WorkbookError`` (a catalogue key and its parameters)."""

from __future__ import annotations

import errno
import html
import io
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import python_calamine

from pipeline.config import Limits
from pipeline.errors import WorkbookError
from pipeline.excel.names import LISTS_SHEET, META_SHEET, decode_columns, na_name, note_name, score_name
from pipeline.excel.values import text_of

_LIMITS = Limits()
_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED = "EncryptionInfo".encode("utf-16-le")
_CELL = re.compile(r"^\$?([A-Z]{1,3})\$?([0-9]{1,7})$")
# A cell holding a formula: ``<c r="E6" s="3"><f>10+10</f><v>20</v></c>`` (``r`` is the only attribute
# ending in ``r`` whose value has letters, so the pattern can anchor on it).
_FORMULA_CELL = re.compile(rb' r="([A-Z]{1,3}[0-9]{1,7})"[^>]*>\s*<(?:\w+:)?f[\s>/]')
_CODE = re.compile(r"^[A-Za-z0-9]+(\.[A-Za-z0-9]+)*$")
# Where a sheet's cells and rows say they are: what a reader's grid will span.
_CELL_REF = re.compile(rb"<(?:\w+:)?c\b[^>]*?\sr=\"([A-Z]{1,3})([0-9]{1,7})\"")
_ROW_REF = re.compile(rb"<(?:\w+:)?row\b[^>]*?\sr=\"([0-9]{1,7})\"")
#: Largest grid (rows × columns of the used range) a sheet may span; a scoring sheet spans ~1,000.
MAX_GRID_CELLS = 1_000_000
#: Deflate inflates at most ~1032:1; a member whose compressed size could exceed the limit is checked.
_DEFLATE_RATIO = 1032
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")


@dataclass(frozen=True)
class CellValue:
    """One cell as the file holds it. ``value`` is None for an empty cell; ``formula`` tells that the
    cell holds a formula (its value is then a cached result, not to be trusted)."""

    sheet: str | None
    ref: str | None
    value: object = None
    formula: bool = False
    fallback: bool = False  # found through the code column: the defined name was lost


@dataclass(frozen=True)
class CodeRow:
    """A row of a scoring sheet whose code column holds an indicator code."""

    sheet: str
    row: int
    max: CellValue


@dataclass(frozen=True)
class FilledWorkbook:
    path: Path
    meta: Mapping[str, str]
    has_meta: bool
    cells: Mapping[str, CellValue]
    rows: Mapping[str, tuple[CodeRow, ...]]
    columns: Mapping[str, str]
    sheet_names: tuple[str, ...]
    lost_names: frozenset[str] = field(default_factory=frozenset)

    def cell(self, name: str) -> CellValue | None:
        return self.cells.get(name)


def _fail(key: str, *, sheet: str | None = None, cell: str | None = None, **params: object) -> WorkbookError:
    return WorkbookError(f"intake.{key}", {"sheet": sheet, "cell": cell, **params}, sheet=sheet, cell=cell)


def _check_members(data: bytes, zf: zipfile.ZipFile, limit: float) -> None:
    """Every member within ``limit`` bytes inflated, by its header and, where the header could lie
    about more than the limit, by inflating it (bounded by its declared size) once."""
    for info in zf.infolist():
        if info.file_size > limit:
            raise _fail("member_too_large", member=info.filename,
                        size=f"{info.file_size / 1048576:.1f}", limit=f"{limit / 1048576:g}")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _fail("damaged", detail=f"{info.filename}: compression {info.compress_type}")
        if (info.compress_type == zipfile.ZIP_DEFLATED and info.compress_size * _DEFLATE_RATIO > limit
                and not _true_size(data, info)):
            raise _fail("damaged", detail=f"{info.filename}: size")


def _true_size(data: bytes, info: zipfile.ZipInfo) -> bool:
    """Whether the member's deflate stream inflates to exactly its declared size (never more is made)."""
    head = data[info.header_offset:info.header_offset + _LOCAL_HEADER.size]
    if len(head) < _LOCAL_HEADER.size or head[:4] != b"PK\x03\x04":
        return False
    fields = _LOCAL_HEADER.unpack(head)
    start = info.header_offset + _LOCAL_HEADER.size + fields[10] + fields[11]
    inflater = zlib.decompressobj(-15)
    try:
        out = inflater.decompress(data[start:start + info.compress_size], info.file_size + 1)
    except zlib.error:
        return False
    return len(out) == info.file_size and inflater.eof and zlib.crc32(out) == info.CRC


def _unreadable(exc: OSError) -> WorkbookError:
    """Why a file cannot be read, in the user's words (the system's own text is English)."""
    if exc.errno == errno.ENOENT:
        return _fail("missing")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return _fail("no_permission")
    return _fail("unreadable", detail=errno.errorcode.get(exc.errno or 0, type(exc).__name__))


def _open_zip(path: Path, max_file_mb: float, max_member_mb: float) -> tuple[bytes, zipfile.ZipFile]:
    try:
        st = path.stat()
    except OSError as exc:
        raise _unreadable(exc) from exc
    if not stat.S_ISREG(st.st_mode):  # a pipe or a device would be read forever
        raise _fail("not_a_file")
    size = st.st_size
    if size > max_file_mb * 1024 * 1024:
        raise _fail("too_large", size=f"{size / 1048576:.1f}", limit=f"{max_file_mb:g}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _unreadable(exc) from exc
    if not data:
        raise _fail("empty")
    if data.startswith(_CFB):
        raise _fail("encrypted" if _ENCRYPTED in data else "xls")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise _fail("truncated" if data.startswith(b"PK") else "not_workbook") from exc
    _check_members(data, zf, max_member_mb * 1024 * 1024)
    names = set(zf.namelist())
    if "xl/workbook.xml" not in names:
        if "content.xml" in names:
            raise _fail("ods")
        if "word/document.xml" in names:
            raise _fail("docx")
        raise _fail("not_workbook")
    return data, zf


def _read_member(zf: zipfile.ZipFile, name: str) -> bytes:
    try:
        return zf.read(name)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, NotImplementedError) as exc:
        raise _fail("damaged", detail=name) from exc


_SHEET_TAG = re.compile(r"<(?:\w+:)?sheet\s([^>]*?)/?>")
_NAME_TAG = re.compile(r"<(?:\w+:)?definedName\s([^>]*)>([^<]*)</(?:\w+:)?definedName>")
_REL_TAG = re.compile(r"<(?:\w+:)?Relationship\s([^>]*?)/?>")
_NAME_ATTR = re.compile(r'(?:^|\s)name="([^"]*)"')
_ATTR = re.compile(r'([\w:]+)="([^"]*)"')


def _unescape(text: str) -> str:
    return html.unescape(text) if "&" in text else text


def _attrs(text: str) -> dict[str, str]:
    """Attributes by local name (``r:id`` → ``id``), unescaped."""
    return {key.rsplit(":", 1)[-1]: _unescape(value) for key, value in _ATTR.findall(text)}


def _workbook_parts(zf: zipfile.ZipFile) -> tuple[dict[str, str], dict[str, str]]:
    """Sheet name → sheet XML path, and defined name → its reference text (``'封面'!$B$4``).
    Regular expressions over the two small XML files: the element shapes are fixed by the format and
    this is several times faster than building a tree."""
    try:
        book = _read_member(zf, "xl/workbook.xml").decode("utf-8")
        rels = _read_member(zf, "xl/_rels/workbook.xml.rels").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail("damaged", detail="xl/workbook.xml") from exc
    targets = {}
    for text in _REL_TAG.findall(rels):
        rel = _attrs(text)
        target = rel.get("Target", "")
        targets[rel.get("Id")] = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
    sheets: dict[str, str] = {}
    for text in _SHEET_TAG.findall(book):
        attrs = _attrs(text)
        sheets[attrs.get("name", "")] = targets.get(attrs.get("id", ""), "")
    names: dict[str, str] = {}
    for text, ref in _NAME_TAG.findall(book):
        found = _NAME_ATTR.search(text)
        name = _unescape(found.group(1)) if found else ""
        if name.startswith("_xlnm.") or ("localSheetId" in text and name in names):
            continue
        names[name] = _unescape(ref).strip()
    if not sheets:
        raise _fail("damaged", detail="xl/workbook.xml")
    return sheets, names


def _resolve(text: str) -> tuple[str, str] | None:
    """``'封面'!$B$4`` or ``封面!$B$4`` → (``封面``, ``B4``); None for a range, ``#REF!`` and the like."""
    text = text.lstrip("=")
    sheet, bang, ref = text.rpartition("!")
    if not bang or not sheet:
        return None
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    m = _CELL.match(ref)
    return (sheet, f"{m.group(1)}{m.group(2)}") if m else None


def _split(ref: str) -> tuple[int, int]:
    m = _CELL.match(ref)
    assert m is not None
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)) - 1, col - 1


def _column(letters: bytes) -> int:
    col = 0
    for ch in letters:
        col = col * 26 + ch - 64
    return col


class _Reader:
    def __init__(self, data: bytes, zf: zipfile.ZipFile, sheets: dict[str, str]) -> None:
        self.zf, self.sheets = zf, sheets
        try:
            self.book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        except Exception as exc:  # calamine raises its own types for every kind of damage
            raise _fail("damaged", detail=type(exc).__name__) from exc
        self.grids: dict[str, list[list]] = {}
        self.formulas: dict[str, set[str]] = {}
        self._xml: dict[str, bytes] = {}

    def xml(self, sheet: str) -> bytes:
        if sheet not in self._xml:
            member = self.sheets.get(sheet)
            self._xml[sheet] = _read_member(self.zf, member) if member else b""
        return self._xml[sheet]

    def _check_extent(self, sheet: str, xml: bytes) -> None:
        """Refuse a sheet whose used range is too large a grid, naming its farthest cell."""
        refs = _CELL_REF.findall(xml)
        rows = max((int(r) for r in {*_ROW_REF.findall(xml), *(row for _, row in refs)}), default=0)
        cols = max((_column(letters) for letters in {letters for letters, _ in refs}), default=0)
        if rows * max(cols, 1) <= MAX_GRID_CELLS:
            return
        far, area = None, 0
        for letters, row in refs:
            if int(row) * _column(letters) > area:
                far, area = letters.decode() + row.decode(), int(row) * _column(letters)
        raise _fail("sheet_too_large", sheet=sheet, cell=far if area > 1 else f"A{rows}",
                    rows=rows, cols=cols, limit=f"{MAX_GRID_CELLS:,}")

    def grid(self, sheet: str) -> list[list]:
        if sheet not in self.grids:
            self._check_extent(sheet, self.xml(sheet))
            try:
                self.grids[sheet] = self.book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
            except Exception as exc:
                raise _fail("damaged", detail=sheet) from exc
        return self.grids[sheet]

    def formula_cells(self, sheet: str) -> set[str]:
        if sheet not in self.formulas:
            self.formulas[sheet] = {m.decode() for m in _FORMULA_CELL.findall(self.xml(sheet))}
        return self.formulas[sheet]

    def value(self, sheet: str, row: int, col: int) -> object:
        grid = self.grid(sheet)
        if row < 0 or col < 0 or row >= len(grid) or col >= len(grid[row]):
            return None
        value = grid[row][col]
        return None if value == "" else value

    def cell(self, sheet: str, ref: str, *, fallback: bool = False) -> CellValue:
        row, col = _split(ref)
        return CellValue(sheet, ref, self.value(sheet, row, col), ref in self.formula_cells(sheet), fallback)


def read_workbook(path: Path, *, max_file_mb: float = _LIMITS.max_file_mb,
                  max_member_mb: float = _LIMITS.max_member_mb) -> FilledWorkbook:
    """Read ``path``. Raises ``WorkbookError`` (its key ``intake.*``, with ``sheet``/``cell`` where the
    trouble is in one place) for a file that is no readable workbook."""
    path = Path(path)
    data, zf = _open_zip(path, max_file_mb, max_member_mb)
    with zf:
        sheets, raw_names = _workbook_parts(zf)
        reader = _Reader(data, zf, sheets)
        meta: dict[str, str] = {}
        has_meta = META_SHEET in sheets
        if has_meta:
            for row in reader.grid(META_SHEET):
                if row and text_of(row[0]):
                    meta[text_of(row[0])] = text_of(row[1]) if len(row) > 1 else ""
        cells: dict[str, CellValue] = {}
        lost: set[str] = set()
        for name, text in raw_names.items():
            target = _resolve(text)
            if target is None or target[0] not in sheets:
                lost.add(name)
                continue
            cells[name] = reader.cell(*target)
        columns = decode_columns(meta.get("columns", ""))
        scoring = [s for s in meta.get("sheets", "").split("\t") if s in sheets]
        scoring += sorted({c.sheet for n, c in cells.items() if n.startswith("score_") and c.sheet
                           and c.sheet not in scoring and c.sheet not in (META_SHEET, LISTS_SHEET)})
        rows: dict[str, list[CodeRow]] = {}
        if "code" in columns:
            code_col = _split(columns["code"] + "1")[1]
            first_row = meta.get("first_row", "")
            first = int(first_row) if re.fullmatch(r"[0-9]{1,7}", first_row) else 1  # "²" is a digit too
            for sheet in scoring:
                grid = reader.grid(sheet)
                for r in range(first - 1, len(grid)):
                    code = text_of(grid[r][code_col]) if code_col < len(grid[r]) else ""
                    if code and _CODE.match(code):
                        max_cell = reader.cell(sheet, f"{columns.get('max', 'D')}{r + 1}")
                        rows.setdefault(code, []).append(CodeRow(sheet, r + 1, max_cell))
            for code, found in rows.items():
                if len(found) != 1:
                    continue
                for role, name in (("score", score_name(code)), ("note", note_name(code)), ("na", na_name(code))):
                    if name not in cells and role in columns:
                        cells[name] = reader.cell(found[0].sheet, f"{columns[role]}{found[0].row}", fallback=True)
    return FilledWorkbook(path=path, meta=meta, has_meta=has_meta, cells=cells,
                          rows={k: tuple(v) for k, v in rows.items()}, columns=columns,
                          sheet_names=tuple(sheets), lost_names=frozenset(lost))
