"""Listings in a terminal and through a pipe: a file name, an audit id or a key is never split, piped
output is plain, and every listing command answers ``--json``."""

from __future__ import annotations

import io
import json
import re
import shutil

import pytest
from rich.console import Console

from pipeline.cli.tables import KEY, NUMBER, TEXT, Listing
from tests.helpers.paths import FIXTURES
from tests.helpers.workspace import certpipe, make_ws, sample_audit, workbook

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
BOX = set("│┃━─┏┓┗┛┡┩╇┳┻┼╋└┘┌┐├┤")
LONG_FILE = "某某信息系统集成服务有限公司-2026年度第一次监督审核-评分表-最终版-v3.xlsx"
IDS = ["ISI-2026-001", "ISI-2026-002", "gbt27922-2011", "CP-2026-ISI-00017"]


def _listing() -> Listing:
    table = Listing("结果", [("文件", KEY), ("状态", KEY), ("审核编号", KEY), ("原因", TEXT), ("总分", NUMBER),
                            ("证书编号", KEY)])
    table.add_row(LONG_FILE, "退回", IDS[0], "评分表第 3 行的分值超出范围（满分 5），请更正后重新提交" * 2, "", "",
                  styles={1: "red"})
    table.add_row("a.xlsx", "完成", IDS[1], IDS[2], "88.5", IDS[3])
    return table


def _printed(listing: Listing, *, terminal: bool, width: int) -> str:
    buf = io.StringIO()
    listing.print(Console(file=buf, force_terminal=terminal, width=width, highlight=False, soft_wrap=True))
    return buf.getvalue()


@pytest.mark.parametrize("width", [80, 100, 160, 240])
def test_in_a_terminal_no_key_is_ever_split(width):
    text = ANSI.sub("", _printed(_listing(), terminal=True, width=width))
    lines = text.splitlines()
    for key in [LONG_FILE, *IDS]:
        assert any(key in line for line in lines), (width, key, text)
    if width >= 240:  # wide enough: a real table
        assert BOX & set(text)


def test_piped_output_is_plain_one_line_a_row():
    text = _printed(_listing(), terminal=False, width=80)
    assert not ANSI.search(text) and not BOX & set(text)
    lines = text.splitlines()
    assert len(lines) == 4  # title, header, two rows
    assert LONG_FILE in lines[2] and IDS[0] in lines[2] and IDS[3] in lines[3]


def test_the_ledger_at_80_columns_and_through_a_pipe(tmp_path):
    ws = make_ws(tmp_path)
    workbook(ws, LONG_FILE, sample_audit(audit_id="T-2026-001"))
    assert certpipe(ws, "run", "--workers", "1").returncode == 0
    narrow = certpipe(ws, "ledger", env={"COLUMNS": "80", "FORCE_COLOR": "1"})
    assert narrow.returncode == 0 and ANSI.search(narrow.stdout)  # really a terminal
    lines = ANSI.sub("", narrow.stdout).splitlines()
    for key in (LONG_FILE, "T-2026-001"):
        assert any(key in line for line in lines), narrow.stdout
    piped = certpipe(ws, "ledger", env={"COLUMNS": "80"})
    assert not ANSI.search(piped.stdout) and not BOX & set(piped.stdout)
    row = next(line for line in piped.stdout.splitlines() if LONG_FILE in line)
    assert "T-2026-001" in row


def test_every_listing_command_answers_json(tmp_path, cli):
    ws = make_ws(tmp_path)
    path = workbook(ws, "a.xlsx", sample_audit(audit_id="T-2026-001"))
    filled = tmp_path / "filled.xlsx"
    shutil.copy(path, filled)
    root = str(ws.root)

    def data(*args: str, code: int = 0):
        got, out, err = cli("-W", root, *args, "--json")
        assert got == code, (args, out, err)
        return json.loads(out)

    assert data("validate", str(filled))[0]["ok"] is True
    assert data("score", str(filled))["audit_id"] == "T-2026-001"
    ran = data("run")
    assert [o["status"] for o in ran["outcomes"]] == ["done"]
    assert data("ledger")[0]["audit_id"] == "T-2026-001"
    assert "waiting" in data("status")
    assert data("find", "T-2026-001")
    assert {s["key"] for s in data("standards", "list")} >= {"gbt27922-2011"}
    assert data("standards", "check") and all(not f["problems"] for f in data("standards", "check"))
    bad = data("templates", "check", str(FIXTURES / "templates" / "missing_variable.docx"), code=1)
    assert "org_contact" in bad[0]["problems"][0]
    made = data("new", "gbt27922-2011", "--org", "某公司", "-o", str(tmp_path / "new.xlsx"))
    assert made["file"].endswith("new.xlsx") and made["audit_id"]


def test_help_paragraphs_are_wrapped_by_the_terminal_not_by_the_source(tmp_path):
    """A wide terminal shows each help paragraph on one line; the docstring's own line breaks (the
    English paragraph broke mid-sentence) and spaces between Chinese characters are gone."""
    ws = make_ws(tmp_path)
    shown = certpipe(ws, "decide", "--help", env={"COLUMNS": "300"}).stdout
    assert "a level change takes effect now) or --refuse (every certificate stays as it was)." in shown
    assert "--refuse 不予批准（已有证书保持原样）。决定人不能是该审核的审核组长或审核员。" in shown
    verify = certpipe(ws, "verify", "--help", env={"COLUMNS": "300"}).stdout
    assert "签名内容，查询证书当前状态" in verify  # (no space where the source broke the line)


@pytest.mark.parametrize(("args", "zh", "en"), [
    (["status", "--stauts"], "没有选项 --stauts", "no such option: --stauts"),
    (["statuss"], "没有命令 statuss（是否要用 status？）", "no such command: statuss (did you mean status?)"),
    (["decide", "X"], "缺少选项 --by", "the option --by is missing"),
    (["due", "--within", "abc"], "--within 的值无效：应为整数", "invalid value for --within: a whole number"),
    (["run", "extra"], "多余的参数：extra", "unexpected extra arguments: extra"),
])
def test_usage_errors_are_said_in_the_users_language(tmp_path, args, zh, en):
    """typer words them in English; a clerk reading Chinese gets them in Chinese, the usage and help after."""
    ws = make_ws(tmp_path)
    said = certpipe(ws, *args)
    assert said.returncode == 2 and said.stderr.startswith("错误： ") and zh in said.stderr, said.stderr
    assert "用法：" in said.stderr and "No such" not in said.stderr and "Missing" not in said.stderr
    english = certpipe(ws, "--lang", "en", *args)
    assert english.returncode == 2 and en in english.stderr, english.stderr
