"""``certpipe new | validate | score`` in-process, on real files."""

from __future__ import annotations

import csv
import json

import pytest
from openpyxl import Workbook, load_workbook

from tests.helpers.workbooks import WORKBOOKS


def test_new_one_workbook_with_allocated_id(cli, tmp_path):
    code, out, _ = cli("new", "qhxc013-2018", "--org", "某环卫设备公司", "-o", tmp_path / "a.xlsx")
    assert code == 0 and "a.xlsx" in out
    wb = load_workbook(tmp_path / "a.xlsx")
    (sheet, ref), = list(wb.defined_names["org_name"].destinations)
    assert wb[sheet][ref.replace("$", "")].value == "某环卫设备公司"
    code, _, err = cli("new", "qhxc013-2018", "--org", "x", "-o", tmp_path / "a.xlsx")
    assert code == 2 and "已存在" in err


def test_new_english_with_given_id(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli("new", "gbt27922-2011", "--org", "Example Ltd", "--audit-id", "A-1", "--lang", "en")
    assert code == 0 and "provisional" in out
    assert load_workbook(tmp_path / "A-1.xlsx").sheetnames[0] == "Cover"
    code, _, _err = cli("new", "gbt27922-2011", "--org", "x", "--audit-id", "bad id")
    assert code == 2


def test_new_from_schedule_reports_bad_rows_and_makes_the_rest(cli, tmp_path):
    schedule = tmp_path / "plan.csv"
    with schedule.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["组织名称", "标准", "审核编号", "开始日期", "结束日期", "审核组长"])
        writer.writerow(["甲公司", "GB/T 27922-2011", "", "2025-03-18", "2025-03-19", "王芳"])
        writer.writerow(["乙公司", "no-such", "", "", "", ""])
        writer.writerow(["丙公司", "qhxc002-2018", "QH-7", "2025-04-01", "下周", "陈静"])
        writer.writerow(["丁公司", "qhxc002-2018", "", "", "", ""])
    code, out, _ = cli("new", "--schedule", schedule, "-o", tmp_path / "out")
    assert code == 1
    assert "第 3 行" in out and "no-such" in out and "第 4 行" in out
    made = sorted(p.name for p in (tmp_path / "out").glob("*.xlsx"))
    assert len(made) == 2
    assert any(n.startswith("GBT27922-") for n in made) and any(n.startswith("QHXC002-") for n in made)


def test_new_from_xlsx_schedule_with_english_headers(cli, tmp_path):
    wb = Workbook()
    wb.active.append(["Organisation", "Standard", "Audit ID", "Lead auditor", "Credit code"])
    wb.active.append(["Acme", "info-system-integration", "ISI-X-1", "Li", "91110000600037341L"])
    wb.save(tmp_path / "plan.xlsx")
    code, _, _ = cli("new", "--schedule", tmp_path / "plan.xlsx", "-o", tmp_path / "out")
    assert code == 0
    book = load_workbook(tmp_path / "out" / "ISI-X-1.xlsx")
    (sheet, ref), = list(book.defined_names["org_credit_code"].destinations)
    assert book[sheet][ref.replace("$", "")].value == "91110000600037341L"


def test_validate_prints_sheet_cell_messages_and_exit_codes(cli):
    code, out, _ = cli("validate", WORKBOOKS / "lo-filled-gbt27922.xlsx")
    assert code == 0 and "✓" in out
    code, out, _ = cli("validate", WORKBOOKS / "lo-filled-gbt27922.xlsx", WORKBOOKS / "lo-problems-qhxc002.xlsx")
    assert code == 1
    assert "系统集成服务评价!E4: 指标 1 的得分「8分」不是数字" in out
    code, out, _ = cli("validate", "--lang", "en", WORKBOOKS / "lo-problems-qhxc002.xlsx")
    assert code == 1 and "系统集成服务评价!E5: the score of 2, 25, is above its maximum 20" in out


def test_score_table_and_json(cli):
    code, out, _ = cli("score", WORKBOOKS / "lo-filled-gbt27922.xlsx")
    assert code == 0 and "90.32" in out and "四星" in out
    code, out, _ = cli("score", "--json", WORKBOOKS / "lo-resaved-isi.xlsx")
    data = json.loads(out)
    assert code == 0
    assert (data["audit_id"], data["standard"], data["total"], data["max"]) == ("ISI-2025-001",
                                                                                "info-system-integration", 171.5, 200)
    assert data["level"] == {"key": "grade3", "label": "三级", "stars": 0}
    assert [p["score"] for p in data["parts"]] == [91.5, 80]
    first = data["indicators"][0]
    assert (first["code"], first["max"], first["score"]) == ("4.1", 15, 15)
    code, out, _ = cli("score", WORKBOOKS / "lo-problems-qhxc002.xlsx")
    assert code == 1 and "8 处问题" in out


@pytest.mark.parametrize("args", [(), ("run",), ("standards",), ("standards", "check"), ("templates", "check")])
def test_help_is_bilingual_down_to_the_help_option(cli, args):
    code, out, _ = cli(*args, "--help")
    assert code == 0
    text = " ".join(out.split())
    assert "显示此帮助并退出" in text and "Show this message" not in text
