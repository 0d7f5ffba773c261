"""Organisations and audits with identity, in the ledger (the system of record).

- An organisation is known by its unified social credit code where it has one, else by its
  normalised name (``name_key``: full-width forms folded, case, spaces and punctuation ignored);
  every name and address it was given is kept (``organisation_names``).
- An audit id is allocated by the workspace when a workbook is generated (``allocate_audit``): the
  next ``<SHORT>-<year>-<NNN>`` after every id the ledger or the outbox knows, never from a folder
  listing. The audit is recorded with its organisation, standard, edition, definition hash, type,
  planned dates, who made it and when.
- At intake (``identity_problem``) a workbook whose audit id the workspace allocated to another
  organisation is refused, so no certificate ever goes to another company; one whose audit id the
  workspace never allocated is refused unless ``[intake] accept_unknown_audits``.

docs/architecture.md, "Records"."""

from __future__ import annotations

import contextlib
import functools
import getpass
import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from pipeline.atomic import append_lines
from pipeline.core.audit import AuditInfo
from pipeline.core.ids import short_code, valid_audit_id
from pipeline.core.standard import Standard
from pipeline.errors import AuditExists, CertpipeError
from pipeline.flow.guard import refuse_lost_ledger
from pipeline.flow.ledger import Ledger, now
from pipeline.flow.orgs import name_key, organisation
from pipeline.i18n import Message
from pipeline.workspace import Workspace


@dataclass(frozen=True)
class AuditRecord:
    audit_id: str
    org_id: int | None
    org_name: str
    credit_code: str | None
    standard: str
    origin: str


@functools.cache
def who() -> str:
    """Who is doing this: the operating-system user (a console user once there is a console). Asked
    once per process: without ``USER``/``LOGNAME`` in the environment (a service) it is a look-up in
    the password database, which was read again for every audit recorded (and may be a directory
    server's)."""
    try:
        return getpass.getuser()
    except Exception:  # no user name in a container: say so rather than fail
        return "?"


def _taken(db: sqlite3.Connection, prefix: str, outbox: Path | None) -> int:
    """The highest ``NNN`` of ``<prefix>NNN`` the ledger or the outbox knows."""
    pattern = re.compile(re.escape(prefix) + r"(\d+)$")
    ids = [r[0] for r in db.execute("SELECT audit_id FROM audits WHERE audit_id LIKE ? ESCAPE '\\'",
                                    (prefix.replace("_", "\\_").replace("%", "\\%") + "%",))]
    ids += [r[0] for r in db.execute("SELECT DISTINCT audit_id FROM inputs WHERE audit_id LIKE ? ESCAPE '\\'",
                                     (prefix.replace("_", "\\_").replace("%", "\\%") + "%",))]
    if outbox is not None and outbox.is_dir():
        ids += [p.name for p in outbox.iterdir() if p.name.startswith(prefix)]
    return max((int(m.group(1)) for i in ids if (m := pattern.match(i))), default=0)


def allocate_audit(ledger: Ledger, std: Standard, info: AuditInfo, *, outbox: Path | None = None,
                   audit_type: str = "", year: int | None = None, planned_once: bool = False,
                   certificate_no: str | None = None, check: Callable[[str], None] | None = None) -> str:
    """Record a new audit of ``info``'s organisation and return its id: ``info.audit_id`` when given
    (refused when the workspace gave it to another organisation), else the next free one. With
    ``planned_once`` (a schedule's row), an audit of the same organisation and standard with the same
    planned dates generated before is ``AuditExists`` instead."""
    with ledger.transaction(durable=True) as db:
        org_id = organisation(db, info.org_name, info.org_credit_code, info.org_address, "generated", now())
        if planned_once and not info.audit_id and org_id is not None:
            start = info.audit_start.isoformat() if info.audit_start else None
            end = info.audit_end.isoformat() if info.audit_end else None
            found = db.execute("SELECT audit_id FROM audits WHERE org_id = ? AND standard = ? AND planned_start IS ? "
                               "AND planned_end IS ? ORDER BY created_at DESC LIMIT 1",
                               (org_id, std.key, start, end)).fetchone()
            if found:
                raise AuditExists(found[0])
        wanted = info.audit_id
        if wanted:
            if not valid_audit_id(wanted):
                raise CertpipeError("wbcli.bad_audit_id", {"value": wanted})
            existing = _record(db, wanted)
            twin = case_twin(db, wanted) if existing is None else None
            if twin is not None:
                raise CertpipeError("rec.audit_id_case", {"audit_id": wanted, "known": twin})
            if existing is not None:
                if not _matches(existing, info):
                    raise CertpipeError("rec.audit_taken", {"audit_id": wanted, "theirs": existing.org_name,
                                                             "ours": info.org_name})
                return wanted
            audit_id = wanted
        else:
            prefix = f"{short_code(std)}-{year or date.today().year}-"
            audit_id = f"{prefix}{_taken(db, prefix, outbox) + 1:03d}"
        if check is not None:  # the caller's last word (its file taken): raising leaves nothing recorded
            check(audit_id)
        db.execute(
            "INSERT INTO audits (audit_id, org_id, standard, edition, fingerprint, audit_type, planned_start, "
            "planned_end, certificate_no, origin, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'generated', ?, ?)",
            (audit_id, org_id, std.key, std.edition, std.fingerprint(), audit_type or info.audit_type,
             info.audit_start.isoformat() if info.audit_start else None,
             info.audit_end.isoformat() if info.audit_end else None, certificate_no, who(), now()))
        return audit_id


def _record(db: sqlite3.Connection, audit_id: str) -> AuditRecord | None:
    row = db.execute("SELECT a.audit_id, a.org_id, COALESCE(o.name, ''), o.credit_code, a.standard, a.origin "
                     "FROM audits a LEFT JOIN organisations o ON o.id = a.org_id WHERE a.audit_id = ?",
                     (audit_id,)).fetchone()
    return AuditRecord(*row) if row else None


def case_twin(db: sqlite3.Connection, audit_id: str) -> str | None:
    """A recorded audit id that differs from ``audit_id`` only in the case of its letters. Windows and
    macOS keep the two in one outbox folder: the second would be published over the first's
    documents and certificate, so it is refused."""
    row = db.execute("SELECT audit_id FROM audits WHERE audit_id = ? COLLATE NOCASE AND audit_id != ? LIMIT 1",
                     (audit_id, audit_id)).fetchone()
    return row[0] if row else None


def _matches(record: AuditRecord, info: AuditInfo) -> bool:
    """Whether ``info`` names the organisation the audit was recorded for: by credit code where both
    have one, else by normalised name (an audit recorded without its organisation matches any)."""
    if record.org_id is None:
        return True
    code = (info.org_credit_code or "").strip().upper()
    if code and record.credit_code:
        return code == record.credit_code
    return name_key(info.org_name) == name_key(record.org_name)


def identity_problem(record: AuditRecord | None, info: AuditInfo, *, accept_unknown: bool) -> Message | None:
    """Why a workbook may not be processed under its audit id: another organisation's audit, or an
    audit this workspace never allocated (unless accepted); ``None`` when it may."""
    if record is None:
        return None if accept_unknown else Message("val.audit_unknown", {"audit_id": info.audit_id})
    if _matches(record, info):
        return None
    return Message("val.audit_other_org", {"audit_id": info.audit_id, "theirs": record.org_name or "?",
                                            "credit_code": record.credit_code or "—", "ours": info.org_name})


def records_say(db: sqlite3.Connection, info: AuditInfo, *, accept_unknown: bool
                ) -> tuple[AuditRecord | None, Message | None]:
    """The audit recorded under ``info``'s id, and why the workbook may not be processed under it
    (``identity_problem``; for an id not recorded, ``id_problem``)."""
    record = _record(db, info.audit_id)
    if record is None:
        return None, _unrecorded(db, info.audit_id, accept_unknown)
    return record, identity_problem(record, info, accept_unknown=accept_unknown)


def id_problem(db: sqlite3.Connection, audit_id: str, *, accept_unknown: bool) -> Message | None:
    """What the records say against an audit id alone (unknown here, or another's in other case): for
    a workbook with other problems too, so that all of them are said at once."""
    return None if _record(db, audit_id) is not None else _unrecorded(db, audit_id, accept_unknown)


def _unrecorded(db: sqlite3.Connection, audit_id: str, accept_unknown: bool) -> Message | None:
    twin = case_twin(db, audit_id)
    if twin is not None:
        return Message("val.audit_id_case", {"audit_id": audit_id, "known": twin})
    return None if accept_unknown else Message("val.audit_unknown", {"audit_id": audit_id})


def record_intake(ledger: Ledger, accepted: list[tuple[Standard, AuditInfo, bool]],
                  *, accept_unknown: bool) -> list[Message | None]:
    """At intake, for a group's accepted audits (standard, cover, accepted without a record?), in one
    transaction that other workers wait for: each audit's identity checked again against what is
    recorded now (an earlier input of this group or another worker may just have recorded it), an
    external audit recorded, an audit recorded without its organisation given it, and the cover's
    name and address added to the organisation's history. Returns, per audit, why it may not be
    processed after all (``None``: it may)."""
    verdicts: list[Message | None] = []
    with ledger.transaction() as db:
        for std, info, _unknown in accepted:
            record, why = records_say(db, info, accept_unknown=accept_unknown)
            verdicts.append(why)
            if why is not None:
                continue
            org_id = organisation(db, info.org_name, info.org_credit_code, info.org_address,
                                  f"intake {info.audit_id}", now())
            if record is None:
                db.execute("INSERT INTO audits (audit_id, org_id, standard, edition, audit_type, origin, "
                           "created_by, created_at) VALUES (?, ?, ?, ?, ?, 'external', ?, ?)",
                           (info.audit_id, org_id, std.key, std.edition, info.audit_type, who(), now()))
            elif record.org_id is None:
                db.execute("UPDATE audits SET org_id = ? WHERE audit_id = ? AND org_id IS NULL",
                           (org_id, info.audit_id))
            if record is not None and record.standard != std.key:  # carried to a new edition (certpipe migrate)
                db.execute("UPDATE audits SET standard = ?, edition = ?, fingerprint = ? WHERE audit_id = ?",
                           (std.key, std.edition, std.fingerprint(), info.audit_id))
    return verdicts


@contextlib.contextmanager
def allocator(ws: Workspace, *, planned_once: bool = False) -> Iterator[Callable[[Standard, AuditInfo], str]]:
    """``allocate(standard, cover) -> audit id`` on the workspace's ledger, for as long as it is open.
    Refused (``ledger rebuild`` first) when the ledger is missing beside published audits: ids and
    numbers would start again."""
    ws.state.mkdir(parents=True, exist_ok=True)
    refuse_lost_ledger(ws)
    ledger = Ledger(ws.ledger)

    def allocate(std: Standard, info: AuditInfo, certificate_no: str | None = None,
                 check: Callable[[str], None] | None = None) -> str:
        audit_id = allocate_audit(ledger, std, info, outbox=ws.outbox, planned_once=planned_once,
                                  certificate_no=certificate_no, check=check)
        _journal(ws, std, replace(info, audit_id=audit_id), certificate_no)
        return audit_id

    try:
        yield allocate
    finally:
        ledger.close()


def _journal(ws: Workspace, std: Standard, info: AuditInfo, certificate_no: str | None = None) -> None:
    """One line in the audit journal (``Workspace.audit_journal``), on disk when this returns."""
    line = json.dumps({"audit_id": info.audit_id, "standard": std.key, "edition": std.edition,
                       "fingerprint": std.fingerprint(), "org_name": info.org_name,
                       "credit_code": info.org_credit_code, "address": info.org_address,
                       "audit_type": info.audit_type,
                       "planned_start": info.audit_start.isoformat() if info.audit_start else None,
                       "planned_end": info.audit_end.isoformat() if info.audit_end else None,
                       "certificate_no": certificate_no, "by": who(), "at": now()}, ensure_ascii=False)
    append_lines(ws.audit_journal, [line])


def journal_audits(db: sqlite3.Connection, journal: Path) -> int:
    """The audits of the journal put into a (rebuilt) ledger; returns how many were new to it."""
    if not journal.is_file():
        return 0
    added = 0
    for line in journal.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
            audit_id = str(entry["audit_id"])
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by a crash
        org_id = organisation(db, str(entry.get("org_name") or ""), str(entry.get("credit_code") or ""),
                              str(entry.get("address") or ""), f"journal {audit_id}", str(entry.get("at") or ""))
        fields = (org_id, str(entry.get("standard") or ""), str(entry.get("edition") or ""),
                  str(entry.get("fingerprint") or ""), str(entry.get("audit_type") or ""),
                  entry.get("planned_start"), entry.get("planned_end"), entry.get("certificate_no"),
                  str(entry.get("by") or ""), str(entry.get("at") or ""))
        added += db.execute(
            "INSERT OR IGNORE INTO audits (audit_id, org_id, standard, edition, fingerprint, audit_type, "
            "planned_start, planned_end, certificate_no, origin, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'generated', ?, ?)",
            (audit_id, *fields)).rowcount
        # an audit the outbox gave back (rebuilt) learns what it was planned as
        db.execute("UPDATE audits SET fingerprint = ?, audit_type = ?, planned_start = ?, planned_end = ?, "
                   "certificate_no = ?, created_by = ?, created_at = ? WHERE audit_id = ? AND origin = 'rebuilt'",
                   (*fields[3:], audit_id))
    return added


def certificate_audit(ws: Workspace, standard: str, info: AuditInfo, audit_type: str, certificate_no: str | None,
                      lang: str) -> AuditInfo:
    """The cover of a new audit of ``audit_type`` (a key of ``AUDIT_TYPES``): a surveillance or a
    recertification names the certificate it belongs to, which must be one of this workspace's,
    living, of the same standard, held by the organisation named (its name and credit code are
    taken from the certificate when none is given)."""
    from pipeline.core.audit import AUDIT_TYPES
    from pipeline.flow.certs import certificate
    from pipeline.i18n import t

    if audit_type not in AUDIT_TYPES:
        raise CertpipeError("rec.bad_type", {"value": audit_type, "allowed": ", ".join(AUDIT_TYPES)})
    info = replace(info, audit_type=t(f"wb.audit_type.{audit_type}", lang))
    if audit_type == "initial":
        if certificate_no:
            raise CertpipeError("rec.initial_with_certificate", {"number": certificate_no})
        return info
    if not certificate_no:
        raise CertpipeError("rec.needs_certificate", {"type": t(f"wb.audit_type.{audit_type}", lang)})
    refuse_lost_ledger(ws)
    with Ledger(ws.ledger) as ledger:
        held = certificate(ledger.db, certificate_no, today=date.today())
    if held is None:
        raise CertpipeError("cert.unknown", {"number": certificate_no})
    if held.status not in ("issued", "suspended"):
        raise CertpipeError("rec.certificate_not_living", {"number": certificate_no,
                                                          "status": Message(f"cert.status.{held.status}")})
    if held.standard != standard:
        raise CertpipeError("rec.certificate_other_standard", {"number": certificate_no, "theirs": held.standard,
                                                               "ours": standard})
    code = str(held.details.get("credit_code") or "")
    if not info.org_name:
        return replace(info, org_name=held.organisation, org_credit_code=info.org_credit_code or code)
    same = (info.org_credit_code.strip().upper() == code) if info.org_credit_code and code \
        else name_key(info.org_name) == name_key(held.organisation)
    if not same:
        raise CertpipeError("rec.certificate_other_org", {"number": certificate_no, "theirs": held.organisation,
                                                          "ours": info.org_name})
    return replace(info, org_credit_code=info.org_credit_code or code)
