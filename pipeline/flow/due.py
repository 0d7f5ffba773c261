"""What is due (``certpipe due``): surveillance audits (12 months after issue or the last
surveillance, ``[certificates] surveillance_months``), recertifications before a certificate
expires, suspensions past their deadline (a person decides to withdraw or restore; nothing is
withdrawn automatically). ``due_workbooks`` generates the workbooks of what is due, prefilled:
organisation, audit type, and the certificate they belong to (recorded with the audit).

docs/architecture.md, "The life of a certificate"."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from pipeline.core.audit import AuditInfo
from pipeline.errors import CertpipeError
from pipeline.flow import certs
from pipeline.flow.ledger import Ledger
from pipeline.i18n import t
from pipeline.workspace import Workspace

#: What can be due, in the order they are listed.
KINDS = ("suspension_overdue", "surveillance", "recertification")


@dataclass(frozen=True)
class DueItem:
    kind: str  # one of KINDS
    number: str
    organisation: str
    credit_code: str
    standard: str
    level: str | None
    status: str
    date: str  # the surveillance date, the expiry, or the suspension's end
    days: int  # from today (negative: overdue)
    planned: str | None  # an audit already generated for it and not yet returned

    def to_json(self) -> dict:
        return dict(self.__dict__)


def _planned(db, number: str, audit_type: str) -> str | None:
    """A generated audit of this type for the certificate that has no accepted result yet."""
    for audit_id, typed in db.execute(
            "SELECT a.audit_id, a.audit_type FROM audits a WHERE a.certificate_no = ? AND NOT EXISTS "
            "(SELECT 1 FROM inputs i WHERE i.audit_id = a.audit_id AND i.status = 'done') ORDER BY a.created_at",
            (number,)):
        if certs.audit_type_of(typed or "") == audit_type:
            return audit_id
    return None


def due(ledger: Ledger, *, within: int, today: date) -> list[DueItem]:
    """Everything due within ``within`` days of ``today`` (and everything overdue), most urgent first."""
    horizon = today + timedelta(days=within)
    items: list[DueItem] = []
    for row in certs.certificate_rows(ledger.db, today=today, due_by=horizon):
        code = str(row.details.get("credit_code") or "")

        def item(kind: str, when: str, planned: str | None = None, _row=row, _code=code) -> DueItem:
            return DueItem(kind, _row.number, _row.organisation, _code, _row.standard, _row.level, _row.status,
                           when, (date.fromisoformat(when) - today).days, planned)

        if row.status == "suspended" and row.suspended_until and date.fromisoformat(row.suspended_until) < today:
            items.append(item("suspension_overdue", row.suspended_until))
        if row.status not in ("issued", "suspended"):
            continue
        expires = date.fromisoformat(row.expires_on) if row.expires_on else None
        if row.surveillance_due and date.fromisoformat(row.surveillance_due) <= horizon \
                and (expires is None or date.fromisoformat(row.surveillance_due) < expires):
            items.append(item("surveillance", row.surveillance_due, _planned(ledger.db, row.number, "surveillance")))
        if expires is not None and expires <= horizon:
            items.append(item("recertification", row.expires_on, _planned(ledger.db, row.number, "recert")))
    return sorted(items, key=lambda i: (i.days, KINDS.index(i.kind), i.number))


def due_workbooks(ws: Workspace, items: list[DueItem], folder: Path, *, lang: str) -> list[tuple[DueItem, Path]]:
    """A workbook for each surveillance or recertification due that has none generated yet, into
    ``folder``, recorded with its certificate; returns what was made."""
    from pipeline.excel.generate import new_workbook
    from pipeline.flow.records import allocator
    from pipeline.flow.standards import load_standard

    if folder.exists() and not folder.is_dir():  # (mkdir said FileExistsError: an internal error, exit 70)
        raise CertpipeError("due.workbooks_not_folder", {"path": folder})
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    ledger = Ledger(ws.ledger, readonly=True)
    try:
        addresses = {n: _address(ledger, n) for n in {i.number for i in items}}
    finally:
        ledger.close()
    with allocator(ws) as allocate:
        for item in items:
            if item.kind == "suspension_overdue" or item.planned:
                continue
            key = "surveillance" if item.kind == "surveillance" else "recert"
            std = load_standard(item.standard, ws.root)
            info = AuditInfo(audit_id="", org_name=item.organisation, org_credit_code=item.credit_code,
                             org_address=addresses.get(item.number, ""),
                             audit_type=t(f"wb.audit_type.{key}", lang))
            path, _ = new_workbook(std, info, lambda s, i, n=item.number, **kw: allocate(s, i, n, **kw),
                                   output=folder, lang=lang)
            previous = _previous_entries(ws, item.number)
            if previous is not None:
                from pipeline.excel.previous import add_previous

                add_previous(path, *previous, lang=lang)
            made.append((replace(item, planned=path.stem), path))
    return made


def _previous_entries(ws: Workspace, number: str):
    """The entries of the certificate's last accepted audit (its issue, a revision or a surveillance),
    read again from the archived workbook: (scores, not applicable, audit id); ``None`` when gone."""
    from pipeline.flow.check_file import validate_file

    with Ledger(ws.ledger, readonly=True) as ledger:
        found = ledger.db.execute(
            "SELECT i.audit_id, i.archived_to FROM inputs i WHERE i.status = 'done' AND i.archived_to IS NOT NULL "
            "AND i.audit_id IN (SELECT audit_id FROM certificates WHERE number = ? UNION "
            "SELECT audit_id FROM audits WHERE certificate_no = ?) ORDER BY i.id DESC LIMIT 1",
            (number, number)).fetchone()
    if found is None:
        return None
    path = Path(found[1]) if Path(found[1]).is_absolute() else ws.root / found[1]
    checked = validate_file(path, workspace_root=ws.root) if path.is_file() else None
    if checked is None or checked.audit is None:
        return None
    entries = checked.audit.entries
    return dict(entries.scores), frozenset(entries.not_applicable), found[0]


def _address(ledger: Ledger, number: str) -> str:
    found = ledger.db.execute("SELECT o.address FROM certificates c JOIN organisations o ON o.id = c.org_id "
                              "WHERE c.number = ?", (number,)).fetchone()
    return found[0] if found else ""
