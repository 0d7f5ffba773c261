"""An auditor (or a tool) that edits the very hidden _meta sheet gets a rejection, not a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline.excel.names import META_SHEET
from pipeline.flow.check_file import validate_file
from tests.helpers.workspace import make_ws, sample_audit, workbook


@pytest.mark.parametrize(("key", "value"), [("first_row", "²"), ("columns", "code=Ａ;score=E"),
                                            ("columns", "code=A1;score=?"), ("first_row", "9" * 40)])
def test_an_edited_meta_sheet_is_read_without_a_crash(tmp_path: Path, key: str, value: str):
    ws = make_ws(tmp_path)
    path = workbook(ws, "a.xlsx", sample_audit(audit_id="H-1"))
    wb = load_workbook(path)
    meta = wb[META_SHEET]
    for row in meta.iter_rows():
        if row[0].value == key:
            row[1].value = value
    wb.save(path)
    checked = validate_file(path, workspace_root=ws.root)
    assert checked.problems or checked.audit is not None  # an answer either way, never an exception
