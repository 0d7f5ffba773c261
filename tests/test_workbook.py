"""The generated blank workbook: sheets, defined names, _meta, guidance (validations, protection,
tints), provisional warnings, audit ids — checked by reopening the real .xlsx."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from pipeline.core.audit import COVER_FIELDS, AuditInfo
from pipeline.core.ids import allocate_audit_id, short_code
from pipeline.excel.build import build_workbook
from pipeline.excel.names import FORMAT_VERSION, na_name, note_name, score_name
from pipeline.excel.style import INPUT_FILL
from pipeline.flow.standards import all_standards, load_standard
from tests.helpers.workbooks import info

STANDARDS = {std.key: std for std in all_standards()}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("built")
    return {key: load_workbook(build_workbook(std, info(), folder / f"{key}.xlsx")) for key, std in STANDARDS.items()}


def _dest(wb, name):
    (sheet, ref), = list(wb.defined_names[name].destinations)
    return wb[sheet][ref.replace("$", "")]


@pytest.mark.parametrize("key", sorted(STANDARDS))
def test_every_input_has_its_defined_name_unlocked_and_tinted(built, key):
    std, wb = STANDARDS[key], built[key]
    names = [*COVER_FIELDS, *(score_name(leaf.code) for leaf in std.leaves),
             *(note_name(code) for code in std.indicators),
             *(na_name(code) for code, ind in std.indicators.items() if ind.na_allowed)]
    if std.rules.special_deductions:
        names += ["special_deductions", "special_bonus"]
    for name in names:
        cell = _dest(wb, name)
        if name != "audit_id":
            assert cell.protection.locked is False, name
            assert cell.fill.fgColor.rgb.endswith(INPUT_FILL.fgColor.rgb[-6:]), name
    # scores only on leaves; not-applicable only where allowed
    parents = [code for code, ind in std.indicators.items() if not ind.is_leaf]
    assert all(score_name(code) not in wb.defined_names for code in parents)
    assert all(na_name(code) not in wb.defined_names for code, ind in std.indicators.items() if not ind.na_allowed)
    assert _dest(wb, "org_name").value == "测试电器有限公司"
    assert _dest(wb, "audit_id").value == "T-2025-001"


@pytest.mark.parametrize("key", sorted(STANDARDS))
def test_meta_sheet_is_very_hidden_and_identifies_the_definition(built, key):
    std, wb = STANDARDS[key], built[key]
    meta_ws = wb["_meta"]
    assert meta_ws.sheet_state == "veryHidden"
    meta = {row[0].value: row[1].value for row in meta_ws.iter_rows()}
    assert meta["format_version"] == FORMAT_VERSION
    assert meta["standard_key"] == std.key and (meta["edition"] or "") == std.edition
    assert meta["fingerprint"] == std.fingerprint()
    assert meta["audit_id"] == "T-2025-001" and meta["generated_at"]
    assert meta["sheets"].split("\t") == [p.title.zh[:31] for p in std.parts]


@pytest.mark.parametrize("key", sorted(STANDARDS))
def test_sheets_are_protected_without_password_with_frozen_headers_and_a4(built, key):
    std, wb = STANDARDS[key], built[key]
    for part in std.parts:
        ws = wb[part.title.zh[:31]]
        assert ws.protection.sheet and not ws.protection.password
        assert ws.freeze_panes == "C4"
        assert int(ws.page_setup.paperSize) == 9 and ws.page_setup.fitToWidth == 1
        assert ws.print_title_rows == "$3:$3"
        assert [ws.cell(3, c).value for c in (1, 2, 4)] == ["编号", "指标", "分值"]
    assert wb.sheetnames[0] == "封面" and "填写说明" in wb.sheetnames


def test_score_inputs_have_a_dropdown_of_allowed_values_on_a_range(built):
    std, wb = STANDARDS["gbt27922-2011"], built["gbt27922-2011"]
    ws = wb["售后服务评价"]
    cell = _dest(wb, "score_B_4")  # maximum 10, step 0.5
    dv = next(dv for dv in ws.data_validations.dataValidation if cell.coordinate in dv.sqref)
    assert dv.type == "list" and dv.formula1.startswith("'_lists'!$")
    col = dv.formula1.split("!$")[1].split("$")[0]
    values = [c.value for c in wb["_lists"][col] if c.value is not None]
    assert values[0] == 0 and values[1] == 0.5 and values[-1] == 10 and len(values) == 21
    assert wb["_lists"].sheet_state == "hidden"
    na = next(dv for dv in ws.data_validations.dataValidation if _dest(wb, "na_B_3").coordinate in dv.sqref)
    assert na.formula1 == '"不适用"'
    cover = wb["封面"]
    start = next(dv for dv in cover.data_validations.dataValidation if _dest(wb, "audit_start").coordinate in dv.sqref)
    assert start.type == "date"
    special = next(dv for dv in cover.data_validations.dataValidation
                   if _dest(wb, "special_bonus").coordinate in dv.sqref)
    assert special.type == "whole" and special.formula2 == "1"
    assert std.rules.special_bonus.max_count == 1


def test_percent_standard_lists_0_to_100_and_shows_the_band_by_formula(built):
    wb = built["info-system-integration"]
    cell = _dest(wb, "score_4_1")
    ws = cell.parent
    assert ws.cell(3, 5).value == "得分比例%" and ws.cell(3, 6).value == "档次"
    band = ws.cell(cell.row, 6).value
    assert band.startswith("=IF(E4=\"\",\"\",IFERROR(IF(VALUE(E4)<20") and '"80%~100%"' in band and '"0%~20%"' in band
    dv = next(dv for dv in ws.data_validations.dataValidation if cell.coordinate in dv.sqref)
    col = dv.formula1.split("!$")[1].split("$")[0]
    assert [c.value for c in wb["_lists"][col]][-1] == 100
    guide = wb["填写说明"]
    texts = [c.value for row in guide.iter_rows() for c in row if isinstance(c.value, str)]
    assert "60%~80%" in texts and any("评分档次" in t for t in texts)


def test_parents_and_totals_are_live_formulas(built):
    wb = built["gbt27922-2011"]
    ws = wb["售后服务评价"]
    row_a = next(r for r in range(4, 30) if ws.cell(r, 1).value == "A")
    assert ws.cell(row_a, 8).value.startswith("=SUM(H")
    cover = wb["封面"]
    formulas = [c.value for row in cover.iter_rows() for c in row
                if isinstance(c.value, str) and c.value.startswith("=")]
    assert any(f.startswith("=MIN(100,MAX(0,SUM(") for f in formulas)
    assert any('"★★★★★ 五星"' in f and "不予评级" in f for f in formulas)


def test_provisional_standard_warns_on_cover_and_guide(built):
    for key in ("gbt27922-2011", "info-system-integration"):
        wb = built[key]
        for sheet in ("封面", "填写说明"):
            texts = [c.value for row in wb[sheet].iter_rows(max_row=3) for c in row if isinstance(c.value, str)]
            assert any(t.startswith("⚠ 暂定标准定义") for t in texts) == STANDARDS[key].provisional, (key, sheet)


def test_english_labels(tmp_path):
    std = load_standard("gbt27922-2011")
    wb = load_workbook(build_workbook(std, info(), tmp_path / "en.xlsx", lang="en"))
    assert wb.sheetnames[:3] == ["Cover", "After-sales service evaluation", "Guide"]
    assert wb["After-sales service evaluation"]["E3"].value == "Score"
    assert _dest(wb, "score_A_1").parent.title == "After-sales service evaluation"


def test_audit_ids_are_readable_and_unique(tmp_path):
    gbt, isi = load_standard("gbt27922-2011"), load_standard("info-system-integration")
    assert short_code(gbt) == "GBT27922" and short_code(load_standard("qhxc002-2018")) == "QHXC002"
    assert short_code(isi) == "ISI"
    assert allocate_audit_id(gbt, set(), year=2025) == "GBT27922-2025-001"
    assert allocate_audit_id(gbt, {"GBT27922-2025-001", "GBT27922-2025-007", "ISI-2025-009"}, year=2025) \
        == "GBT27922-2025-008"
    # (the workspace allocates ids from its records, never from a folder: tests/test_records.py)


def test_build_is_atomic_and_leaves_no_temp_files(tmp_path):
    std = load_standard("qhxc013-2018")
    path = build_workbook(std, AuditInfo("Q-1", "某公司"), tmp_path / "sub" / "q.xlsx")
    assert path.exists() and [p.name for p in path.parent.iterdir()] == ["q.xlsx"]
