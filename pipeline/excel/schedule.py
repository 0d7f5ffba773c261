"""Read an audit schedule (``.xlsx`` or ``.csv``, Chinese or English headers): one audit per row.

The header is the first row that has the needed columns (organisation and standard), so a title or
notes above it do no harm. Each row after it becomes a ``ScheduleRow`` with its standard and cover
data, or the reasons it cannot be used, by row number as the user sees it in the spreadsheet; a
message about a column names it as the header wrote it. A credit code with a wrong check character
is found here, before a workbook goes out."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import python_calamine

from pipeline.core.audit import AuditInfo, audit_type_key
from pipeline.core.credit_code import check_character, credit_code_problem
from pipeline.core.ids import valid_audit_id
from pipeline.core.standard import Standard
from pipeline.errors import CertpipeError
from pipeline.excel.checks import type_labels
from pipeline.excel.values import parse_date, text_of
from pipeline.i18n import Message

HEADERS: dict[str, tuple[str, ...]] = {
    "org_name": ("组织名称", "受审核组织", "受审核组织名称", "受审核方", "机构名称", "企业名称", "单位名称", "组织",
                 "客户名称", "organisation", "organization", "org", "orgname", "company", "client"),
    "standard": ("标准", "认证标准", "标准键", "标准号", "标准编号", "standard", "standardkey", "key"),
    "audit_id": ("审核编号", "编号", "auditid", "id", "auditno", "auditnumber"),
    "audit_start": ("开始日期", "审核开始日期", "审核开始", "start", "startdate", "auditstart"),
    "audit_end": ("结束日期", "审核结束日期", "审核结束", "end", "enddate", "auditend"),
    "lead_auditor": ("审核组长", "组长", "leadauditor", "lead"),
    "org_address": ("地址", "组织地址", "注册地址", "address", "orgaddress"),
    "org_credit_code": ("统一社会信用代码", "信用代码", "社会信用代码", "creditcode", "uscc", "orgcreditcode"),
    "scope": ("认证范围", "范围", "scope"),
    "audit_type": ("审核类型", "类型", "audittype", "type"),
    "auditors": ("审核组成员", "审核员", "成员", "auditors", "team", "auditteam"),
}
_LOOKUP = {alias: key for key, aliases in HEADERS.items() for alias in aliases}


@dataclass(frozen=True)
class ScheduleRow:
    row: int
    standard: Standard | None = None
    info: AuditInfo | None = None  # audit_id may be "" (to be allocated)
    problems: tuple[Message, ...] = field(default_factory=tuple)
    notes: tuple[Message, ...] = field(default_factory=tuple)  # what was read otherwise than written


def _norm_header(text: object) -> str:
    text = unicodedata.normalize("NFKC", text_of(text)).lower()
    return re.sub(r"[\s_\-*:：()（）/]", "", text)


def _norm_code(text: str) -> str:
    return re.sub(r"[\s/_\-]", "", unicodedata.normalize("NFKC", text)).lower()


def _rows(path: Path) -> list[list[object]]:
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            raw = path.read_bytes()
            for encoding in ("utf-8-sig", "gb18030"):
                try:
                    text = raw.decode(encoding)
                    break
                except UnicodeDecodeError:
                    continue
            else:  # pragma: no cover - gb18030 decodes any byte string
                raise CertpipeError("sched.encoding", {"path": path})
            return [list(r) for r in csv.reader(io.StringIO(text))]
        if suffix in (".xlsx", ".xlsm"):
            book = python_calamine.CalamineWorkbook.from_path(str(path))
            return book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except CertpipeError:
        raise
    except Exception as exc:
        raise CertpipeError("sched.unreadable", {"path": path, "detail": exc}) from exc
    raise CertpipeError("sched.format", {"path": path})


def _by_name(standards: Iterable[Standard]) -> dict[str, Standard]:
    """A schedule names a standard by key or by code (``GB/T 27922``), in any case."""
    found: dict[str, Standard] = {}
    for std in standards:
        found[std.key.lower()] = std
        found.setdefault(_norm_code(std.code), std)
    return found


#: The columns a schedule cannot do without.
NEEDED = ("org_name", "standard")
#: How far down a header is looked for (a title, a date, notes above it).
HEADER_SEARCH = 20


def _columns(row: list[object]) -> dict[str, tuple[int, str]]:
    """The columns a header row names: key → (index, the header as written)."""
    columns: dict[str, tuple[int, str]] = {}
    for i, cell in enumerate(row):
        key = _LOOKUP.get(_norm_header(cell))
        if key and key not in columns:
            columns[key] = (i, text_of(cell).strip())
    return columns


def read_schedule(path: Path, standards: Iterable[Standard]) -> list[ScheduleRow]:
    """Every non-empty row of the schedule after its header, each with its standard (one of
    ``standards``) and cover data, or its problems.
    Raises ``CertpipeError`` when the file cannot be read or has no usable header."""
    path = Path(path)
    rows = _rows(path)
    filled = [i for i, r in enumerate(rows) if any(text_of(v) for v in r)]
    if not filled:
        raise CertpipeError("sched.empty", {"path": path})
    header_at, columns, best = None, {}, (filled[0], _columns(rows[filled[0]]))
    for i in filled[:HEADER_SEARCH]:
        found = _columns(rows[i])
        if all(k in found for k in NEEDED):
            header_at, columns = i, found
            break
        if len(found) > len(best[1]):
            best = (i, found)
    if header_at is None:
        row, found = best
        missing = [k for k in NEEDED if k not in found]
        columns_named = Message("sched.col.both") if len(missing) > 1 else Message(f"sched.col.{missing[0]}")
        raise CertpipeError("sched.no_header", {"path": path, "row": row + 1, "columns": columns_named})
    by_name = _by_name(standards)
    out: list[ScheduleRow] = []
    for index in range(header_at + 1, len(rows)):
        raw = rows[index]
        values = {k: raw[i] if i < len(raw) else None for k, (i, _) in columns.items()}
        if not any(text_of(v) for v in values.values()):
            continue
        out.append(_row(index + 1, values, by_name, {k: written for k, (_, written) in columns.items()}))
    return out


def _row(number: int, values: dict[str, object], standards: dict[str, Standard],
         headers: dict[str, str] | None = None) -> ScheduleRow:
    headers = headers or {}
    problems: list[Message] = []
    wanted = text_of(values.get("standard"))
    std = (standards.get(wanted.lower()) or standards.get(_norm_code(wanted))) if wanted else None
    if not wanted:
        problems.append(Message("sched.row_no_standard"))
    elif std is None:
        problems.append(Message("sched.row_unknown_standard", {"value": wanted}))
    org = text_of(values.get("org_name"))
    if not org:
        problems.append(Message("sched.row_no_org"))
    dates = {}
    for key in ("audit_start", "audit_end"):
        value = values.get(key)
        if value in (None, ""):
            dates[key] = None
            continue
        dates[key] = parse_date(value)
        if dates[key] is None:
            field_label = headers.get(key) or Message(f"wb.field.{key}")  # as the header wrote it
            problems.append(Message("sched.row_bad_date", {"field": field_label, "value": text_of(value)}))
    if dates.get("audit_start") and dates.get("audit_end") and dates["audit_end"] < dates["audit_start"]:
        problems.append(Message("sched.row_end_before_start"))
    audit_id = text_of(values.get("audit_id"))
    if audit_id and not valid_audit_id(audit_id):
        problems.append(Message("sched.row_bad_id", {"value": audit_id}))
    audit_type, notes = text_of(values.get("audit_type")), []
    if audit_type:
        key = audit_type_key(audit_type, type_labels())
        if key is None:
            key = audit_type_key(audit_type, type_labels(), synonyms=True)
            if key is None:
                allowed = " / ".join(labels[0] for labels in type_labels().values())
                problems.append(Message("sched.row_bad_type", {"value": audit_type, "allowed": allowed}))
            else:
                notes.append(Message("sched.row_type_mapped", {"value": audit_type, "label": type_labels()[key][0]}))
                audit_type = type_labels()[key][0]
    code = unicodedata.normalize("NFKC", text_of(values.get("org_credit_code"))).strip().upper()
    what = credit_code_problem(code) if code else None
    if what:
        column = headers.get("org_credit_code") or Message("wb.field.org_credit_code")
        problems.append(Message(f"sched.row_credit_{what}", {"column": column, "value": code, "length": len(code),
                                                              "expected": check_character(code[:17])
                                                              if what == "check" else ""}))
    if problems:
        return ScheduleRow(number, std, None, tuple(problems))
    info = AuditInfo(
        audit_id=audit_id, org_name=org, org_address=text_of(values.get("org_address")),
        org_credit_code=code, scope=text_of(values.get("scope")),
        audit_type=audit_type, audit_start=dates.get("audit_start"),
        audit_end=dates.get("audit_end"), lead_auditor=text_of(values.get("lead_auditor")),
        auditors=text_of(values.get("auditors")),
    )
    return ScheduleRow(number, std, info, notes=tuple(notes))
