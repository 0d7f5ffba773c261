"""A standard definition as an Excel workbook, for scheme managers who author in Excel
(``certpipe standards export | import``): one sheet each for the standard's fields, parts, the
indicator tree, levels, bands, rules, errata and provenance, with dropdowns and number checks.

``write_book`` writes one from a ``Standard``; ``read_book`` reads one back into definition data
(what a YAML file holds) and, for every YAML path, the ``sheet!cell`` it came from, so that the
definition checker's findings are reported by cell. What cannot even be read (a parent code that does
not exist, a yes/no cell saying something else) is reported by cell here."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from pipeline.atomic import save_workbook
from pipeline.core.standard import Indicator, Standard
from pipeline.errors import CertpipeError
from pipeline.excel.style import BOLD, HEADER_FILL, HEADER_FONT, WRAP
from pipeline.excel.values import parse_number, text_of
from pipeline.i18n import Message, t

Loc = tuple[str | int, ...]

# sheet id → its columns (each a YAML-ish field name; the header shows the catalogue's words for it)
FIELDS = ("key", "code", "edition", "title.zh", "title.en", "status.state", "status.reason.zh", "status.reason.en",
          "source", "max", "input.mode", "input.step")
RULES = ("renormalise_not_applicable", "special_deductions.points", "special_deductions.blocks_at",
         "special_deductions.max_count", "special_deductions.label.zh", "special_deductions.label.en",
         "special_bonus.points", "special_bonus.max_count", "special_bonus.label.zh", "special_bonus.label.en")
COLUMNS = {
    "parts": ("key", "title.zh", "title.en", "max"),
    "indicators": ("part", "code", "parent", "title.zh", "title.en", "max", "na_allowed", "requirement.zh",
                   "requirement.en", "guidance.zh", "guidance.en"),
    "levels": ("scope", "key", "label.zh", "label.en", "min", "stars"),
    "bands": ("low", "high", "description.zh", "description.en"),
    "errata": ("where", "says", "reading"),
    "provenance": ("path", "kind", "text.zh", "text.en", "what.zh", "what.en"),
}
SHEETS = ("standard", "parts", "indicators", "levels", "bands", "rules", "errata", "provenance")
_NUMBERS = {"max", "min", "low", "high", "input.step", "special_deductions.points", "special_bonus.points"}
_COUNTS = {"stars", "special_deductions.blocks_at", "special_deductions.max_count", "special_bonus.max_count"}
_WIDE = {"requirement.zh", "requirement.en", "guidance.zh", "guidance.en", "description.zh", "description.en",
         "text.zh", "text.en", "reading", "says"}
#: the most rows a sheet of a definition may have (a standard has some hundred indicators at most)
MAX_ROWS = 5000
#: the largest definition workbook read (a built-in one is about 30 KB)
MAX_BYTES = 20 * 1048576


def sheet_name(sheet: str, lang: str) -> str:
    return t(f"book.sheet.{sheet}", lang)


def _col(i: int) -> str:
    return chr(ord("A") + i)


def _cell_value(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _get(data: dict, dotted: str) -> object:
    node: object = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


# ---- writing --------------------------------------------------------------------------------------

def write_book(std: Standard, path: Path, *, lang: str = "zh") -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    data = std.model_dump(mode="python", exclude_unset=False)
    _field_sheet(wb, "standard", FIELDS, data, lang,
                 {"status.state": ("official", "provisional"), "input.mode": ("points", "percent")})
    rules = data.get("rules") or {}
    _field_sheet(wb, "rules", RULES, rules, lang, {"renormalise_not_applicable": ("true", "false")})
    parts = [{"key": p["key"], "title": p["title"], "max": p["max"]} for p in data["parts"]]
    _table(wb, "parts", parts, lang)
    rows = [row for i, part in enumerate(std.parts) for ind in part.indicators for row in _tree(part.key, ind, "")]
    _table(wb, "indicators", rows, lang, choices={"na_allowed": (t("book.yes", lang), t("book.no", lang))},
           part_list=len(parts))
    levels = [{"scope": "", **lv} for lv in data["levels"]]
    levels += [{"scope": p["key"], **lv} for p in data["parts"] for lv in p.get("levels") or ()]
    _table(wb, "levels", levels, lang, part_list=len(parts))
    _table(wb, "bands", list(data["input"].get("bands") or ()), lang)
    _table(wb, "errata", list(data.get("errata") or ()), lang)
    prov = []
    for pattern, origin in (std.provenance or {}).items():
        kind = origin.kind
        text = getattr(origin, kind)
        prov.append({"path": pattern, "kind": kind, "text": {"zh": text.zh, "en": text.en},
                     "what": {"zh": origin.what.zh, "en": origin.what.en} if origin.what else {}})
    _table(wb, "provenance", prov, lang, choices={"kind": ("given", "inferred", "placeholder")})
    return save_workbook(wb, path)


def _tree(part: str, ind: Indicator, parent: str) -> Iterator[dict]:
    yield {"part": part, "code": ind.code, "parent": parent, "title": ind.title.model_dump(), "max": ind.max,
           "na_allowed": ind.na_allowed, "requirement": ind.requirement.model_dump(),
           "guidance": ind.guidance.model_dump()}
    for child in ind.children:
        yield from _tree(part, child, ind.code)


def _header(ws: Worksheet, names: tuple[str, ...], sheet: str, lang: str) -> None:
    for i, name in enumerate(names):
        cell = ws[f"{_col(i)}1"]
        cell.value = t(f"book.col.{name.replace('.', '_')}", lang)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        ws.column_dimensions[_col(i)].width = 60 if name in _WIDE else 16
    ws.freeze_panes = "A2"


def _field_sheet(wb: Workbook, sheet: str, names: tuple[str, ...], data: dict, lang: str,
                 choices: dict[str, tuple[str, ...]]) -> None:
    ws = wb.create_sheet(sheet_name(sheet, lang))
    _header(ws, ("field", "value", "meaning"), sheet, lang)
    ws.column_dimensions["B"].width = 50
    ws.column_dimensions["C"].width = 60
    for row, name in enumerate(names, start=2):
        value = _get(data, name)
        if isinstance(value, bool):
            value = "true" if value else "false"
        ws[f"A{row}"].value = name
        ws[f"A{row}"].font = BOLD
        cell = ws[f"B{row}"]
        cell.value = _cell_value(value) if value not in (None, "") else None
        if name not in _NUMBERS and name not in _COUNTS:
            cell.number_format = "@"
        cell.alignment = WRAP
        ws[f"C{row}"].value = t(f"book.field.{name.replace('.', '_')}", lang)
        ws[f"C{row}"].alignment = WRAP
        if name in choices:
            _choice(ws, f"B{row}", choices[name], lang)
        elif name in _NUMBERS:
            _number(ws, f"B{row}", lang)
        elif name in _COUNTS:
            _count(ws, f"B{row}", lang)


def _table(wb: Workbook, sheet: str, rows: list[dict], lang: str, *, choices: dict | None = None,
           part_list: int = 0) -> None:
    ws = wb.create_sheet(sheet_name(sheet, lang))
    names = COLUMNS[sheet]
    _header(ws, names, sheet, lang)
    last = max(len(rows) + 1, 2) + 200  # room to add rows, checked as the ones written
    for r, row in enumerate(rows, start=2):
        for i, name in enumerate(names):
            value = _get(row, name)
            if isinstance(value, bool):
                value = t("book.yes", lang) if value else t("book.no", lang)
            cell = ws[f"{_col(i)}{r}"]
            cell.value = _cell_value(value) if value not in (None, "") else None
            cell.alignment = WRAP
    parts_ref = f"'{sheet_name('parts', lang)}'!$A$2:$A${part_list + 1}" if part_list else None
    for i, name in enumerate(names):
        ref = f"{_col(i)}2:{_col(i)}{last}"
        for r in range(2, last + 1):
            if name not in _NUMBERS and name not in _COUNTS:
                ws[f"{_col(i)}{r}"].number_format = "@"
        if choices and name in choices:
            _choice(ws, ref, choices[name], lang)
        elif name in ("part", "scope") and parts_ref:
            _validation(ws, ref, DataValidation(type="list", formula1=parts_ref, allow_blank=True), lang)
        elif name in _NUMBERS:
            _number(ws, ref, lang)
        elif name in _COUNTS:
            _count(ws, ref, lang)


def _validation(ws: Worksheet, ref: str, dv: DataValidation, lang: str) -> None:
    dv.showErrorMessage = True
    dv.errorTitle = t("book.invalid_title", lang)
    dv.error = t("book.invalid_text", lang)
    ws.add_data_validation(dv)
    dv.add(ref)


def _choice(ws: Worksheet, ref: str, values: tuple[str, ...], lang: str) -> None:
    _validation(ws, ref, DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True), lang)


def _number(ws: Worksheet, ref: str, lang: str) -> None:
    _validation(ws, ref, DataValidation(type="decimal", operator="between", formula1="0", formula2="1000000",
                                        allow_blank=True), lang)


def _count(ws: Worksheet, ref: str, lang: str) -> None:
    _validation(ws, ref, DataValidation(type="whole", operator="between", formula1="0", formula2="1000000",
                                        allow_blank=True), lang)


# ---- reading --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BookProblem:
    """A finding in a definition workbook, at ``sheet!cell``."""

    sheet: str
    cell: str
    message: Message

    def format(self, lang: str = "zh") -> str:
        hint = self.message.hint(lang)
        return f"{self.sheet}!{self.cell}: {self.message.render(lang)}" + (f" — {hint}" if hint else "")


@dataclass
class Book:
    """Definition data read from a workbook, where each YAML path came from, and what could not be read."""

    data: dict = field(default_factory=dict)
    cells: dict[Loc, tuple[str, str]] = field(default_factory=dict)
    problems: list[BookProblem] = field(default_factory=list)

    def where(self, loc: Loc) -> tuple[str, str] | None:
        """The cell a YAML path came from: the nearest one above it when the path itself has none."""
        while loc not in self.cells and loc:
            loc = loc[:-1]
        return self.cells.get(loc)


def _sheets(wb, lang_names: dict[str, set[str]]) -> dict[str, Worksheet]:
    found = {}
    for ws in wb.worksheets:
        for sheet, names in lang_names.items():
            if ws.title in names:
                found[sheet] = ws
    return found


def _value(raw: object, name: str) -> object:
    """A cell as definition data: numbers exact, yes/no as booleans, text stripped."""
    if raw is None:
        return None
    if name in _NUMBERS or name in _COUNTS:
        number, _ = parse_number(raw)
        if number is None:
            return text_of(raw)  # the checker says what is wrong with it, at this cell
        return int(number) if name in _COUNTS and number == number.to_integral_value() else number
    if isinstance(raw, bool):
        return raw
    text = text_of(raw)
    return text if text != "" else None


_YES = {"是", "yes", "true", "y", "1", "√", "✓"}
_NO = {"否", "no", "false", "n", "0", ""}


def _flag(raw: object, sheet: str, ref: str, book: Book) -> bool | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        return raw
    text = text_of(raw).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    book.problems.append(BookProblem(sheet, ref, Message("book.not_yes_no", {"value": text_of(raw)[:40]})))
    return None


def _put(target: dict, dotted: str, value: object) -> None:
    parts = dotted.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


def read_book(path: Path) -> Book:
    """The definition data of a workbook written by ``write_book`` (and edited in Excel)."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise CertpipeError("book.too_large", {"path": path, "mb": MAX_BYTES // 1048576})
        wb = load_workbook(path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, InvalidFileException) as exc:
        raise CertpipeError("book.unreadable", {"path": path}) from exc
    try:
        names = {sheet: {sheet_name(sheet, lang) for lang in ("zh", "en")} for sheet in SHEETS}
        sheets = _sheets(wb, names)
        book = Book()
        missing = [s for s in SHEETS if s not in sheets and s not in ("errata", "provenance", "rules", "bands")]
        for sheet in missing:
            book.problems.append(BookProblem(sheet_name(sheet, "zh"), "A1", Message("book.sheet_missing", {
                "sheet": sheet_name(sheet, "zh")})))
        if missing:
            return book
        grids = {sheet: _grid(ws) for sheet, ws in sheets.items()}
        titles = {sheet: ws.title for sheet, ws in sheets.items()}
        _read_fields(book, grids["standard"], titles["standard"], FIELDS, ())
        if "rules" in grids:
            _read_fields(book, grids["rules"], titles["rules"], RULES, ("rules",))
            _drop_empty_rules(book)
        _read_parts(book, grids["parts"], titles["parts"])
        _read_indicators(book, grids["indicators"], titles["indicators"])
        _read_levels(book, grids["levels"], titles["levels"])
        if "bands" in grids:
            _read_rows(book, grids["bands"], titles["bands"], "bands", ("input", "bands"))
        if "errata" in grids:
            _read_rows(book, grids["errata"], titles["errata"], "errata", ("errata",))
        if "provenance" in grids:
            _read_provenance(book, grids["provenance"], titles["provenance"])
        return book
    finally:
        wb.close()


def _grid(ws) -> list[tuple[int, tuple]]:
    """The sheet's rows after the header that hold anything, with their row numbers."""
    out = []
    for number, row in enumerate(ws.iter_rows(min_row=2, max_row=MAX_ROWS + 1, values_only=True), start=2):
        if any(v is not None and text_of(v) != "" for v in row):
            out.append((number, tuple(row)))
    return out


def _at(row: tuple, i: int) -> object:
    return row[i] if i < len(row) else None


def _read_fields(book: Book, grid, sheet: str, names: tuple[str, ...], prefix: Loc) -> None:
    target = book.data
    for part in prefix:
        target = target.setdefault(part, {})
    for number, row in grid:
        name = text_of(_at(row, 0)).strip()
        if name not in names:
            book.problems.append(BookProblem(sheet, f"A{number}", Message("book.unknown_field", {"name": name})))
            continue
        raw = _at(row, 1)
        book.cells[(*prefix, *name.split("."))] = (sheet, f"B{number}")
        value = _flag(raw, sheet, f"B{number}", book) if name == "renormalise_not_applicable" else _value(raw, name)
        if value is None:
            if name == "edition":
                value = ""
            else:
                continue
        _put(target, name, value)


def _drop_empty_rules(book: Book) -> None:
    rules = book.data.get("rules", {})
    for name in ("special_deductions", "special_bonus"):
        if name in rules and not rules[name]:
            del rules[name]
    if not rules:
        book.data.pop("rules", None)


def _row_dict(book: Book, sheet: str, number: int, row: tuple, names: tuple[str, ...], loc: Loc,
              skip: tuple[str, ...] = ()) -> dict:
    out: dict = {}
    for i, name in enumerate(names):
        if name in skip:
            continue
        book.cells[(*loc, *name.split("."))] = (sheet, f"{_col(i)}{number}")  # empty too: a missing text
        value = _value(_at(row, i), name)
        if value is None:
            continue
        _put(out, name, value)
    book.cells.setdefault(loc, (sheet, f"A{number}"))
    return out


def _read_parts(book: Book, grid, sheet: str) -> None:
    parts = book.data.setdefault("parts", [])
    for number, row in grid:
        loc = ("parts", len(parts))
        parts.append(_row_dict(book, sheet, number, row, COLUMNS["parts"], loc) | {"indicators": []})
        book.cells[(*loc, "indicators")] = (sheet, f"A{number}")


def _part_index(book: Book, key: str) -> int | None:
    return next((i for i, p in enumerate(book.data["parts"]) if p.get("key") == key), None)


def _read_indicators(book: Book, grid, sheet: str) -> None:
    names = COLUMNS["indicators"]
    found: dict[tuple[str, str], tuple[dict, Loc]] = {}
    for number, row in grid:
        part_key = text_of(_at(row, 0)).strip()
        code = text_of(_at(row, 1)).strip()
        parent = text_of(_at(row, 2)).strip()
        p = _part_index(book, part_key)
        if p is None:
            book.problems.append(BookProblem(sheet, f"A{number}", Message("book.unknown_part", {"part": part_key})))
            continue
        if parent:
            if (part_key, parent) not in found:
                book.problems.append(BookProblem(sheet, f"C{number}", Message("book.unknown_parent", {
                    "code": code, "parent": parent})))
                continue
            holder, holder_loc = found[(part_key, parent)]
            siblings = holder.setdefault("children", [])
            loc: Loc = (*holder_loc, "children", len(siblings))
        else:
            siblings = book.data["parts"][p]["indicators"]
            loc = ("parts", p, "indicators", len(siblings))
        entry = _row_dict(book, sheet, number, row, names, loc, skip=("part", "parent", "na_allowed"))
        flag = _flag(_at(row, names.index("na_allowed")), sheet, f"G{number}", book)
        if flag:
            entry["na_allowed"] = True
            book.cells[(*loc, "na_allowed")] = (sheet, f"G{number}")
        siblings.append(entry)
        found.setdefault((part_key, code), (entry, loc))


def _read_levels(book: Book, grid, sheet: str) -> None:
    names = COLUMNS["levels"]
    book.data.setdefault("levels", [])
    for number, row in grid:
        scope = text_of(_at(row, 0)).strip()
        if scope:
            p = _part_index(book, scope)
            if p is None:
                book.problems.append(BookProblem(sheet, f"A{number}", Message("book.unknown_part", {"part": scope})))
                continue
            holder, prefix = book.data["parts"][p].setdefault("levels", []), ("parts", p, "levels")
        else:
            holder, prefix = book.data["levels"], ("levels",)
        holder.append(_row_dict(book, sheet, number, row, names, (*prefix, len(holder)), skip=("scope",)))


def _read_rows(book: Book, grid, sheet: str, kind: str, loc: Loc) -> None:
    target = book.data
    for part in loc[:-1]:
        target = target.setdefault(part, {})
    rows = target.setdefault(loc[-1], [])
    for number, row in grid:
        rows.append(_row_dict(book, sheet, number, row, COLUMNS[kind], (*loc, len(rows))))


def _read_provenance(book: Book, grid, sheet: str) -> None:
    prov = book.data.setdefault("provenance", {})
    for number, row in grid:
        pattern = text_of(_at(row, 0)).strip()
        kind = text_of(_at(row, 1)).strip()
        if kind not in ("given", "inferred", "placeholder"):
            book.problems.append(BookProblem(sheet, f"B{number}", Message("book.bad_kind", {"value": kind})))
            continue
        entry: dict = {kind: {"zh": text_of(_at(row, 2)), "en": text_of(_at(row, 3))}}
        if text_of(_at(row, 4)) or text_of(_at(row, 5)):
            entry["what"] = {"zh": text_of(_at(row, 4)), "en": text_of(_at(row, 5))}
        prov[pattern] = entry
        book.cells[("provenance", pattern)] = (sheet, f"A{number}")


@dataclass(frozen=True)
class Imported:
    """What ``certpipe standards import`` did: the definition file written (None when there were
    problems), the standard's key and the problems by cell."""

    path: Path | None
    key: str
    problems: list[BookProblem]


@dataclass(frozen=True)
class CheckedBook:
    key: str
    text: str | None
    problems: list[BookProblem]


def check_book(path: Path) -> CheckedBook:
    """A definition workbook read and checked as a YAML file is (the same checker), every finding at
    the cell it came from; the definition's YAML text when there is none."""
    from pipeline.core.definition import definition_text, parse_definition

    book = read_book(path)
    key = str(book.data.get("key") or "")
    if not book.data.get("parts") and book.problems:  # a sheet is missing: nothing more to check
        return CheckedBook(key, None, book.problems)
    text = definition_text(book.data, header=t("book.yaml_header", "zh", name=Path(path).name))
    _, found = parse_definition(text, f"{key or 'definition'}.yaml")
    standard = sheet_name("standard", "zh")
    problems = list(book.problems)  # what could not be read, then what the checker finds in the rest
    for problem in found:
        if problem.message.key == "def.file_key_mismatch":
            continue
        sheet, cell = book.where(problem.loc) or (standard, "B2")
        problems.append(BookProblem(sheet, cell, problem.message))
    return CheckedBook(key, None if problems else text, problems)
