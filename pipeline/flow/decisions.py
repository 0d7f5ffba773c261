"""Certification decisions and the changes people make to certificates, with what each changes
outside the ledger: the certificate document of an approval, ``status.json`` beside the
certificate, the notice to the holder, the register.

Each change is first committed to the ledger with ``done = 0``; what it changes on disk is then
written, and the change marked done. A crash in between leaves the change recorded and its files
unwritten: the next command that opens the workspace (``catch_up``) writes them, once. Nothing here
takes the workspace's lock: a decision can be taken while ``watch`` runs (they meet only in ledger
transactions and in the per-folder publishing lock).

docs/architecture.md, "The life of a certificate"."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipeline.atomic import write_bytes
from pipeline.config import Config
from pipeline.core.certificates import CertificateInfo, issue, number_request
from pipeline.core.lifecycle import MANUAL
from pipeline.core.persons import in_team, person_key
from pipeline.core.scoring import score
from pipeline.errors import CertpipeError
from pipeline.filenames import safe_name
from pipeline.flow import certs
from pipeline.flow.decision_outputs import publish_decision
from pipeline.flow.decision_record import record_decision
from pipeline.flow.faults import crashpoint
from pipeline.flow.guard import note_numbers
from pipeline.flow.ledger import Ledger, now
from pipeline.flow.publish import fsync_dir, fsync_file, staging_dir
from pipeline.i18n import Message
from pipeline.lock import file_lock
from pipeline.workspace import Workspace

log = logging.getLogger("certpipe")


@dataclass(frozen=True)
class Decision:
    id: int
    audit_id: str
    kind: str
    level: str | None
    number: str | None
    status: str
    created_at: str
    auditors: tuple[str, ...]
    decided_by: str | None = None
    decided_at: str | None = None
    reason: str = ""
    standard: str = ""
    organisation: str = ""
    changes: tuple[tuple[str, str, str], ...] = ()  # what the certificate prints that the result changes

    @property
    def changes_note(self) -> Message | None:
        """``changes`` as people read them (field 「before」→「after」; …), or None."""
        return certs.changes_params(self.changes)["changes"] if self.changes else None

    def to_json(self) -> dict:
        data = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}
        data["changes"] = [{"field": k, "before": b, "after": a} for k, b, a in self.changes]
        return data


_DECISION_SQL = ("SELECT d.id, d.audit_id, d.kind, d.level, d.number, d.status, d.created_at, d.auditors, "
                 "d.decided_by, d.decided_at, d.reason, a.standard, COALESCE(o.name, ''), i.note FROM decisions d "
                 "LEFT JOIN audits a ON a.audit_id = d.audit_id LEFT JOIN organisations o ON o.id = a.org_id "
                 "LEFT JOIN inputs i ON i.id = d.input_id")


def _decision(row: tuple) -> Decision:
    values = list(row)
    values[7] = tuple(json.loads(values[7] or "[]"))
    values[-1] = certs.changes_of(values[-1])
    return Decision(*values)


def queue(ledger: Ledger, *, status: str = "pending") -> list[Decision]:
    """The decisions of ``status`` (the queue: ``pending``), oldest first."""
    return [_decision(r) for r in ledger.db.execute(_DECISION_SQL + " WHERE d.status = ? ORDER BY d.id", (status,))]


def _pending(ledger: Ledger, audit_id: str) -> Decision:
    found = ledger.db.execute(_DECISION_SQL + " WHERE d.audit_id = ? AND d.status = 'pending'", (audit_id,)).fetchone()
    if found is None:
        raise CertpipeError("decide.none_pending", {"audit_id": audit_id})
    return _decision(found)


def same_person_key(name: str) -> str:
    """A name as compared for independence (``core/persons.py``): full-width forms folded (NFKC), case
    ignored, every space gone — a two-character Chinese name is often written with a full-width space
    (王　立) — and the role written beside it dropped (``刘洋（组长）`` is 刘洋)."""
    return person_key(name)


def _independent(decision: Decision, by: str) -> None:
    """ISO/IEC 17065 7.6: whoever decides took no part in the evaluation."""
    if not same_person_key(by):
        raise CertpipeError("decide.no_name", {})
    if in_team(by, decision.auditors):
        raise CertpipeError("decide.not_independent", {"by": by, "audit_id": decision.audit_id,
                                                       "team": "、".join(decision.auditors)})


#: The changes that are decisions on certification (ISO/IEC 17065 7.6, 7.11: suspending, restoring,
#: withdrawing): taken by someone who took part in no audit of the certificate. A cancellation at
#: the holder's request decides nothing about conformity and is not among them.
INDEPENDENT_CHANGES = ("suspend", "restore", "withdraw")


def certificate_teams(db, number: str) -> list[tuple[str, tuple[str, ...]]]:
    """Every audit of the certificate ``number`` whose team the ledger knows (the audit that issued
    it, its revisions, surveillances and recertification decisions): (audit id, team)."""
    rows = db.execute("SELECT d.audit_id, d.auditors FROM decisions d WHERE d.number = ? OR d.audit_id = "
                      "(SELECT audit_id FROM certificates WHERE number = ?) ORDER BY d.id", (number, number))
    teams: dict[str, list[str]] = {}
    for audit_id, auditors in rows:
        names = teams.setdefault(audit_id, [])
        names += [n for n in json.loads(auditors or "[]") if n not in names]
    return [(audit_id, tuple(names)) for audit_id, names in teams.items()]


def _independent_of_certificate(db, number: str, action: str, by: str) -> None:
    if action not in INDEPENDENT_CHANGES:
        return
    for audit_id, team in certificate_teams(db, number):
        if in_team(by, team):
            raise CertpipeError("cert.not_independent", {
                "by": by, "number": number, "audit_id": audit_id, "team": "、".join(team),
                "action": Message(f"cert.verb.{action}")})


def decide(ws: Workspace, config: Config, audit_id: str, *, approve: bool, by: str, reason: str = "",
           today: date | None = None) -> Decision:
    """Approve or refuse the audit's waiting decision. An approval of a new certificate allocates its
    number and issues it today; of a changed level, the certificate keeps its number and dates and
    takes the new level (a surveillance's next date moves on). A refusal leaves every certificate as
    it was. Returns the decision as taken."""
    today = today or date.today()
    ledger = Ledger(ws.ledger)
    try:
        decision = _pending(ledger, audit_id)
        _independent(decision, by)
        if approve and decision.level is None:
            raise CertpipeError("decide.no_level", {"audit_id": audit_id, "number": decision.number or ""})
        audit = std = card = None
        if approve and decision.kind == "issue":  # its number needs the standard and the level reached
            audit, std, card = _result(ws, config, ledger, decision)
        stamp = now()
        with ledger.transaction(durable=True) as db:
            taken = db.execute("UPDATE decisions SET status = ?, decided_by = ?, decided_at = ?, reason = ? "
                               "WHERE id = ? AND status = 'pending'",
                               ("approved" if approve else "refused", by, stamp, reason, decision.id)).rowcount
            if not taken:
                raise CertpipeError("decide.none_pending", {"audit_id": audit_id})
            number = decision.number
            if approve and decision.kind == "issue":
                number = _issue(db, config, decision, audit, std, card, by, reason, stamp, today)
            elif approve:
                _new_level(db, config, decision, by, reason, stamp)
            elif number:
                status = db.execute("SELECT status FROM certificates WHERE number = ?", (number,)).fetchone()[0]
                certs.add_event(db, number, stamp, "refuse", status, by, reason=reason, level=decision.level,
                                audit_id=audit_id)
        if approve and decision.kind == "issue":
            note_numbers(ws, [number])
        record_decision(ws, ledger, decision.id)  # in the audit's outbox folder: a rebuilt ledger keeps it
        crashpoint("decided")
        failed = catch_up(ws, config, ledger)
        publish_decision(ws, config, ledger, decision.id)  # the audit's report and scorecard.json say it
        _written(failed, number)
        return _decision(ledger.db.execute(_DECISION_SQL + " WHERE d.id = ?", (decision.id,)).fetchone())
    finally:
        ledger.close()


def _result(ws: Workspace, config: Config, ledger: Ledger, decision: Decision):
    """The audit, its standard and score card, read again from the archived workbook the decision is about."""
    from pipeline.flow.check_file import validate_file

    row = ledger.db.execute("SELECT d.input_id, i.archived_to FROM decisions d JOIN inputs i ON i.id = d.input_id "
                            "WHERE d.id = ?", (decision.id,)).fetchone()
    path = _archived(ws, row[1] if row else None)
    if path is None:
        raise CertpipeError("decide.not_archived", {"audit_id": decision.audit_id})
    checked = validate_file(path, workspace_root=ws.root, max_file_mb=config.limits.max_file_mb,
                            max_member_mb=config.limits.max_member_mb)
    if checked.audit is None or checked.standard is None:
        raise CertpipeError("decide.unreadable", {"audit_id": decision.audit_id, "path": ws.shown(path)})
    return checked.audit, checked.standard, score(checked.standard, checked.audit.entries)


def _archived(ws: Workspace, shown: str | None) -> Path | None:
    if not shown:
        return None
    path = Path(shown)
    path = path if path.is_absolute() else ws.root / path
    return path if path.is_file() else None


def _issue(db, config: Config, decision: Decision, audit, std, card, by: str, reason: str, stamp: str,
           today: date) -> str:
    from pipeline.flow.ledger import allocate_number

    short, number_format, year, level = number_request(std, card, config.certificates, today)
    number = allocate_number(db, decision.audit_id, std.key, short, number_format, year, level, stamp)
    cfg = config.certificates
    renews = _renews(db, decision.id)
    info, details = issue(number, today, audit, std, card, cfg)  # what the register and the pages show
    db.execute("UPDATE certificates SET org_id = (SELECT org_id FROM audits WHERE audit_id = ?), level = ?, "
               "status = 'issued', issued_on = ?, expires_on = ?, surveillance_due = ?, renews = ?, details = ? "
               "WHERE number = ?",
               (decision.audit_id, level, today.isoformat(), info.expiry_date.isoformat(),
                info.surveillance_due.isoformat(), renews, json.dumps(details, ensure_ascii=False), number))
    db.execute("UPDATE decisions SET number = ? WHERE id = ?", (number, decision.id))
    # the audit's accepted inputs carry it, as those of a certificate issued at once (ledger, find)
    db.execute("UPDATE inputs SET certificate_no = ? WHERE audit_id = ? AND status = 'done' AND certificate_no IS NULL",
               (number, decision.audit_id))
    certs.add_event(db, number, stamp, "issue", "issued", by, reason=reason, level=level, audit_id=decision.audit_id)
    if renews:
        certs.supersede(db, renews, number, stamp)
    return number


def _renews(db, decision_id: int) -> str | None:
    """The certificate a recertification's new one supersedes, as the decision recorded it."""
    return db.execute("SELECT renews FROM decisions WHERE id = ?", (decision_id,)).fetchone()[0]


def _new_level(db, config: Config, decision: Decision, by: str, reason: str, stamp: str) -> None:
    """An approved level change: the certificate keeps its number and dates, with the new level (and
    the total that reached it, in what the register shows); after a surveillance, it is maintained
    (its next surveillance moves on)."""
    db.execute("UPDATE certificates SET details = json_set(details, '$.level', ?, '$.total', "
               "(SELECT total FROM inputs WHERE audit_id = ? AND status = 'done' ORDER BY revision DESC LIMIT 1)) "
               "WHERE number = ?", (decision.level, decision.audit_id, decision.number))
    for key, _, after in decision.changes:  # the scope or organisation the certificate now prints
        db.execute("UPDATE certificates SET details = json_set(details, ?, ?) WHERE number = ?",
                   (f"$.{key}", "" if after == "—" else after, decision.number))
    if decision.kind == "surveillance":
        certs.maintain(db, decision.number, decision.audit_id, decision.level, by, stamp,
                       config.certificates.surveillance_months, reason=reason)
    else:
        db.execute("UPDATE certificates SET level = ? WHERE number = ?", (decision.level, decision.number))
        status = db.execute("SELECT status FROM certificates WHERE number = ?", (decision.number,)).fetchone()[0]
        certs.add_event(db, decision.number, stamp, "revise", status, by, reason=reason, level=decision.level,
                        audit_id=decision.audit_id)


# ---- changes people make -----------------------------------------------------------------------
def change_certificate(ws: Workspace, config: Config, number: str, action: str, *, by: str, reason: str,
                       until: date | None = None, today: date | None = None):
    """``suspend``, ``restore``, ``withdraw`` or ``cancel`` a certificate (``core.lifecycle.CHANGES``),
    kept with who and why; its status file, notice and the register follow."""
    return change_certificates(ws, config, [number], action, by=by, reason=reason, until=until, today=today)[0]


def change_certificates(ws: Workspace, config: Config, numbers: list[str], action: str, *, by: str, reason: str,
                        until: date | None = None, today: date | None = None) -> list:
    """``change_certificate`` for many certificates at once, for the same reason: every one changed in
    one transaction, or none (the first that may not be changed so is refused by its number); then
    each one's notice and status file. Returns the changes (``Event``), in the order given."""
    if action not in MANUAL:
        raise CertpipeError("cert.bad_action", {"action": action, "allowed": ", ".join(MANUAL)})
    if not " ".join(by.split()):
        raise CertpipeError("decide.no_name", {})
    if not reason.strip():
        raise CertpipeError("cert.no_reason", {"action": action})
    today = today or date.today()
    numbers = list(dict.fromkeys(numbers))  # a number given twice is changed once
    ledger = Ledger(ws.ledger)
    try:
        with ledger.transaction(durable=True) as db:
            certs.expire_due(db, today, now())
            stamp = now()
            for number in numbers:
                _independent_of_certificate(db, number, action, by)
            events = [certs.transition(db, number, action, by=by, reason=reason, stamp=stamp, today=today,
                                       until=until) for number in numbers]
        crashpoint("changed")
        failed = catch_up(ws, config, ledger)
        for number in numbers:
            _written(failed, number)
        return events
    finally:
        ledger.close()


# ---- what a change writes outside the ledger ----------------------------------------------------
def catch_up(ws: Workspace, config: Config, ledger: Ledger, *,
             today: date | None = None) -> list[tuple[str, str]]:
    """Expiry applied as of ``today``, then every change not yet written outside the ledger written
    (certificate documents of approvals, notices, status files), each marked done. A change whose
    files cannot be written now (its archived workbook gone, a disk full) stays to be written by a
    later command and does not hold up the others: returns those, as (certificate number, why)."""
    with ledger.transaction() as db:
        certs.expire_due(db, today or date.today(), now())
    undone = ledger.db.execute("SELECT id, number, action, by, audit_id FROM certificate_events WHERE done = 0 "
                               "ORDER BY id").fetchall()
    written, failed, touched = [], [], {}
    for event_id, number, action, by, audit_id in undone:
        try:
            if action in ("issue", "revise", "maintain") and by not in (certs.AUTO, certs.SYSTEM) and audit_id:
                _certificate_document(ws, config, ledger, number, audit_id)
            if action in MANUAL:
                from pipeline.flow.notices import write_notice

                write_notice(ws, config, ledger, event_id)
        except (CertpipeError, OSError) as exc:
            why = exc.render(config.lang) if isinstance(exc, CertpipeError) else f"{type(exc).__name__}: {exc}"
            log.warning("certificate %s, change %s: %s", number, event_id, why)
            failed.append((number, why))
            continue
        written.append(event_id)
        touched[number] = True
    for number in touched:
        write_status(ws, ledger, number)
    if written:
        with ledger.transaction() as db:
            db.executemany("UPDATE certificate_events SET done = 1 WHERE id = ?", [(i,) for i in written])
    return failed


def _written(failed: list[tuple[str, str]], number: str | None) -> None:
    """A change just made is recorded; when its files could not be written, say so (a later command
    writes them)."""
    mine = [why for failed_number, why in failed if failed_number == number]
    if mine:
        raise CertpipeError("cert.files_pending", {"number": number or "", "detail": mine[-1]})


def catch_up_quietly(ws: Workspace, config: Config, ledger: Ledger, lang: str) -> None:
    """``catch_up`` for a driver after a batch: what cannot be written now is logged and written by
    the next command (the ledger keeps every change)."""
    try:
        catch_up(ws, config, ledger)  # what cannot be written is logged there
    except (CertpipeError, OSError) as exc:  # the ledger itself: the next command tries again
        log.warning("%s", exc.render(lang) if isinstance(exc, CertpipeError) else exc)


def _certificate_document(ws: Workspace, config: Config, ledger: Ledger, number: str, audit_id: str) -> None:
    """The certificate of a decision, written into the outbox folder of the audit decided (beside its
    report), made from the archived workbook and the certificate as the ledger holds it."""
    from pipeline.word.render import Renderer

    row = ledger.db.execute("SELECT id FROM decisions WHERE audit_id = ? AND status = 'approved' ORDER BY id DESC",
                            (audit_id,)).fetchone()
    held = certs.certificate(ledger.db, number)
    if row is None or held is None:
        return
    decision = _decision(ledger.db.execute(_DECISION_SQL + " WHERE d.id = ?", (row[0],)).fetchone())
    audit, std, card = _result(ws, config, ledger, decision)
    issued = date.fromisoformat(held.issued_on)
    info = CertificateInfo(number=number, issue_date=issued, expiry_date=date.fromisoformat(held.expires_on),
                           surveillance_due=date.fromisoformat(held.surveillance_due or held.expires_on))
    target = ws.outbox / safe_name(audit_id)
    stage = staging_dir(ws.outbox)
    from pipeline.flow.keys import load_signer

    renderer = Renderer(config, workspace_templates=ws.templates, signer=load_signer(ws))
    files = renderer.render(audit, std, card, stage, lang=config.lang, certificate=info, documents=("certificate",))
    if config.run.pdf:
        from pipeline.word.pdf import convert_to_pdf

        convert_to_pdf(files, instances=1)
        files += [f.with_suffix(".pdf") for f in files if f.with_suffix(".pdf").is_file()]
    with file_lock(ws.publish_lock(target)):
        target.mkdir(parents=True, exist_ok=True)
        for f in files:
            fsync_file(f)
            os.replace(f, target / f.name)
        _scorecard_certificate(target, info)
        fsync_dir(target)
    stage.rmdir() if stage.is_dir() and not any(stage.iterdir()) else None


def _scorecard_certificate(folder: Path, info: CertificateInfo) -> None:
    card = folder / "scorecard.json"
    if not card.is_file():
        return
    data = json.loads(card.read_text(encoding="utf-8"))
    data["certificate"] = info.to_json()
    if isinstance(data.get("decision"), dict):
        data["decision"]["status"] = "approved"
    write_bytes(card, json.dumps(data, ensure_ascii=False, indent=2).encode())


def write_status(ws: Workspace, ledger: Ledger, number: str) -> None:
    """``status.json`` in the folder of the audit that issued the certificate: its status now and
    every change (the documents stay as issued)."""
    held = certs.certificate(ledger.db, number, today=date.today())
    if held is None:
        return
    folder = ws.outbox / safe_name(held.audit_id)
    if not folder.is_dir():
        return
    data = certs.status_document(held, certs.events(ledger.db, number))
    with file_lock(ws.publish_lock(folder)):
        write_bytes(folder / "status.json", json.dumps(data, ensure_ascii=False, indent=2).encode())

