"""An audit as certpipe works with it once a workbook has been read and validated: the cover data,
the auditor's entries and evidence. Typed values only; where they came from is intake's business."""

from __future__ import annotations

import unicodedata
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


#: The audit types, by key: the cover's list shows their labels (``wb.audit_type.<key>``).
AUDIT_TYPES = ("initial", "surveillance", "recert")

#: What people write for each type, beside its labels: mapped when a schedule is read, with a note.
AUDIT_TYPE_SYNONYMS = {
    "initial": ("初次", "初审", "初次审核", "初评", "首次认证", "首次审核", "initial audit", "initial certification"),
    "surveillance": ("监督", "监审", "年审", "监督评价", "surveillance audit"),
    "recert": ("再认证审核", "复评", "复审", "换证审核", "重新认证", "recertification", "recertification audit",
               "renewal"),
}


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip().casefold()


def audit_type_key(text: str, labels: dict[str, tuple[str, ...]], *, synonyms: bool = False) -> str | None:
    """The type ``text`` names: one of its ``labels`` ({key: (Chinese, English)}), or, with
    ``synonyms``, a common other name for it; ``None`` when it names none."""
    folded = _folded(text)
    for key in AUDIT_TYPES:
        if folded in {_folded(label) for label in labels.get(key, ())}:
            return key
    if synonyms:
        for key, words in AUDIT_TYPE_SYNONYMS.items():
            if folded in {_folded(w) for w in words}:
                return key
    return None
