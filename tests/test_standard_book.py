"""Authoring a definition in Excel: `standards export` writes a workbook with a sheet per part of the
definition, dropdowns and checks; `standards import` checks it like a YAML file, reports problems by
sheet!cell, and writes the YAML. Every built-in survives export → import unchanged."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline import api
from pipeline.core.definition import parse_definition
from pipeline.errors import CertpipeError
from pipeline.flow.standards import load_standard

BUILTIN = ["gbt27922-2011", "info-system-integration", "qhxc002-2018", "qhxc013-2018"]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("key", BUILTIN)
def test_every_builtin_survives_export_and_import(tmp_path: Path, key, lang):
    book = api.export_standard(key, tmp_path / f"{key}.xlsx", lang=lang, workspace=tmp_path)
    done = api.import_standard(book, tmp_path / "out" / f"{key}.yaml", workspace=tmp_path)
    assert done.problems == [] and done.key == key
    model, problems = parse_definition(done.path.read_text(encoding="utf-8"), done.path.name)
    assert problems == []
    assert model == load_standard(key)


def test_an_edit_in_excel_arrives_exactly(tmp_path: Path):
    book = api.export_standard("qhxc002-2018", tmp_path / "q.xlsx", workspace=tmp_path)
    wb = load_workbook(book)
    wb["指标"]["D2"] = "内部管理与制度"        # the first indicator's Chinese title
    wb["等级"]["E2"] = 90.5                      # the first level's minimum
    wb.save(book)
    done = api.import_standard(book, tmp_path / "qhxc002-2018.yaml", workspace=tmp_path)
    std = parse_definition(done.path.read_text(encoding="utf-8"), "qhxc002-2018.yaml")[0]
    assert std.parts[0].indicators[0].title.zh == "内部管理与制度"
    assert std.levels[0].min == Decimal("90.5")
    assert std.fingerprint() != load_standard("qhxc002-2018").fingerprint()


def test_the_workbook_has_dropdowns_and_number_checks(tmp_path: Path):
    wb = load_workbook(api.export_standard("gbt27922-2011", tmp_path / "g.xlsx", workspace=tmp_path))
    assert wb.sheetnames == ["标准", "规则", "部分", "指标", "等级", "评分档次", "勘误", "来源"]

    def rules(sheet: str) -> dict[str, tuple[str, str | None]]:
        return {str(ref): (dv.type, dv.formula1) for dv in wb[sheet].data_validations.dataValidation
                for ref in dv.sqref.ranges}

    assert ("list", '"是,否"') in rules("指标").values()             # may be not applicable
    assert ("list", "'部分'!$A$2:$A$2") in rules("指标").values()    # the part, from the Parts sheet
    assert ("decimal", "0") in rules("指标").values()                 # points
    assert ("list", '"given,inferred,placeholder"') in rules("来源").values()
    assert rules("标准")["B7"] == ("list", '"official,provisional"')
    assert wb["指标"]["B2"].number_format == "@"                     # codes stay text: 4.10 is not 4.1


def test_problems_are_reported_by_sheet_and_cell_in_chinese(tmp_path: Path):
    book = api.export_standard("info-system-integration", tmp_path / "isi.xlsx", workspace=tmp_path)
    wb = load_workbook(book)
    wb["指标"]["D4"] = None          # a Chinese title removed
    wb["指标"]["F3"] = 16            # 4.2 from 15 to 16: the part no longer adds up
    wb["等级"]["E2"] = 500           # beyond the maximum
    wb["指标"]["C5"] = "9.9"         # a parent that does not exist
    wb["来源"]["B3"] = "guess"
    wb.save(book)
    done = api.import_standard(book, tmp_path / "isi.yaml", workspace=tmp_path)
    assert done.path is None and not (tmp_path / "isi.yaml").exists()
    said = {p.format("zh").split(" — ")[0] for p in done.problems}
    assert "指标!D4: 缺少中文文本" in said
    assert "指标!C5: 指标 4.4 的上级编号 9.9 在它之前的行中不存在" in said
    assert "来源!B3: 来源「guess」不是 given、inferred、placeholder 之一" in said
    assert "等级!E2: 等级「grade3」的最低分 500 超过满分 200，永远无法达到" in said
    assert any(p.sheet == "部分" and p.cell == "D2" for p in done.problems)


def test_cli_export_import_and_no_silent_overwrite(tmp_path: Path, cli):
    ws = tmp_path / "ws"
    ws.mkdir()
    book = tmp_path / "q.xlsx"
    code, out, _ = cli("-W", ws, "standards", "export", "qhxc013-2018", "-o", book)
    assert code == 0 and book.exists()
    code, _, err = cli("-W", ws, "standards", "export", "qhxc013-2018", "-o", book)
    assert code == 2 and "已存在" in err
    assert cli("-W", ws, "standards", "export", "qhxc013-2018", "-o", book, "--force")[0] == 0
    code, out, _ = cli("-W", ws, "standards", "import", book)
    target = ws / "standards" / "qhxc013-2018.yaml"
    assert code == 0 and target.exists() and "覆盖了内置标准" in out
    code, _, err = cli("-W", ws, "standards", "import", book)
    assert code == 2 and "已存在" in err
    assert cli("-W", ws, "standards", "import", book, "--force")[0] == 0
    wb = load_workbook(book)
    wb["部分"]["D2"] = "一百五"
    wb.save(book)
    code, out, _ = cli("-W", ws, "--lang", "en", "standards", "import", book, "-o", tmp_path / "x.yaml")
    assert code == 1 and "Parts!D2" not in out and "部分!D2: 'max' must be a number, not '一百五'" in out


def test_an_unreadable_workbook_is_a_clear_error(tmp_path: Path):
    book = tmp_path / "empty.xlsx"
    from openpyxl import Workbook

    Workbook().save(book)
    done = api.import_standard(book, tmp_path / "x.yaml", workspace=tmp_path)
    assert done.path is None and {p.message.key for p in done.problems} == {"book.sheet_missing"}
    with pytest.raises(CertpipeError):
        api.export_standard("nope", tmp_path / "n.xlsx", workspace=tmp_path)


def test_a_file_that_is_no_workbook_is_refused_in_words(tmp_path: Path, cli):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a zip at all")
    code, _, err = cli("standards", "import", bad)
    assert code == 2 and "无法把" in err and "Traceback" not in err
