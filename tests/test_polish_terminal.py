"""``certpipe run`` in a terminal: nothing but the driver writes to it while the progress bar is drawn.
A worker process never writes there (its records and Python's warnings go to the log file), and the
driver's own log lines are printed above the bar, a file's outcome line left to the summary table."""

from __future__ import annotations

import io
import logging
import os
import pty
import re
import select
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from pipeline.excel.build import build_workbook
from pipeline.flow.standards import load_standard
from tests.helpers.workspace import make_ws, record, sample_audit, workbook

#: An Excel data validation extension, as Excel writes one for a list taken from another sheet:
#: openpyxl (which marks a rejected workbook) warns that it cannot keep it.
EXT = ('<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
       'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
       '<x14:dataValidations xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main" count="0"/>'
       '</ext></extLst>')
CSI = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])")


def _with_excel_extension(path: Path) -> None:
    staged = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(staged, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", item.filename):
                data = data.replace(b"</worksheet>", EXT.encode() + b"</worksheet>")
            out.writestr(item, data)
    staged.replace(path)


def _screen(raw: str) -> list[str]:
    """The lines a terminal shows (scrollback included) after ``raw``: carriage returns, line feeds,
    erase-line and cursor-up applied, colours dropped, as a terminal draws rich's progress bar."""
    lines, row, col, i = [""], 0, 0, 0
    while i < len(raw):
        m = CSI.match(raw, i)
        if m:
            arg, op = m.group(1), m.group(2)
            if op == "K" and arg in ("2", ""):
                lines[row] = "" if arg == "2" else lines[row][:col]
            elif op == "A":
                row = max(0, row - int(arg or 1))
            i = m.end()
            continue
        ch = raw[i]
        i += 1
        if ch == "\r":
            col = 0
        elif ch == "\n":
            row += 1
            if row == len(lines):
                lines.append("")
        elif ch >= " ":
            line = lines[row].ljust(col)
            lines[row] = line[:col] + ch + line[col + 1:]
            col += 1
    return lines


def _in_terminal(args: list[str], cwd: Path) -> str:
    """``certpipe ARGS`` with stdout and stderr a pseudo-terminal (rich draws its bar); all it wrote."""
    main, child = pty.openpty()
    env = {**os.environ, "COLUMNS": "110", "LINES": "40", "TERM": "xterm-256color",
           "CERTPIPE_WATCH_SETTLE_SECONDS": "0"}
    for name in ("NO_COLOR", "FORCE_COLOR", "CERTPIPE_LANG", "CERTPIPE_WORKSPACE"):
        env.pop(name, None)
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", *args], stdin=child, stdout=child, stderr=child,
                            cwd=cwd, env=env, close_fds=True)
    os.close(child)
    out, deadline = b"", time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 1)
        if ready:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the child side closed
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    os.close(main)
    proc.wait(timeout=60)
    return out.decode("utf-8", errors="replace")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_run_in_a_terminal_shows_no_worker_or_log_line_through_the_progress_bar(tmp_path, workers):
    ws = make_ws(tmp_path)
    for n in range(3):
        workbook(ws, f"good{n}.xlsx", sample_audit(audit_id=f"T-2026-00{n + 1}"))
    audit = sample_audit(audit_id="T-2026-009")
    std = load_standard(audit.standard_key)
    record(ws, audit, std)
    build_workbook(std, audit.info, ws.inbox / "blank.xlsx")  # not filled in: rejected
    _with_excel_extension(ws.inbox / "blank.xlsx")
    (ws.outbox / "register.xlsx").mkdir()  # the register cannot be written: a warning of the driver's own

    raw = _in_terminal(["-W", str(ws.root), "run", "--workers", workers], tmp_path)
    assert "\x1b[" in raw and "━" in raw  # rich believed it was a terminal and drew its bar
    screen = _screen(raw)
    text = "\n".join(screen)
    # the worker's warning (openpyxl's) and the driver's outcome log line never reach the terminal
    assert "UserWarning" not in text and "not supported" not in text, text
    assert not re.search(r"WARNING\s+rejected", text), text
    # the driver says the rejection in its summary, and its own warning on a line of its own
    assert any("blank.xlsx" in line and "退回" in line for line in screen), text
    register = [line for line in screen if "register.xlsx" in line and "WARNING" in line]
    assert len(register) == 1 and register[0].lstrip().startswith("20"), text  # not after a bar's text
    assert not any("处理中" in line and ("WARNING" in line or "Warning" in line) for line in screen), text

    log = ws.log_file.read_text(encoding="utf-8")
    assert re.search(r"WARNING rejected blank\.xlsx .*未评分", log), log
    assert "Data Validation extension is not supported" in log  # the worker's warning, kept for whoever looks


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_console_above_holds_a_terminal_console_only_and_only_while_the_display_is_up(tmp_path):
    from pipeline.flow.job import Outcome
    from pipeline.logs import console_above, log, log_outcome, setup_logging

    setup_logging(make_ws(tmp_path))
    (console,) = [h for h in log.handlers if type(h) is logging.StreamHandler]
    said: list[str] = []
    try:
        for stream in (_Terminal(), io.StringIO()):  # a terminal, and stderr to a file or a pipe
            console.setStream(stream)
            with console_above(said.append):
                log_outcome(Outcome("a.xlsx", "rejected", audit_id="T-1"))
                log.warning("the register could not be written")
            log.warning("after the display")
            if stream.isatty():  # the outcome left to the summary, the warning said above the display
                assert len(stream.getvalue().splitlines()) == 1
                assert "after the display" in stream.getvalue() and "a.xlsx" not in stream.getvalue()
                assert len(said) == 1 and "the register could not be written" in said[0]
            else:  # nothing held
                assert "a.xlsx" in stream.getvalue() and "the register" in stream.getvalue()
                assert len(said) == 1
    finally:
        for handler in list(log.handlers):
            log.removeHandler(handler)
            handler.close()
