"""An audit as certpipe works with it once a workbook has been read and validated: the cover data,
the auditor's entries and evidence. Typed values only; where they came from is intake's business."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class Entries:
    """What the auditor entered. ``scores`` maps a leaf indicator code to the entered value, in the
    standard's input mode (points, or percent of the indicator's maximum)."""

    scores: Mapping[str, Decimal] = field(default_factory=dict)
    not_applicable: frozenset[str] = frozenset()
    deductions: int = 0
    bonus: int = 0


@dataclass(frozen=True)
class AuditInfo:
    """The cover of the workbook (defined names ``audit_id``, ``org_name``, ...)."""

    audit_id: str
    org_name: str
    org_address: str = ""
    org_credit_code: str = ""
    scope: str = ""
    audit_type: str = ""
    audit_start: date | None = None
    audit_end: date | None = None
    lead_auditor: str = ""
    auditors: str = ""


COVER_FIELDS = tuple(AuditInfo.__dataclass_fields__)


@dataclass(frozen=True)
class Audit:
    standard_key: str
    edition: str
    info: AuditInfo
    entries: Entries
    notes: Mapping[str, str] = field(default_factory=dict)
