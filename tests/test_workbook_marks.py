"""What the auditor sees in the workbook before certpipe does: one cover layout for every standard,
score cells that will not be accepted marked by conditional formatting (a pasted value outside the
range, text such as ``8分``, a score beside 不适用), the live total saying it is not final, and rows
that grow with their text. Read back with openpyxl, and computed by LibreOffice where it is installed."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.formula.translate import Translator

from pipeline.core.audit import COVER_FIELDS
from pipeline.excel.build import build_workbook
from pipeline.excel.fast import workbook_bytes
from pipeline.excel.names import na_name, note_name, score_name
from pipeline.flow.standards import all_standards, load_standard
from tests.helpers.workbooks import info

STANDARDS = {std.key: std for std in all_standards()}
needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")


def _dest(wb, name):
    (sheet, ref), = list(wb.defined_names[name].destinations)
    return wb[sheet][ref.replace("$", "")]


def _saved_by_libreoffice(path: Path, folder: Path, fmt: str = "xlsx") -> Path:
    folder.mkdir(exist_ok=True)
    profile = folder / "profile"
    subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", fmt,
                    "--outdir", str(folder), str(path)], check=True, capture_output=True, timeout=180)
    return folder / f"{path.stem}.{fmt}"


def _total_row(cover):
    return next(row for row in cover.iter_rows() if str(row[0].value or "").startswith("总分"))


def test_the_cover_has_one_layout_for_every_standard(tmp_path):
    layouts = {}
    for key, std in STANDARDS.items():
        wb = load_workbook(build_workbook(std, info(), tmp_path / f"{key}.xlsx"))
        cover = wb.worksheets[0]
        layouts[key] = {field: _dest(wb, field).coordinate for field in COVER_FIELDS}
        layouts[key]["summary"] = next(c.coordinate for c in cover["A"] if str(c.value or "").startswith("评分汇总"))
        assert (cover["A2"].value or "").startswith("⚠") == std.provisional, key  # the banner's row, kept either way
    assert any(std.provisional for std in STANDARDS.values()) and not all(std.provisional for std in STANDARDS.values())
    assert len({tuple(sorted(layout.items())) for layout in layouts.values()}) == 1, layouts


def test_score_cells_have_their_marks_in_the_fast_and_the_slow_workbook(tmp_path):
    std = load_standard("gbt27922-2011")
    assert workbook_bytes(std, info()) is not None  # the fast way is taken
    for fast in (True, False):
        wb = load_workbook(build_workbook(std, info(), tmp_path / f"{fast}.xlsx", fast=fast))
        cell = _dest(wb, score_name(std.leaves[0].code))
        rules = [(str(cf.sqref), rule) for cf in cell.parent.conditional_formatting for rule in cf.rules]
        assert len(rules) == 1
        sqref, rule = rules[0]
        assert cell.coordinate in sqref.split(":")[0] or sqref.startswith(cell.column_letter)
        assert "ISERROR(VALUE(" in rule.formula[0] and "不适用" not in rule.formula[0]


def _fill_marked(std, src: Path, dest: Path, probes: bool) -> dict[str, int]:
    """Three cells that will not be accepted, one that will; with ``probes``, each row's rule copied
    into a spare column so that LibreOffice computes it. Returns the rows by what they hold."""
    wb = load_workbook(src)
    leaves = [leaf for leaf in std.leaves if not leaf.na_allowed]
    na_leaf = next(leaf for leaf in std.leaves if leaf.na_allowed)
    rows = {}
    for what, leaf, value in (("text", leaves[0], "8分"), ("too high", leaves[1], float(leaves[1].max) + 50),
                              ("negative", leaves[2], -1), ("fine", leaves[3], float(leaves[3].max)),
                              ("beside n/a", na_leaf, 0)):
        cell = _dest(wb, score_name(leaf.code))
        cell.value = value
        rows[what] = cell.row
    _dest(wb, na_name(na_leaf.code)).value = "不适用"
    _dest(wb, note_name(leaves[3].code)).value = "查阅了服务记录。" * 60
    if probes:
        ws = cell.parent
        (cf,) = list(ws.conditional_formatting)
        origin = str(cf.sqref).split(":")[0]
        column = origin.rstrip("0123456789")
        for r in rows.values():
            ws[f"Z{r}"] = Translator("=" + cf.rules[0].formula[0], origin=origin).translate_formula(f"{column}{r}")
    wb.save(dest)
    return rows


@pytest.mark.slow
@needs_soffice
def test_libreoffice_marks_each_cell_that_will_not_be_accepted_and_says_the_total_is_not_final(tmp_path):
    std = load_standard("gbt27922-2011")
    blank = build_workbook(std, info(), tmp_path / "blank.xlsx")
    rows = _fill_marked(std, blank, tmp_path / "filled.xlsx", probes=True)
    computed = load_workbook(_saved_by_libreoffice(tmp_path / "filled.xlsx", tmp_path / "lo"), data_only=True)
    sheet = computed[_dest(load_workbook(blank), score_name(std.leaves[0].code)).parent.title]
    marked = {what: sheet[f"Z{r}"].value for what, r in rows.items()}
    assert marked == {"text": True, "too high": True, "negative": True, "fine": False, "beside n/a": True}
    total = _total_row(computed.worksheets[0])
    assert total[2].value == "⚠ 不是最终结果：4 个分值需更正（已标红）"

    clean = load_workbook(blank)  # nothing marked: nothing said
    _dest(clean, score_name(std.leaves[0].code)).value = 1
    clean.save(tmp_path / "clean.xlsx")
    computed = load_workbook(_saved_by_libreoffice(tmp_path / "clean.xlsx", tmp_path / "lo2"), data_only=True)
    assert _total_row(computed.worksheets[0])[2].value in (None, "")


@pytest.mark.slow
@needs_soffice
def test_indicator_rows_grow_with_their_text(tmp_path):
    std = load_standard("gbt27922-2011")
    path = build_workbook(std, info(), tmp_path / "blank.xlsx")
    wb = load_workbook(path)
    cell = _dest(wb, note_name(std.leaves[0].code))
    with zipfile.ZipFile(path) as zf:  # a first height, not a fixed one
        sheet_xml = zf.read(f"xl/worksheets/sheet{wb.sheetnames.index(cell.parent.title) + 1}.xml").decode()
    assert f'<row r="{cell.row}" ht="' in sheet_xml
    assert f'<row r="{cell.row}" ht="{cell.parent.row_dimensions[cell.row].height:g}" customHeight' not in sheet_xml
    # LibreOffice takes the indicator rows as sized to their text ("optimal height"): they grow with
    # the evidence typed in, where a fixed height cut it off
    ods = _saved_by_libreoffice(path, tmp_path / "lo", "ods")
    content = zipfile.ZipFile(ods).read("content.xml").decode()
    fixed = [part.split('"')[0] for part in content.split('style:use-optimal-row-height="')[1:]]
    assert "true" in fixed
    import re

    sheet = content.split(f'table:name="{cell.parent.title}"')[1].split("</table:table>")[0]
    styles = dict(re.findall(r'<style:style style:name="(ro\d+)" style:family="table-row">'
                             r'<style:table-row-properties [^>]*style:use-optimal-row-height="(\w+)"', content))
    used = re.findall(r'<table:table-row table:style-name="(ro\d+)"(?: table:number-rows-repeated="(\d+)")?', sheet)
    heights = []
    for style, repeated in used:
        heights += [styles[style]] * int(repeated or 1)
    assert heights[cell.row - 1] == "true"
    assert heights[0] == "false"  # the title row keeps its height
