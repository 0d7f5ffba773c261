"""What the web console shows, read from the ledger (read-only) and the outbox: the dashboard's
counts, the audit search (keyset paging: the next page starts after the last audit id shown, so a
page costs the same at row 100 and at row 100,000), one audit with its revisions and files, the files
a user may download (only those the ledger knows, inside the outbox or the archive), and a
certificate's public fields."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline.flow.due import due
from pipeline.flow.inbox import scan
from pipeline.flow.ledger import ROW_COLUMNS, InputRow, Ledger
from pipeline.lock import holder
from pipeline.workspace import Workspace

#: The most audits one search page shows.
PAGE_LIMIT = 200



@dataclass(frozen=True)
class DownloadFile:
    input_id: int
    name: str
    size: int


@dataclass(frozen=True)
class Dashboard:
    waiting: list[str]
    not_files: list[str]
    today: dict[str, int]  # status → inputs finished today
    rejections: list[InputRow]  # the newest first
    held_by: str | None  # who holds the workspace (``pid 123 watch``), None when no driver runs
    last_finished: str | None
    ledger: bool  # whether there is a ledger yet
    files: dict[int, list[DownloadFile]] = field(default_factory=dict)  # a rejection's id → its files
    decisions: int = 0  # decisions waiting
    due: int = 0  # surveillance and recertification due (and suspensions past their end)


@dataclass(frozen=True)
class AuditQuery:
    """Every field optional; text fields match a part (organisation) or a beginning (ids, numbers)."""

    organisation: str = ""
    credit_code: str = ""
    audit_id: str = ""
    certificate: str = ""
    standard: str = ""
    level: str = ""
    date_from: str = ""  # YYYY-MM-DD: the newest outcome recorded on or after
    date_to: str = ""


@dataclass(frozen=True)
class AuditSummary:
    audit_id: str
    organisation: str | None
    credit_code: str | None
    standard: str
    audit_type: str
    revision: int | None
    total: str | None
    level: str | None
    certificate_no: str | None
    finished_at: str | None
    state: str | None = None  # the newest input's status recorded under this audit id; None: none yet
    # (a rejected workbook is recorded without its audit id when it was rejected before it could be read)


@dataclass(frozen=True)
class AuditPage:
    audits: list[AuditSummary]
    next_after: str | None  # give it as ``after`` for the next page; None on the last page


@dataclass
class AuditDetails:
    audit_id: str
    organisation: str | None
    credit_code: str | None
    address: str | None
    standard: str
    edition: str
    audit_type: str
    planned_start: str | None
    planned_end: str | None
    origin: str
    certificate: dict | None  # number, issued_at, the register's details and its status today
    scorecard: dict | None  # the published scorecard.json of the newest revision
    inputs: list[InputRow] = field(default_factory=list)  # every input of the audit, newest first
    files: dict[int, list[DownloadFile]] = field(default_factory=dict)  # input id → its files


@dataclass(frozen=True)
class PublicCertificate:
    """Only what anyone may know of a certificate."""

    number: str
    organisation: str
    standard: str
    standard_key: str
    level: str | None
    issue_date: str | None
    expiry_date: str | None
    status: str  # issued, suspended, withdrawn, cancelled, expired, superseded
    credit_code: str = ""


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, ValueError):
        return False


# ---- the dashboard ------------------------------------------------------------------------------
def dashboard(ws: Workspace, today: date | None = None, rejections: int = 10, within: int = 30) -> Dashboard:
    files, others = scan(ws)
    waiting = [p.name for p in files]
    not_files = [p.name for p, _ in others]
    held = holder(ws)
    if not ws.ledger.is_file() or not ws.ledger.stat().st_size:
        return Dashboard(waiting, not_files, {}, [], held, None, False)
    day = (today or date.today()).isoformat()
    with Ledger(ws.ledger, readonly=True) as ledger:
        counts = dict(ledger.db.execute(
            "SELECT status, count(*) FROM inputs WHERE finished_at >= ? AND finished_at < ? GROUP BY status",
            (day, day + "~")))
        rejected = [InputRow.from_db(r) for r in ledger.db.execute(
            f"SELECT {ROW_COLUMNS} FROM inputs i WHERE i.status = 'rejected' ORDER BY i.id DESC LIMIT ?",
            (rejections,))]
        last = ledger.last_finished()
        (decisions,) = ledger.db.execute("SELECT count(*) FROM decisions WHERE status = 'pending'").fetchone()
        due_now = len(due(ledger, within=within, today=date.fromisoformat(day)))
    files = {r.id: [DownloadFile(r.id, n, size) for n, size in _listing(_folder_of(ws, r, None)).items()]
             for r in rejected}
    return Dashboard(waiting, not_files, counts, rejected, held, last, True, files, decisions, due_now)


# ---- the search ---------------------------------------------------------------------------------
def search(ws: Workspace, query: AuditQuery, after: str | None = None, limit: int = 50) -> AuditPage:
    """Audits matching ``query``, by audit id from the highest, ``limit`` at most, after ``after``."""
    limit = max(1, min(limit, PAGE_LIMIT))
    if not ws.ledger.is_file() or not ws.ledger.stat().st_size:
        return AuditPage([], None)
    ledger = Ledger(ws.ledger, readonly=True)
    try:
        return _search(ledger, query, after, limit)
    finally:
        ledger.close()


#: Up to this many organisations hold a part of a name searched for: their audits are read by index.
#: More (a common word): the audits are walked newest first until the page is full.
FEW_ORGANISATIONS = 500


def _organisations(db, text: str) -> tuple[str, list]:
    """The search's condition on a part of an organisation's name, and its parameters: a part no
    organisation holds costs one pass over the names, not a walk over every audit."""
    from pipeline.flow.find import holds
    from pipeline.flow.orgs import name_key

    named, arg = holds("name", text.strip())
    key = name_key(text)
    ids = [r[0] for r in db.execute(f"SELECT id FROM organisations WHERE {named} OR instr(name_key, ?) > 0 LIMIT ?",
                                    (arg, key, FEW_ORGANISATIONS + 1))]
    if len(ids) <= FEW_ORGANISATIONS:
        return f"a.org_id IN ({', '.join('?' * len(ids)) or 'NULL'})", ids
    named, arg = holds("o.name", text.strip())
    return f"({named} OR instr(o.name_key, ?) > 0)", [arg, key]


def _search(ledger: Ledger, query: AuditQuery, after: str | None, limit: int) -> AuditPage:
    where, args = [], []
    if query.organisation.strip():
        condition, values = _organisations(ledger.db, query.organisation)
        where.append(condition)
        args += values
    if query.credit_code.strip():
        text = query.credit_code.strip().upper()
        where.append("o.credit_code >= ? AND o.credit_code < ?")
        args += [text, text + "\U0010ffff"]
    if query.audit_id.strip():
        text = query.audit_id.strip()
        where.append("a.audit_id >= ? AND a.audit_id < ?")
        args += [text, text + "\U0010ffff"]
    if query.certificate.strip():
        text = query.certificate.strip()
        where.append("c.number >= ? AND c.number < ?")
        args += [text, text + "\U0010ffff"]
    if query.standard.strip():
        where.append("a.standard = ?")
        args.append(query.standard.strip())
    if query.level.strip():
        where.append("i.level = ?")
        args.append(query.level.strip())
    if query.date_from.strip():
        where.append("i.finished_at >= ?")
        args.append(query.date_from.strip())
    if query.date_to.strip():
        where.append("i.finished_at < ?")
        args.append(query.date_to.strip() + "~")
    if after:
        where.append("a.audit_id < ?")
        args.append(after)
    sql = ("SELECT a.audit_id, o.name, o.credit_code, a.standard, a.audit_type, i.revision, i.total, i.level, "
           "c.number, i.finished_at, "
           # its state: the newest outcome, a duplicate copy dropped again aside
           "(SELECT status FROM inputs WHERE audit_id = a.audit_id AND status != 'duplicate' ORDER BY id DESC LIMIT 1) "
           "FROM audits a "
           "LEFT JOIN organisations o ON o.id = a.org_id "
           "LEFT JOIN inputs i ON i.id = (SELECT id FROM inputs WHERE audit_id = a.audit_id AND status = 'done' "
           "ORDER BY revision DESC LIMIT 1) "
           "LEFT JOIN certificates c ON c.audit_id = a.audit_id")
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY a.audit_id DESC LIMIT ?"
    rows = [AuditSummary(*r) for r in ledger.db.execute(sql, [*args, limit + 1])]
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(rows, rows[-1].audit_id if more else None)


# ---- one audit ----------------------------------------------------------------------------------
def _folder_of(ws: Workspace, row: InputRow, newest: int | None) -> Path | None:
    """Where an input's published files are: its output folder (``history/rN`` for an accepted
    revision that is no longer the newest); None unless inside the outbox."""
    if not row.output or row.status not in ("done", "rejected"):
        return None
    folder = ws.root / row.output
    if row.status == "done" and row.revision is not None and newest is not None and row.revision < newest:
        folder = folder / "history" / f"r{row.revision}"
    return folder if _inside(folder, ws.outbox) else None


def _listing(folder: Path | None) -> dict[str, int]:
    """Regular files (never through a link) directly in ``folder``, not hidden: name → size."""
    found: dict[str, int] = {}
    if folder is None:
        return found
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            found[entry.name] = st.st_size
    return dict(sorted(found.items()))


def _newest(ledger: Ledger, audit_id: str | None) -> int | None:
    if not audit_id:
        return None
    return ledger.db.execute("SELECT MAX(revision) FROM inputs WHERE audit_id = ? AND status = 'done'",
                             (audit_id,)).fetchone()[0]


def audit_details(ws: Workspace, audit_id: str) -> AuditDetails | None:
    from pipeline.flow.verify import certificate_status

    if not ws.ledger.is_file() or not ws.ledger.stat().st_size:
        return None
    with Ledger(ws.ledger, readonly=True) as ledger:
        row = ledger.db.execute(
            "SELECT a.audit_id, o.name, o.credit_code, o.address, a.standard, a.edition, a.audit_type, "
            "a.planned_start, a.planned_end, a.origin FROM audits a LEFT JOIN organisations o ON o.id = a.org_id "
            "WHERE a.audit_id = ?", (audit_id,)).fetchone()
        inputs = list(reversed(ledger.audit_rows(audit_id)))
        if row is None and not inputs:
            return None
        if row is None:
            row = (audit_id, None, None, None, inputs[0].standard or "", "", "", None, None, "")
        cert = ledger.db.execute("SELECT number, issued_at, details FROM certificates WHERE audit_id = ?",
                                 (audit_id,)).fetchone()
        status = certificate_status(ws, cert[0], ledger=ledger) if cert else None
        newest = _newest(ledger, audit_id)
    details = AuditDetails(*row, certificate=None, scorecard=None, inputs=inputs)
    if cert:
        details.certificate = {"number": cert[0], "issued_at": cert[1], **json.loads(cert[2] or "{}"),
                               "status": status}
    for r in inputs:
        folder = _folder_of(ws, r, newest)
        details.files[r.id] = [DownloadFile(r.id, name, size) for name, size in _listing(folder).items()]
        if r.status == "done" and r.revision == newest and folder is not None and details.scorecard is None:
            details.scorecard = _scorecard(folder / "scorecard.json")
    return details


def _scorecard(path: Path) -> dict | None:
    try:
        if path.is_symlink() or path.stat().st_size > 16 * 2**20:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def download_path(ws: Workspace, input_id: int, name: str) -> Path | None:
    """The file ``name`` published for input ``input_id``, when the ledger knows that input and the
    file is a regular file directly in its folder inside the outbox; None for anything else (another
    folder, a link, ``..``, a name with a separator). Never a path outside the outbox."""
    if not name or "/" in name or "\\" in name or "\0" in name or name.startswith("."):
        return None
    if not ws.ledger.is_file() or not ws.ledger.stat().st_size:
        return None
    with Ledger(ws.ledger, readonly=True) as ledger:
        found = ledger.db.execute(f"SELECT {ROW_COLUMNS} FROM inputs i WHERE i.id = ?", (input_id,)).fetchone()
        if found is None:
            return None
        row = InputRow.from_db(found)
        newest = _newest(ledger, row.audit_id)
    folder = _folder_of(ws, row, newest)
    if folder is None or name not in _listing(folder):
        return None
    path = folder / name
    return path if _inside(path, ws.outbox) and not path.is_symlink() else None


# ---- upload outcomes ----------------------------------------------------------------------------
@dataclass(frozen=True)
class UploadOutcome:
    row: InputRow
    files: list[DownloadFile]


def upload_outcomes(ws: Workspace, names: list[str], since: str) -> dict[str, UploadOutcome]:
    """The newest recorded outcome of each inbox file name received at ``since`` or later, with the
    files it may be downloaded as."""
    found: dict[str, UploadOutcome] = {}
    if not names or not ws.ledger.is_file() or not ws.ledger.stat().st_size:
        return found
    with Ledger(ws.ledger, readonly=True) as ledger:
        for name in names[:50]:
            hit = ledger.db.execute(
                f"SELECT {ROW_COLUMNS} FROM inputs i WHERE i.name = ? AND i.received_at >= ? "
                "AND i.status IN ('done', 'rejected', 'duplicate') ORDER BY i.id DESC LIMIT 1",
                (name, since)).fetchone()
            if hit:
                row = InputRow.from_db(hit)
                folder = _folder_of(ws, row, _newest(ledger, row.audit_id))
                found[name] = UploadOutcome(row, [DownloadFile(row.id, n, size)
                                                  for n, size in _listing(folder).items()])
    return found


# ---- verification -------------------------------------------------------------------------------
#: A certificate's states (``core.lifecycle.STATUSES``) before or instead of issue are nobody's business:
#: the public page knows no such certificate.
NOT_PUBLIC = ("pending", "refused")


def public_certificate(ws: Workspace, number: str) -> PublicCertificate | None:
    """A certificate's public fields and its status today (``flow.verify.certificate_status``, the one
    place certificate states are read: expiry applied)."""
    from pipeline.flow.certs import certificate
    from pipeline.flow.verify import certificate_status

    if not number or len(number) > 64 or not ws.ledger.is_file() or not ws.ledger.stat().st_size:
        return None
    with Ledger(ws.ledger, readonly=True) as ledger:
        held = certificate(ledger.db, number)
        status = certificate_status(ws, number, ledger=ledger)
    if held is None or status is None or status in NOT_PUBLIC:
        return None
    details = held.details or {}
    return PublicCertificate(held.number, str(details.get("organisation") or ""),
                             str(details.get("standard") or held.standard), held.standard,
                             held.level or details.get("level"), held.issued_on or details.get("issue_date"),
                             held.expires_on or details.get("expiry_date"), status,
                             str(details.get("credit_code") or ""))
