"""Certificates in the ledger: their state, their changes (append-only) and the certification
decisions, on an open connection inside the caller's transaction (``Ledger.transaction``). The rules
are ``core/certify.py`` (what a result means) and ``core/lifecycle.py`` (the allowed changes).

docs/architecture.md, "The life of a certificate"."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date

from pipeline.core.certificates import add_months
from pipeline.core.certify import Facts, Held, Plan, plan, printed_changes
from pipeline.core.lifecycle import CHANGES, Event, change, expired
from pipeline.errors import CertpipeError
from pipeline.i18n import Message

#: Who made a change that no person made: ``[decision] mode = "auto"``, expiry.
AUTO = "auto"
SYSTEM = "system"


@dataclass(frozen=True)
class CertificateRow:
    """A certificate as the ledger holds it now (``status`` with expiry applied as of the day read)."""

    number: str
    audit_id: str
    standard: str
    level: str | None
    status: str
    issued_on: str | None
    expires_on: str | None
    surveillance_due: str | None
    suspended_until: str | None
    renews: str | None
    details: dict

    @property
    def organisation(self) -> str:
        return str(self.details.get("organisation") or "")

    def to_json(self) -> dict:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "details"}
        return data | {"organisation": self.organisation, "credit_code": self.details.get("credit_code") or "",
                       "standard_code": self.details.get("standard") or "", "scope": self.details.get("scope") or ""}


_CERT_COLUMNS = ("number, audit_id, standard, level, status, issued_on, expires_on, surveillance_due, "
                 "suspended_until, renews, details")


def _row(values: tuple, today: date | None) -> CertificateRow:
    row = CertificateRow(*values[:-1], json.loads(values[-1] or "{}"))
    if today is not None and row.status in ("issued", "suspended") and row.expires_on \
            and expired(date.fromisoformat(row.expires_on), today):
        row = CertificateRow(**{**row.__dict__, "status": "expired"})
    return row


def certificate(db: sqlite3.Connection, number: str, *, today: date | None = None) -> CertificateRow | None:
    found = db.execute(f"SELECT {_CERT_COLUMNS} FROM certificates WHERE number = ?", (number,)).fetchone()
    return _row(found, today) if found else None


def certificate_rows(db: sqlite3.Connection, *, status: str | None = None, today: date | None = None,
                     limit: int | None = None, due_by: date | None = None) -> list[CertificateRow]:
    """Every certificate (or those of ``status``), oldest first. ``due_by``: only those in force
    with a surveillance or an expiry by then, or a suspension past its end (read by index: what is
    due among 10,000 certificates without decoding them all)."""
    sql, args = f"SELECT {_CERT_COLUMNS} FROM certificates", ()
    if due_by is not None:
        sql += (" WHERE status IN ('issued', 'suspended') AND (surveillance_due <= ? OR expires_on <= ? "
                "OR (status = 'suspended' AND suspended_until < ?))")
        args = (due_by.isoformat(), due_by.isoformat(), (today or date.today()).isoformat())
    rows = [_row(r, today) for r in db.execute(sql + " ORDER BY year, seq", args)]
    if status:
        rows = [r for r in rows if r.status == status]
    return rows[:limit] if limit else rows


def events(db: sqlite3.Connection, number: str | None = None) -> list[Event]:
    """The changes of one certificate (or of all), oldest first."""
    sql = "SELECT number, at, action, status, by, reason, level, audit_id, until FROM certificate_events"
    args: tuple = ()
    if number is not None:
        sql += " WHERE number = ?"
        args = (number,)
    return [Event(*r) for r in db.execute(sql + " ORDER BY id", args)]


def add_event(db: sqlite3.Connection, number: str, at: str, action: str, status: str, by: str, *,
              reason: str = "", level: str | None = None, audit_id: str | None = None,
              until: str | None = None, done: bool = False) -> int:
    """Keep one change. ``done``: what it changes outside the ledger is written already (the
    ``status.json`` a run publishes with the certificate)."""
    return db.execute("INSERT INTO certificate_events (number, at, action, status, by, reason, level, audit_id, "
                      "until, done) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      (number, at, action, status, by, reason, level, audit_id, until, int(done))).lastrowid


def status_document(held: CertificateRow, history: list[Event]) -> dict:
    """``status.json``: the certificate's status now and every change of it."""
    return held.to_json() | {"history": [e.to_json() for e in history]}


# ---- what a result means -----------------------------------------------------------------------
def _held(db: sqlite3.Connection, sql: str, arg: str) -> Held | None:
    found = db.execute(f"SELECT number, level, status, COALESCE(issued_on, substr(issued_at, 1, 10)) "
                       f"FROM certificates WHERE {sql} = ?", (arg,)).fetchone()
    return Held(*found) if found else None


def plan_for(db: sqlite3.Connection, audit_id: str, level: str | None, ranks: dict[str, int], *,
             review: bool, type_key, written_type: str = "", printed: dict | None = None,
             audit_end: date | None = None) -> Plan:
    """The plan of an accepted result (``core.certify.plan``) from what the ledger holds now.
    ``type_key``: the key of an audit type as written (``excel.checks`` knows the labels);
    ``written_type``: the workbook's. The type recorded when the audit was generated wins; a
    workbook that says another is refused (a surveillance is not made an initial audit by a cell).
    ``printed``: what the result would print on a certificate (``core.certify.PRINTED``), compared
    with the certificate it revises or belongs to."""
    found = db.execute("SELECT audit_type, certificate_no FROM audits WHERE audit_id = ?", (audit_id,)).fetchone()
    recorded, linked_number = (found if found else ("", None))
    recorded_key, written_key = type_key(recorded or "") or "", type_key(written_type or "") or ""
    if recorded_key and written_key and recorded_key != written_key:
        return Plan("refuse", why=Message("cert.type_differs", {
            "audit_id": audit_id, "recorded": Message(f"wb.audit_type.{recorded_key}"),
            "written": Message(f"wb.audit_type.{written_key}")}))
    audit_type = recorded_key or written_key
    linked = _held(db, "number", linked_number) if linked_number else None
    own = _held(db, "audit_id", audit_id)
    concerned = linked if audit_type == "surveillance" else own
    changes = ()
    if concerned is not None and printed:
        (details,) = db.execute("SELECT details FROM certificates WHERE number = ?", (concerned.number,)).fetchone()
        changes = printed_changes(json.loads(details or "{}"), printed)
    return plan(Facts(audit_type=audit_type, level=level, ranks=ranks, own=own, linked=linked,
                      linked_number=linked_number, review=review, changes=changes, audit_end=audit_end))


@dataclass(frozen=True)
class Result:
    """What ``record_result`` needs of an accepted input besides its plan."""

    row: int
    audit_id: str
    revision: int | None
    level: str | None
    details: dict | None
    auditors: tuple[str, ...]
    surveillance_months: int


def record_result(db: sqlite3.Connection, p: Plan, r: Result, stamp: str) -> None:
    """An accepted result's consequences for certificates, in the transaction that records its
    outcome: a certificate issued (a recertification's old one superseded), revised or maintained,
    or a decision waiting (an older one of the same audit replaced)."""
    newest = db.execute("SELECT COALESCE(MAX(revision), 0) FROM inputs WHERE audit_id = ? AND status = 'done'",
                        (r.audit_id,)).fetchone()[0] <= (r.revision or 0)
    if not newest:  # an older revision finished after a newer one: the newer one decided
        return
    db.execute("UPDATE decisions SET status = 'replaced' WHERE audit_id = ? AND status = 'pending'", (r.audit_id,))
    if p.action in ("issue", "reissue"):
        d = r.details or {}
        first = not db.execute("SELECT 1 FROM certificate_events WHERE number = ? AND action = 'issue'",
                               (p.number,)).fetchone()
        db.execute("UPDATE certificates SET org_id = (SELECT org_id FROM audits WHERE audit_id = ?), level = ?, "
                   "issued_on = ?, expires_on = ?, surveillance_due = COALESCE(surveillance_due, ?), "
                   "renews = COALESCE(renews, ?) WHERE number = ?",
                   (r.audit_id, r.level, d.get("issue_date"), d.get("expiry_date"), d.get("surveillance_due"),
                    p.renews, p.number))
        if first:
            db.execute("INSERT INTO decisions (audit_id, input_id, revision, kind, level, number, renews, auditors, "
                       "status, created_at, decided_by, decided_at) VALUES (?, ?, ?, 'issue', ?, ?, ?, ?, "
                       "'approved', ?, ?, ?)", (r.audit_id, r.row, r.revision, r.level, p.number, p.renews,
                                                json.dumps(r.auditors, ensure_ascii=False), stamp, AUTO, stamp))
        # a first issue needs no status.json (the scorecard says issued); a revision's folder replaced the
        # one that may have held it, and a recertification changes the old certificate: written after the batch
        add_event(db, p.number, stamp, "issue" if first else "revise", "issued", AUTO, level=r.level,
                  audit_id=r.audit_id, done=first and not p.renews, reason=changes_record(p.changes))
        if first and p.renews:
            supersede(db, p.renews, p.number, stamp)
    elif p.action == "maintain":
        maintain(db, p.number, r.audit_id, r.level, AUTO, stamp, r.surveillance_months)
    elif p.action == "wait":
        db.execute("INSERT INTO decisions (audit_id, input_id, revision, kind, level, number, renews, auditors, "
                   "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (r.audit_id, r.row, r.revision, p.kind, r.level, p.number, p.renews,
                    json.dumps(r.auditors, ensure_ascii=False), stamp))


def supersede(db: sqlite3.Connection, old: str, new: str, stamp: str) -> None:
    held = certificate(db, old)
    after = CHANGES.get((held.status, "supersede")) if held is not None else None
    if after is None:
        return  # withdrawn, expired meanwhile: it stays so
    db.execute("UPDATE certificates SET status = ? WHERE number = ?", (after, old))
    add_event(db, old, stamp, "supersede", after, SYSTEM, reason=new)


def maintain(db: sqlite3.Connection, number: str, audit_id: str, level: str | None, by: str, stamp: str,
             months: int, *, reason: str = "") -> None:
    """A surveillance confirmed the certificate: the next surveillance moves on by ``months`` (once per
    surveillance audit; a revision of it does not move it again)."""
    again = db.execute("SELECT 1 FROM certificate_events WHERE number = ? AND action = 'maintain' AND audit_id = ?",
                       (number, audit_id)).fetchone()
    if not again:
        due = db.execute("SELECT surveillance_due FROM certificates WHERE number = ?", (number,)).fetchone()[0]
        if due:
            db.execute("UPDATE certificates SET surveillance_due = ? WHERE number = ?",
                       (add_months(date.fromisoformat(due), months).isoformat(), number))
    if level is not None:
        db.execute("UPDATE certificates SET level = ? WHERE number = ?", (level, number))
    status = db.execute("SELECT status FROM certificates WHERE number = ?", (number,)).fetchone()[0]
    add_event(db, number, stamp, "maintain", status, by, reason=reason, level=level, audit_id=audit_id)


# ---- changes people make -----------------------------------------------------------------------
def transition(db: sqlite3.Connection, number: str, action: str, *, by: str, reason: str, stamp: str,
               today: date, until: date | None = None) -> Event:
    """One change of ``core.lifecycle.CHANGES`` applied and kept; an illegal one refused."""
    held = certificate(db, number, today=today)
    if held is None:
        raise CertpipeError("cert.unknown", {"number": number})
    after = change(held.status, action, number=number)
    if action == "suspend":
        expires = date.fromisoformat(held.expires_on) if held.expires_on else None
        if until is not None and expires is not None and until > expires:  # it cannot outlast the certificate
            raise CertpipeError("cert.until_after_expiry", {"until": until.isoformat(), "number": number,
                                                            "expires": expires.isoformat()})
        until = until or min(add_months(today, 6), expires or date.max)  # six months, or to its last day
        if until <= today:
            raise CertpipeError("cert.until_past", {"until": until.isoformat()})
    db.execute("UPDATE certificates SET status = ?, suspended_until = ? WHERE number = ?",
               (after, until.isoformat() if action == "suspend" and until else None, number))
    add_event(db, number, stamp, action, after, by, reason=reason, until=until.isoformat() if until else None)
    return Event(number, stamp, action, after, by, reason, until=until.isoformat() if until else None)


def expire_due(db: sqlite3.Connection, today: date, stamp: str) -> list[str]:
    """Certificates whose validity ended before ``today`` become expired (kept as a change)."""
    numbers = [n for (n,) in db.execute(
        "SELECT number FROM certificates WHERE status IN ('issued', 'suspended') AND expires_on < ?",
        (today.isoformat(),))]
    for number in numbers:
        db.execute("UPDATE certificates SET status = 'expired' WHERE number = ?", (number,))
        add_event(db, number, stamp, "expire", "expired", SYSTEM)
    return numbers


def audit_type_of(text: str) -> str | None:
    """The key of an audit type as a cover or a schedule writes it (its Chinese or English label)."""
    from pipeline.core.audit import audit_type_key
    from pipeline.excel.checks import type_labels

    return audit_type_key(text, type_labels(), synonyms=True)


def auditors_of(lead: str, others: str) -> tuple[str, ...]:
    """The people named as the audit's team: the lead auditor and each of the auditors (separated by
    commas, 、, ；, spaces or slashes)."""
    import re

    names = [lead, *re.split(r"[,，、;；/\s]+", others or "")]
    return tuple(dict.fromkeys(n.strip() for n in names if n and n.strip()))


def plan_note(p: Plan | None):
    """What a person should know of an accepted result's plan (``None``: nothing beyond the outcome)."""
    if p is not None and p.action == "reissue" and p.changes:  # auto mode: re-issued, the change said
        return Message("cert.reissued_change", {"number": p.number or "", **changes_params(p.changes)})
    if p is None or p.action not in ("wait", "maintain"):
        return None
    if p.action == "maintain":
        return Message("cert.maintained", {"number": p.number})
    if p.changes:
        return Message(f"cert.awaiting_{p.kind}_change", {"number": p.number or "", **changes_params(p.changes)})
    return Message(f"cert.awaiting_{p.kind}", {"number": p.number or ""})


def changes_of(note: str | None) -> tuple[tuple[str, str, str], ...]:
    """The ``changes`` an input's outcome note keeps (``plan_note``), from its JSON in the ledger."""
    try:
        params = json.loads(note or "{}").get("params") or {}
        listed = params["changes"]["$msg"]["params"]
        return tuple((c["$msg"]["params"]["field"]["$msg"]["key"].removeprefix("cert.field."),
                      str(c["$msg"]["params"]["before"]), str(c["$msg"]["params"]["after"]))
                     for _, c in sorted(listed.items()))
    except (ValueError, TypeError, KeyError, AttributeError):
        return ()


def changes_record(changes) -> str:
    """A plan's ``changes`` as a history entry keeps them (data: the field's key, before → after)."""
    return "; ".join(f"{key}: {before} → {after}" for key, before, after in changes)


def changes_params(changes) -> dict:
    """A plan's ``changes`` as a message's parameters: ``changes``, each field's before → after."""
    return {"changes": Message(f"cert.changes.{len(changes)}", {
        f"c{i}": Message("cert.change", {"field": Message(f"cert.field.{key}"), "before": before or "—",
                                         "after": after or "—"})
        for i, (key, before, after) in enumerate(changes)})}
