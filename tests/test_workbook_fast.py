"""A workbook patched from the prepared template is the workbook openpyxl builds for that audit."""

from __future__ import annotations

import re
import zipfile
from datetime import date

import pytest
from openpyxl import load_workbook

from pipeline.core.audit import AuditInfo
from pipeline.errors import CertpipeError
from pipeline.excel.build import build_workbook
from pipeline.excel.fast import workbook_bytes
from pipeline.excel.names import META_SHEET
from pipeline.flow.standards import all_standards
from tests.helpers.workbooks import info

STANDARDS = all_standards()
TRICKY = AuditInfo(audit_id="ID-9", org_name='R&D <北京> "q" \'a\' 😀', org_address="  leading space",
                   scope="a\nb\tc\r d", org_credit_code="91350100M000100Y43", audit_start=date(2025, 3, 18),
                   auditors="trailing ")
_STAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\+00:00|Z)")


def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        return {n: _STAMP.sub(b"<time>", zf.read(n)) for n in zf.namelist()}


@pytest.mark.parametrize("std", STANDARDS, ids=lambda s: s.key)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_fast_workbook_is_byte_for_byte_the_openpyxl_one(std, lang, tmp_path):
    for n, audit in enumerate((info(), TRICKY, AuditInfo("Q-1", "某公司"))):
        assert workbook_bytes(std, audit, lang) is not None  # really the fast path
        fast = build_workbook(std, audit, tmp_path / f"fast{n}.xlsx", lang=lang)
        slow = build_workbook(std, audit, tmp_path / f"slow{n}.xlsx", lang=lang, fast=False)
        a, b = _members(fast), _members(slow)
        assert list(a) == list(b)
        for name in a:
            assert a[name] == b[name], name


def _summary(path) -> dict:
    wb = load_workbook(path)
    sheets = {}
    for ws in wb.worksheets:
        if ws.title == META_SHEET:  # compared below, without its generated_at (fast and slow may straddle a second)
            continue
        sheets[ws.title] = {
            "state": ws.sheet_state,
            "cells": {c.coordinate: (getattr(c.value, "text", c.value), c.number_format, c.protection.locked)
                      for row in ws.iter_rows() for c in row if c.value is not None or not c.protection.locked},
            "validations": sorted((dv.type, str(dv.sqref), dv.formula1, dv.formula2, dv.prompt)
                                  for dv in ws.data_validations.dataValidation),
            "protected": (ws.protection.sheet, ws.protection.formatRows, ws.protection.formatCells),
        }
    meta = {r[0].value: r[1].value for r in wb[META_SHEET].iter_rows()}
    meta.pop("generated_at")
    names = {name: dn.attr_text for name, dn in wb.defined_names.items()}
    return {"sheets": sheets, "meta": meta, "names": names}


def test_fast_workbook_reads_the_same_as_the_slow_one(tmp_path):
    std = next(s for s in STANDARDS if s.key.startswith("gbt27922"))
    fast = build_workbook(std, TRICKY, tmp_path / "fast.xlsx")
    slow = build_workbook(std, TRICKY, tmp_path / "slow.xlsx", fast=False)
    a, b = _summary(fast), _summary(slow)
    assert a == b
    assert a["meta"]["audit_id"] == "ID-9"
    assert a["names"]["org_name"] == "'封面'!$B$5"
    generated = load_workbook(fast)[META_SHEET]["B6"].value
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", generated)


def test_values_the_template_cannot_hold_are_built_by_openpyxl(tmp_path):
    std = STANDARDS[0]
    control = AuditInfo("F-1", "某公司\x01")
    assert workbook_bytes(std, control) is None
    assert workbook_bytes(std, AuditInfo("", "某公司")) is None
    with pytest.raises(CertpipeError, match="org_name"):  # a message naming the field, not openpyxl's
        build_workbook(std, control, tmp_path / "c.xlsx")


def test_text_starting_with_equals_is_text_both_ways(tmp_path):
    std = STANDARDS[0]
    audit = AuditInfo("F-1", "=1+1", scope="=HYPERLINK(\"x\")")
    assert workbook_bytes(std, audit) is not None
    fast = build_workbook(std, audit, tmp_path / "fast.xlsx")
    slow = build_workbook(std, audit, tmp_path / "slow.xlsx", fast=False)
    assert _members(fast) == _members(slow)
    wb = load_workbook(fast)
    (sheet, ref), = list(wb.defined_names["org_name"].destinations)
    cell = wb[sheet][ref.replace("$", "")]
    assert cell.value == "=1+1" and cell.data_type == "s"


def test_a_control_character_in_a_cover_value_is_a_clear_error(tmp_path, cli):
    code, _, err = cli("new", "gbt27922-2011", "--org", "A\x01B", "-o", tmp_path / "x.xlsx")
    assert code == 2 and "org_name" in err and "Traceback" not in err
    assert not (tmp_path / "x.xlsx").exists()
