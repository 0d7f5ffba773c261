"""Evidence is not cut off when a workbook is printed: an indicator row grows with the text an auditor
types into its evidence cell.

The auditor is played by LibreOffice: a Basic macro opens the workbook, types several lines of Chinese
into an evidence cell (as a person does: the application sizes a row that is not fixed to its text)
and saves it. LibreOffice headless then prints it to PDF and the PDF's text is read back (pdftotext):
every character of the evidence must be on the page. (LibreOffice never sizes a row when it opens an
.xlsx, so text put into the file without an application in between would be cut off whatever the
workbook says; a row the workbook fixes at a height stays cut off even when typed into.)"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline.excel.build import build_workbook
from pipeline.excel.fast import workbook_bytes
from pipeline.excel.names import note_name
from pipeline.flow.standards import load_standard
from tests.helpers.workbooks import info

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                       reason="needs LibreOffice (soffice) and poppler (pdftotext)"),
]

#: Several lines of evidence, each its own sentence, each longer than the evidence column is wide.
EVIDENCE = [
    "一、查阅了组织近三年的顾客满意度调查报告，抽样核对了二〇二五年第三季度的回访记录共四十二份。",
    "二、现场观察了服务大厅的排队叫号与投诉受理流程，受理人员能够按作业指导书说明处理时限和升级途径。",
    "三、访谈了客服主管和两名一线员工，确认培训记录与岗位说明书一致，新员工上岗前均经过考核。",
    "四、核对了服务承诺公示内容与实际执行情况，发现节假日值班表未在公告栏更新，已当场提醒整改。",
    "五、抽查了十五条投诉记录的闭环情况，平均处理周期为三点二个工作日，满足组织承诺的五日以内。",
    "六、结论：该项要求基本满足，建议在下次监督审核时重点跟踪值班公示与回访覆盖率两项改进措施。",
]

#: ``Standard.Module1.TypeIn(job)``: the job file's lines are the workbook, where to save it, the sheet,
#: the cell and the text (the rest of the file). ``setString`` is what typing into the cell does.
MACRO = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1" script:language="StarBasic">
Sub TypeIn(job As String)
    Dim text As Object
    text = createUnoService(&quot;com.sun.star.io.TextInputStream&quot;)
    text.setInputStream(createUnoService(&quot;com.sun.star.ucb.SimpleFileAccess&quot;).openFileRead(ConvertToURL(job)))
    text.setEncoding(&quot;UTF-8&quot;)
    Dim src As String, dest As String, sheet As String, cell As String, value As String
    src = text.readLine()
    dest = text.readLine()
    sheet = text.readLine()
    cell = text.readLine()
    value = text.readLine()
    Do While Not text.isEOF()
        value = value &amp; Chr(10) &amp; text.readLine()
    Loop
    text.closeInput()
    Dim hidden(0) As New com.sun.star.beans.PropertyValue
    hidden(0).Name = &quot;Hidden&quot;
    hidden(0).Value = True
    Dim doc As Object
    doc = StarDesktop.loadComponentFromURL(ConvertToURL(src), &quot;_blank&quot;, 0, hidden())
    doc.Sheets.getByName(sheet).getCellRangeByName(cell).setString(value)
    Dim xlsx(0) As New com.sun.star.beans.PropertyValue
    xlsx(0).Name = &quot;FilterName&quot;
    xlsx(0).Value = &quot;Calc MS Excel 2007 XML&quot;
    doc.storeToURL(ConvertToURL(dest), xlsx())
    doc.close(True)
End Sub
</script:module>
"""


@pytest.fixture(scope="module")
def office(tmp_path_factory) -> Path:
    """A LibreOffice profile of its own, with the typing macro in its Standard library."""
    profile = tmp_path_factory.mktemp("office")
    subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--terminate_after_init"],
                   check=True, capture_output=True, timeout=300)
    module = profile / "user" / "basic" / "Standard" / "Module1.xba"
    assert module.is_file(), list(profile.rglob("*"))
    module.write_text(MACRO, encoding="utf-8")
    return profile


def _soffice(office: Path, *args: str) -> None:
    subprocess.run(["soffice", f"-env:UserInstallation={office.as_uri()}", "--headless", *args],
                   check=True, capture_output=True, timeout=300)


def type_into(office: Path, path: Path, dest: Path, name: str, lines: list[str]) -> None:
    """The cell the defined name ``name`` points at, typed into in LibreOffice, saved as ``dest``."""
    (sheet, ref), = list(load_workbook(path).defined_names[name].destinations)
    job = dest.with_suffix(".job")
    job.write_text("\n".join([str(path), str(dest), sheet, ref.replace("$", ""), *lines]) + "\n", encoding="utf-8")
    _soffice(office, f'macro:///Standard.Module1.TypeIn("{job}")')
    assert dest.is_file()


def printed(office: Path, path: Path) -> str:
    """The text of ``path`` printed to PDF by LibreOffice, without spaces and line breaks."""
    folder = path.parent / f"{path.stem}-pdf"
    _soffice(office, "--convert-to", "pdf", "--outdir", str(folder), str(path))
    text = subprocess.run(["pdftotext", str(folder / f"{path.stem}.pdf"), "-"], check=True, capture_output=True,
                          text=True, timeout=60).stdout
    return re.sub(r"\s+", "", text)


def _cut_off(text: str) -> list[str]:
    """The evidence lines not printed whole (a row that kept its first height shows the first line's start)."""
    assert EVIDENCE[0][:8] in text  # the evidence is on the page at all
    return [line for line in EVIDENCE if line not in text]


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "openpyxl"])
def test_long_evidence_is_printed_whole(tmp_path: Path, office: Path, fast: bool):
    std = load_standard("gbt27922-2011")
    if fast:
        assert workbook_bytes(std, info()) is not None  # the fast way is taken
    blank = build_workbook(std, info(), tmp_path / "blank.xlsx", fast=fast)
    filled = tmp_path / "filled.xlsx"
    type_into(office, blank, filled, note_name(std.leaves[0].code), EVIDENCE)
    assert _cut_off(printed(office, filled)) == []


def test_a_row_fixed_at_a_height_is_cut_off(tmp_path: Path, office: Path):
    """The test above can fail: the same workbook with its rows' heights fixed (what openpyxl writes
    for every row with a height when it saves a workbook) prints the evidence cut off."""
    std = load_standard("gbt27922-2011")
    blank = build_workbook(std, info(), tmp_path / "blank.xlsx")
    wb = load_workbook(blank)
    wb.save(tmp_path / "fixed.xlsx")
    filled = tmp_path / "filled.xlsx"
    type_into(office, tmp_path / "fixed.xlsx", filled, note_name(std.leaves[0].code), EVIDENCE)
    assert len(_cut_off(printed(office, filled))) >= len(EVIDENCE) - 1


def test_long_evidence_is_printed_whole_in_a_surveillance_workbook(tmp_path: Path, office: Path):
    """A surveillance workbook shows the previous audit's entries in a column certpipe adds to the
    generated workbook: its rows still grow."""
    from decimal import Decimal

    from pipeline.excel.previous import add_previous

    std = load_standard("gbt27922-2011")
    blank = build_workbook(std, info(), tmp_path / "blank.xlsx")
    assert add_previous(blank, {leaf.code: Decimal(1) for leaf in std.leaves}, frozenset(), "T-2024-001") > 0
    filled = tmp_path / "filled.xlsx"
    type_into(office, blank, filled, note_name(std.leaves[0].code), EVIDENCE)
    assert _cut_off(printed(office, filled)) == []


@pytest.mark.parametrize("made_by", ["marked copy", "filled sample"])
def test_long_evidence_is_printed_whole_in_a_marked_copy_and_a_filled_sample(tmp_path: Path, office: Path,
                                                                            made_by: str):
    """The marked copy of a rejection (what the auditor corrects and prints) and a workbook filled by
    certpipe (the demo's samples) are saved through openpyxl too: their rows still grow."""
    from pipeline.excel.annotate import annotate
    from pipeline.excel.checks import Problem
    from pipeline.excel.fill import fill_workbook

    std = load_standard("gbt27922-2011")
    blank = build_workbook(std, info(), tmp_path / "blank.xlsx")
    made = tmp_path / "made.xlsx"
    if made_by == "marked copy":
        (sheet, ref), = list(load_workbook(blank).defined_names["org_name"].destinations)
        problem = Problem("val.cover_required", {"label": "受审核组织名称"}, sheet=sheet, cell=ref.replace("$", ""))
        annotate(blank, [problem], made)
    else:
        fill_workbook(blank, made, {"org_name": "示例组织有限公司"})
    filled = tmp_path / "filled.xlsx"
    type_into(office, made, filled, note_name(std.leaves[0].code), EVIDENCE)
    assert _cut_off(printed(office, filled)) == []
