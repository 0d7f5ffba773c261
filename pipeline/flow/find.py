"""``certpipe find TEXT``: everything the ledger knows under an organisation's name (or part of it), a
credit code, an audit id or a certificate number — the organisation, its audits, their
certificates and whether they are in force, every input with its outcome, and where each file is.
Read-only; indexed look-ups and one scan of organisation names."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

from pipeline.flow.certs import certificate
from pipeline.flow.ledger import InputRow, Ledger
from pipeline.flow.orgs import name_key

#: At most this many organisations (and audits without one) in one answer.
LIMIT = 50  # (api.FIND_LIMIT says the same to users)


@dataclass
class FoundCertificate:
    number: str
    level: str | None
    standard: str
    issue_date: str | None
    expiry_date: str | None
    in_force: bool
    status: str = "issued"  # core.lifecycle.STATUSES, as of today


@dataclass
class FoundDecision:
    """The audit's certification decision a person takes or took: waiting, approved or refused."""

    status: str  # pending | approved | refused
    kind: str  # issue | revision | surveillance
    level: str | None
    decided_by: str | None
    decided_at: str | None
    reason: str


@dataclass
class FoundAudit:
    audit_id: str
    standard: str
    origin: str
    created_at: str
    certificate: FoundCertificate | None = None
    inputs: list[InputRow] = field(default_factory=list)
    decision: FoundDecision | None = None  # the newest one not replaced nor automatic


@dataclass
class FoundOrganisation:
    id: int | None
    name: str
    credit_code: str | None
    former_names: list[str] = field(default_factory=list)
    audits: list[FoundAudit] = field(default_factory=list)

    def to_json(self, lang: str = "zh") -> dict:
        data = asdict(self)
        for audit, found in zip(data["audits"], self.audits, strict=True):
            audit["inputs"] = [row.to_json(lang) for row in found.inputs]
        return data


def find(ledger: Ledger, text: str) -> list[FoundOrganisation]:
    """Organisations (and audits known without one) matching ``text``, most recently active first."""
    db = ledger.db
    text = text.strip()
    if not text:
        return []
    key, upper, plain = name_key(text), _like(text.upper()), _like(text)
    # names hold a part anywhere: one pass over the names' index (instr, cheaper than LIKE '%x%'); the rest
    # are beginnings and equalities the ledger's indexes answer (FIND_SQL), whatever their case
    org_ids = [r[0] for r in db.execute(
        "SELECT id FROM organisations WHERE credit_code = ? UNION SELECT id FROM organisations INDEXED BY "
        "organisations_name WHERE ? != '' AND instr(name_key, ?) > 0 ORDER BY 1 DESC LIMIT ?",
        (text.upper(), key, key, LIMIT + 1))]
    named, arg = holds("n.name", text)
    org_ids += [r[0] for r in db.execute(
        "SELECT DISTINCT org_id FROM organisation_names n NOT INDEXED JOIN organisations o ON o.id = n.org_id "
        f"WHERE {named} LIMIT ?", (arg, LIMIT)) if r[0] not in org_ids]
    audit_ids = {r[0] for r in db.execute(
        "SELECT audit_id FROM audits WHERE audit_id = ? OR audit_id LIKE ? ESCAPE '\\' LIMIT ?",
        (text, plain + "%", LIMIT))}
    audit_ids |= {r[0] for r in db.execute(
        "SELECT audit_id FROM certificates WHERE number = ? OR number LIKE ? ESCAPE '\\' LIMIT ?",
        (text.upper(), upper + "%", LIMIT))}
    audit_ids |= {r[0] for r in db.execute(
        "SELECT audit_id FROM inputs WHERE audit_id = ? UNION SELECT audit_id FROM inputs WHERE certificate_no = ? "
        "AND audit_id IS NOT NULL LIMIT ?", (text, text.upper(), LIMIT))}
    for (org_id,) in db.execute(f"SELECT DISTINCT org_id FROM audits WHERE audit_id IN ({_marks(audit_ids)}) "
                                "AND org_id IS NOT NULL", tuple(audit_ids)):
        if org_id not in org_ids:
            org_ids.append(org_id)
    found = [_organisation(db, org_id, ledger.audit_rows) for org_id in org_ids[:LIMIT]]
    listed = {a.audit_id for org in found for a in org.audits}
    orphans = [_audit(db, audit_id, ledger.audit_rows) for audit_id in sorted(audit_ids - listed)]
    if orphans:  # audits known without their organisation (a ledger migrated from an older release)
        found.append(FoundOrganisation(None, "", None, audits=[a for a in orphans if a is not None]))
    return found


def _like(text: str) -> str:
    """``text`` for a LIKE pattern: its own ``%`` and ``_`` are characters, not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def holds(column: str, text: str) -> tuple[str, str]:
    """SQL and its one parameter: ``column`` holds ``text`` anywhere, ASCII letters in any case (what
    ``LIKE '%text%'`` means). Without ASCII letters ``instr`` says the same, faster (no pattern to match
    on every row); with them LIKE is the faster of the two (``lower()`` copies every value)."""
    if any(c.isascii() and c.isalpha() for c in text):
        return f"{column} LIKE ? ESCAPE '\\'", f"%{_like(text)}%"
    return f"instr({column}, ?) > 0", text


def _marks(values) -> str:
    return ", ".join("?" for _ in values) or "NULL"


def _organisation(db, org_id: int, rows_of) -> FoundOrganisation:
    name, code = db.execute("SELECT name, credit_code FROM organisations WHERE id = ?", (org_id,)).fetchone()
    former = [r[0] for r in db.execute("SELECT DISTINCT name FROM organisation_names WHERE org_id = ? AND name != ? "
                                       "ORDER BY since", (org_id, name))]
    audits = [_audit(db, r[0], rows_of) for r in db.execute(
        "SELECT audit_id FROM audits WHERE org_id = ? ORDER BY created_at DESC, audit_id DESC", (org_id,))]
    return FoundOrganisation(org_id, name, code, former, [a for a in audits if a is not None])


def _audit(db, audit_id: str, rows_of) -> FoundAudit | None:
    row = db.execute("SELECT audit_id, standard, origin, created_at FROM audits WHERE audit_id = ?",
                     (audit_id,)).fetchone()
    if row is None:
        row = db.execute("SELECT audit_id, MIN(standard), 'unrecorded', MIN(received_at) FROM inputs "
                         "WHERE audit_id = ?", (audit_id,)).fetchone()
        if row is None or row[0] is None:
            return None
    audit = FoundAudit(*row)
    number = db.execute("SELECT number FROM certificates WHERE audit_id = ?", (audit_id,)).fetchone()
    held = certificate(db, number[0], today=date.today()) if number else None
    if held is not None:
        audit.certificate = FoundCertificate(held.number, held.level, held.standard, held.issued_on, held.expires_on,
                                             held.status == "issued", held.status)
    audit.inputs = rows_of(audit_id)
    decided = db.execute("SELECT status, kind, level, decided_by, decided_at, reason FROM decisions WHERE audit_id = ? "
                         "AND status != 'replaced' AND COALESCE(decided_by, '') != 'auto' ORDER BY id DESC LIMIT 1",
                         (audit_id,)).fetchone()
    audit.decision = FoundDecision(*decided) if decided else None
    return audit
