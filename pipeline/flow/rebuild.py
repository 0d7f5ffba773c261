"""``certpipe ledger rebuild``: the ledger made again from what the outbox and the archive hold, so
that a lost, emptied or corrupt ledger never lets a certificate number be issued twice.

Every published folder (``outbox/<audit>/`` and its ``history/rN/``) says which content it was made
from (``.sha256``), its revision (``.revision`` or ``rN``) and, in ``scorecard.json``, the audit, the
standard, the total, the level and the certificate (number, first issue date). Rejections
(``outbox/_rejected/<stem>/``) say their content and their problems (``problems.txt``, kept as written).
The archive gives each content its original's name and where it went. The certificate counters are
set past the highest sequence number found, by the ``[certificates] number_format``. The decisions
taken come back from each folder's ``decisions.jsonl`` (``flow.decision_record``); a published result
whose ``scorecard.json`` says its decision is pending and that none records waits again. The old
ledger file, if any, is kept beside the new one (``ledger.sqlite.<time>.old``).

A ledger that is present and sound is made again only when asked with ``force``: what the rebuild
would drop of it (``Rebuilt.dropped``) is said first (``rebuild.sound_ledger``)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import string
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pipeline.config import Config
from pipeline.core.lifecycle import STATUSES
from pipeline.errors import CertpipeError
from pipeline.filenames import safe_name
from pipeline.flow.decision_record import read_records
from pipeline.flow.guard import journal_numbers, published_folders
from pipeline.flow.intake_file import sha256_of
from pipeline.flow.ledger import Ledger
from pipeline.flow.orgs import organisation
from pipeline.flow.publish import fsync_dir, revision_of
from pipeline.flow.records import journal_audits
from pipeline.i18n import Listing, Message
from pipeline.lock import workspace_lock
from pipeline.workspace import Workspace

_FIELD = {"year": r"(?P<year>[0-9]{4})", "seq": r"(?P<seq>[0-9]+)", "standard": r"[A-Za-z0-9]+",
          "level": r"[A-Za-z0-9_-]+"}


def number_pattern(number_format: str, shorts: tuple[str, ...] = ()) -> re.Pattern:
    """The regular expression of certificate numbers made by ``number_format`` (year and seq named).
    ``{standard}`` is one of the standards' ``shorts`` where one fits, so ``{standard}{seq}`` with a
    short code ending in digits (``GBT27922`` + ``12``) gives the whole sequence number; an unknown
    short code is taken as short as it can be, so a sequence number is read too large, never too
    small (the counter then never goes back to a number issued)."""
    known = "|".join(re.escape(s) for s in sorted(set(shorts), key=len, reverse=True))
    fields = {**_FIELD, "standard": f"(?:{known}|[A-Za-z0-9]+?)" if known else _FIELD["standard"] + "?"}
    parts, named = [], set()
    for literal, name, _spec, _conv in string.Formatter().parse(number_format):
        parts.append(re.escape(literal))
        if name is None:
            continue
        if name in named or name not in fields:  # a field given twice is matched, not named, again
            parts.append(r"[0-9A-Za-z_-]+")
        else:
            parts.append(fields[name])
            named.add(name)
    return re.compile("^" + "".join(parts) + "$")


@dataclass
class Rebuilt:
    """What ``rebuild_ledger`` found and wrote."""

    audits: int = 0
    revisions: int = 0
    certificates: int = 0
    rejections: int = 0
    audits_known: int = 0  # audits generated and not returned, from the journal
    counters: dict[str, int] = field(default_factory=dict)
    decisions_waiting: int = 0  # decisions waiting again
    decisions_taken: int = 0  # decisions taken, given back from the outbox folders' records
    kept_old: Path | None = None
    dropped: list[Message] = field(default_factory=list)  # what the sound ledger replaced held and this one lacks
    unreadable: list[Message] = field(default_factory=list)  # what could not be taken over, and why


def _stamp(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime).astimezone().isoformat(timespec="seconds")


def _archived(ws: Workspace) -> dict[str, Path]:
    """Content hash → the archived original of that content (the first found)."""
    found: dict[str, Path] = {}
    if ws.archive.is_dir():
        for path in sorted(ws.archive.rglob("*")):
            if path.is_file() and not path.is_symlink():
                found.setdefault(sha256_of(path), path)
    return found


def _revisions(folder: Path) -> list[tuple[int, Path]]:
    """(revision, folder holding its files) of one audit, the current one last."""
    found = []
    history = folder / "history"
    if history.is_dir():
        for old in history.iterdir():
            if old.is_dir() and re.fullmatch(r"r[0-9]+", old.name) and (old / ".sha256").is_file():
                found.append((int(old.name[1:]), old))
    found.append((revision_of(folder) or 1, folder))
    return sorted(found)


def rebuild_ledger(ws: Workspace, config: Config, *, force: bool = False) -> Rebuilt:
    """Make the ledger again from the outbox and the archive (the workspace locked meanwhile). A
    ledger present and sound is replaced only with ``force``; without, ``CertpipeError``
    ``rebuild.sound_ledger`` says what the rebuild would drop of it, and nothing is changed."""
    with workspace_lock(ws, "ledger rebuild"):
        return _rebuild(ws, config, force=force)


def _short_codes(ws: Workspace) -> tuple[str, ...]:
    """The short codes of the standards that load (one that does not cannot stop a rebuild)."""
    from pipeline.core.ids import short_code
    from pipeline.errors import CertpipeError
    from pipeline.flow.standards import definition_paths, load_standard

    shorts = []
    for key in definition_paths(ws.root):
        try:
            shorts.append(short_code(load_standard(key, ws.root)))
        except CertpipeError:
            continue
    return tuple(shorts)


def _rebuild(ws: Workspace, config: Config, *, force: bool = False) -> Rebuilt:
    report = Rebuilt()
    pattern = number_pattern(config.certificates.number_format, _short_codes(ws))
    archived = _archived(ws)
    fresh = ws.state / f"ledger.rebuilding-{os.getpid()}.sqlite"
    for leftover in ws.state.glob("ledger.rebuilding-*"):  # a rebuild that was stopped
        leftover.unlink()
    old = _readable(ws.ledger)
    ledger = Ledger(fresh)
    try:
        with ledger.transaction(durable=True) as db:
            for folder in published_folders(ws.outbox):
                report.audits += 1
                for revision, where in _revisions(folder):
                    _revision(db, ws, where, revision, archived, pattern, report)
            for folder in published_folders(ws.outbox):  # superseded by a later folder's recertification
                _life(db, folder)
            if ws.rejected.is_dir():
                for folder in sorted(p for p in ws.rejected.iterdir() if (p / ".sha256").is_file()):
                    _rejection(db, ws, folder, archived, report)
            report.audits_known = journal_audits(db, ws.audit_journal)
            for folder in published_folders(ws.outbox):  # the audits' types known: a recertification renews
                _decisions(db, ws, folder, report)
            _numbers_known(db, old, journal_numbers(ws), pattern, report)
            for scope, value in sorted(report.counters.items()):
                db.execute("INSERT INTO counters(scope, value) VALUES (?, ?) ON CONFLICT(scope) DO UPDATE SET "
                           "value = MAX(value, excluded.value)", (scope, value))
        if old is not None:
            report.dropped = _dropped(old, ledger.db)
            if not force and _sound(ws, old):
                raise CertpipeError("rebuild.sound_ledger", {
                    "path": ws.shown(ws.ledger),
                    "dropped": Listing(tuple(report.dropped)) if report.dropped
                    else Message("rebuild.drops_nothing", {})})
    except BaseException:
        ledger.close()
        fresh.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{fresh}{suffix}").unlink(missing_ok=True)
        raise
    finally:
        ledger.close()
        if old is not None:
            old.close()
    if ws.ledger.exists():  # kept, with its write-ahead log: nothing it held is thrown away
        report.kept_old = ws.ledger.with_name(f"{ws.ledger.name}.{datetime.now():%Y%m%d-%H%M%S}.old")
        for suffix in ("-wal", "-shm"):
            if Path(f"{ws.ledger}{suffix}").exists():
                os.replace(f"{ws.ledger}{suffix}", f"{report.kept_old}{suffix}")
        os.replace(ws.ledger, report.kept_old)
    os.replace(fresh, ws.ledger)
    fsync_dir(ws.state)
    return report


def _readable(path: Path) -> sqlite3.Connection | None:
    """The old ledger, if it can still be read (restored from an old copy, say): what it knows of
    certificate numbers is kept. Its write-ahead log is folded in first."""
    if not path.is_file() or not path.stat().st_size:
        return None
    try:
        db = sqlite3.connect(path, timeout=5)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("SELECT number, audit_id, standard, year, seq, issued_at, details FROM certificates LIMIT 1")
        return db
    except sqlite3.Error:
        return None


def _numbers_known(db, old: sqlite3.Connection | None, journal: set[str], pattern: re.Pattern,
                   report: Rebuilt) -> None:
    """Certificate numbers issued that the outbox does not show (a folder moved away): the old ledger's
    certificates and counters, and the counters moved past every number of the journal."""
    if old is not None:
        for row in old.execute("SELECT number, audit_id, standard, year, seq, issued_at, details FROM certificates"):
            known = db.execute("SELECT 1 FROM certificates WHERE number = ? OR audit_id = ?", (row[0], row[1]))
            if not known.fetchone():
                db.execute("INSERT INTO certificates (number, audit_id, standard, year, seq, issued_at, details) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)", row)
                report.certificates += 1
        for scope, value in old.execute("SELECT scope, value FROM counters"):
            report.counters[scope] = max(report.counters.get(scope, 0), value)
    for number in sorted(journal):
        found = pattern.match(number)
        named = found.groupdict() if found else {}
        year, seq = int(named.get("year") or 0), int(named.get("seq") or 0)
        if year and seq:
            report.counters[str(year)] = max(report.counters.get(str(year), 0), seq)
        if not db.execute("SELECT 1 FROM certificates WHERE number = ?", (number,)).fetchone():
            # issued, but nothing else is left of it: recorded so that it is never issued again
            db.execute("INSERT INTO certificates (number, audit_id, standard, year, seq, issued_at, details) "
                       "VALUES (?, ?, '', ?, ?, '', '{\"lost\": true}')", (number, f"?{number}", year, seq))
            report.unreadable.append(Message("rebuild.number_only", {"number": number}))


def _revision(db, ws: Workspace, where: Path, revision: int, archived: dict[str, Path], pattern: re.Pattern,
              report: Rebuilt) -> None:
    sha = (where / ".sha256").read_text().strip()
    try:
        card = json.loads((where / "scorecard.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        report.unreadable.append(Message("rebuild.no_scorecard", {"folder": ws.shown(where)}))
        return
    audit_id, standard = str(card.get("audit_id", "")), str(card.get("standard", ""))
    original = archived.get(sha)
    stamp = _stamp(where / "scorecard.json")
    level = (card.get("level") or {}).get("key")
    cert = card.get("certificate") or {}
    number = cert.get("number")
    if db.execute("SELECT 1 FROM inputs WHERE sha256 = ? AND status = 'done'", (sha,)).fetchone():
        return  # the same content published twice (a re-run): one input
    org = card.get("organisation") or {}
    org_name, credit_code = str(org.get("name") or ""), str(org.get("credit_code") or "")
    if not org_name and original is not None:
        org_name, credit_code = _cover(original)
    org_id = organisation(db, org_name, credit_code, "", f"rebuilt {audit_id}", stamp)
    db.execute("INSERT OR IGNORE INTO audits (audit_id, org_id, standard, edition, origin, created_at) "
               "VALUES (?, ?, ?, ?, 'rebuilt', ?)", (audit_id, org_id, standard, str(card.get("edition") or ""),
                                                     stamp))
    db.execute(
        "INSERT INTO inputs (sha256, name, size, mtime, received_at, finished_at, status, audit_id, standard, "
        "revision, certificate_no, total, level, output, archived_to) "
        "VALUES (?, ?, ?, ?, ?, ?, 'done', ?, ?, ?, ?, ?, ?, ?, ?)",
        (sha, original.name if original else f"{audit_id}.xlsx", original.stat().st_size if original else 0,
         stamp, stamp, stamp, audit_id, standard, revision, number, str(card.get("total")), level,
         ws.shown(ws.outbox / where.relative_to(ws.outbox).parts[0]),
         ws.shown(original) if original else None))
    report.revisions += 1
    if not number:
        return
    found = pattern.match(number)
    year = int(found["year"]) if found and found.groupdict().get("year") else int(str(cert.get("issue_date"))[:4])
    seq = int(found["seq"]) if found and found.groupdict().get("seq") else 0
    if not found:
        report.unreadable.append(Message("rebuild.number_format", {"number": number}))
    scope = f"{year}"
    report.counters[scope] = max(report.counters.get(scope, 0), seq)
    details = {"organisation": org_name, "credit_code": credit_code,
               "standard": card.get("standard_code", standard), "standard_key": standard,
               "edition": card.get("edition", ""), "level": level, "total": str(card.get("total")),
               "issue_date": cert.get("issue_date"), "expiry_date": cert.get("expiry_date"),
               "surveillance_due": cert.get("surveillance_due"), "audit_id": audit_id,
               "provisional": bool(card.get("provisional"))}
    known = db.execute("SELECT 1 FROM certificates WHERE number = ?", (number,)).fetchone()
    life = (level, cert.get("issue_date"), cert.get("expiry_date"), cert.get("surveillance_due"))
    if known:  # an older revision carried it too: the newest one's details stand (revisions come in order)
        db.execute("UPDATE certificates SET details = ?, level = ?, issued_on = ?, expires_on = ?, "
                   "surveillance_due = ? WHERE number = ?", (json.dumps(details, ensure_ascii=False), *life, number))
        return
    db.execute("INSERT INTO certificates (number, audit_id, standard, year, seq, issued_at, details, level, issued_on, "
               "expires_on, surveillance_due) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (number, audit_id, standard, year, seq, f"{cert.get('issue_date')}T00:00:00",
                json.dumps(details, ensure_ascii=False), *life))
    report.certificates += 1


def _life(db, folder: Path) -> None:
    """A certificate's state and its changes as its folder's ``status.json`` kept them (a withdrawn
    certificate must not come back in force); without one, issued as the outbox shows it."""
    try:
        status = json.loads((folder / "status.json").read_text(encoding="utf-8"))
        number = str(status["number"])
    except (OSError, ValueError, KeyError, TypeError):
        for number, issued_at, level in db.execute("SELECT number, issued_at, level FROM certificates "
                                                   "WHERE audit_id = ?", (folder.name,)).fetchall():
            if not db.execute("SELECT 1 FROM certificate_events WHERE number = ?", (number,)).fetchone():
                db.execute("INSERT INTO certificate_events (number, at, action, status, by, level, audit_id, "
                           "done) VALUES (?, ?, 'issue', 'issued', 'rebuilt', ?, ?, 1)",
                           (number, issued_at, level, folder.name))
        return
    if status.get("status") not in STATUSES or not db.execute("SELECT 1 FROM certificates WHERE number = ?",
                                                               (number,)).fetchone():
        return
    db.execute("UPDATE certificates SET status = ?, level = COALESCE(?, level), surveillance_due = ?, "
               "suspended_until = ?, renews = ? WHERE number = ?",
               (status["status"], status.get("level"), status.get("surveillance_due"), status.get("suspended_until"),
                status.get("renews"), number))
    db.execute("DELETE FROM certificate_events WHERE number = ?", (number,))
    for e in status.get("history") or []:
        if isinstance(e, dict) and e.get("action") and e.get("status") in STATUSES:
            db.execute("INSERT INTO certificate_events (number, at, action, status, by, reason, level, audit_id, "
                       "until, done) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                       (number, str(e.get("at") or ""), str(e["action"]), e["status"], str(e.get("by") or ""),
                        str(e.get("reason") or ""), e.get("level"), e.get("audit_id"), e.get("until")))


def _cover(original: Path, names: tuple[str, ...] = ("org_name", "org_credit_code")) -> tuple[str, ...]:
    """Cover fields (the organisation's name and credit code: older scorecards lack them) from an
    archived workbook."""
    from pipeline.excel.intake import read_workbook
    from pipeline.excel.values import text_of

    try:
        filled = read_workbook(original)
    except Exception:  # an archived file that is no workbook: the register shows no name
        return tuple("" for _ in names)
    cells = [filled.cell(name) for name in names]
    return tuple(text_of(c.value) if c is not None else "" for c in cells)


_DECISION_INSERT = ("INSERT INTO decisions (audit_id, input_id, revision, kind, level, number, renews, auditors, "
                    "status, created_at, decided_by, decided_at, reason) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_KINDS = ("issue", "revision", "surveillance")


def _decisions(db, ws: Workspace, folder: Path, report: Rebuilt) -> None:
    """The audit's decisions: each one its folders record as taken, and the current revision's, when
    its ``scorecard.json`` says it waits (or was approved, by whom its certificate's history says: an
    approval before the outbox recorded decisions) and no record says it was taken."""
    taken = set()
    for revision, where in _revisions(folder):
        for e in read_records(where):
            if safe_name(e["audit_id"]) != folder.name:  # a record of another audit's: not this folder's to give
                continue
            rev = e["revision"] if isinstance(e.get("revision"), int) else revision
            input_id = _input_of(db, e["audit_id"], rev)
            if input_id is None:
                report.unreadable.append(Message("rebuild.decision_unplaced", {"folder": ws.shown(where)}))
                continue
            auditors = e.get("auditors") if isinstance(e.get("auditors"), list) else []
            db.execute(_DECISION_INSERT, (e["audit_id"], input_id, rev, e["kind"], _text(e.get("level")),
                                          _text(e.get("number")), _text(e.get("renews")),
                                          json.dumps([str(a) for a in auditors], ensure_ascii=False), e["status"],
                                          str(e.get("created_at") or ""), _text(e.get("decided_by")),
                                          _text(e.get("decided_at")), str(e.get("reason") or "")))
            taken.add(rev)
            report.decisions_taken += 1
    try:
        card = json.loads((folder / "scorecard.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    waiting = card.get("decision") if isinstance(card, dict) else None
    current = revision_of(folder) or 1
    if not isinstance(waiting, dict) or waiting.get("status") not in ("pending", "approved") \
            or waiting.get("kind") not in _KINDS or current in taken:
        return
    audit_id = str(card.get("audit_id") or "")
    row = db.execute("SELECT id, archived_to FROM inputs WHERE audit_id = ? AND revision = ? AND status = 'done'",
                     (audit_id, current)).fetchone()
    if row is None:
        return
    number, level, status = _text(waiting.get("certificate")), (card.get("level") or {}).get("key"), "pending"
    by = at = None
    reason = ""
    if waiting["status"] == "approved":  # taken before the outbox recorded decisions: as the certificate's history says
        event = db.execute("SELECT number, level, by, at, reason FROM certificate_events WHERE audit_id = ? AND action "
                           "IN ('issue', 'revise', 'maintain') AND by NOT IN ('auto', 'system', 'rebuilt') "
                           "ORDER BY id DESC LIMIT 1", (audit_id,)).fetchone()
        if event is None:
            return
        number, level, by, at, reason = event[0], event[1] or level, event[2], event[3], event[4] or ""
        status = "approved"
    renews = None
    if waiting["kind"] == "issue":  # a recertification's new certificate supersedes the one the audit was for
        from pipeline.flow.certs import audit_type_of

        found = db.execute("SELECT a.audit_type, a.certificate_no FROM audits a JOIN certificates c "
                           "ON c.number = a.certificate_no WHERE a.audit_id = ?", (audit_id,)).fetchone()
        if found and (found[0] == "recert" or audit_type_of(found[0] or "") == "recert"):
            renews = found[1]
    original = ws.root / row[1] if row[1] else None
    lead, others = _cover(original, ("lead_auditor", "auditors")) if original and original.is_file() else ("", "")
    from pipeline.flow.certs import auditors_of

    db.execute(_DECISION_INSERT, (audit_id, row[0], current, waiting["kind"], level, number, renews,
                                  json.dumps(auditors_of(lead, others), ensure_ascii=False), status,
                                  _stamp(folder / "scorecard.json"), by, at, reason))
    if status == "pending":
        report.decisions_waiting += 1
    else:
        report.decisions_taken += 1


def _text(value) -> str | None:
    return None if value is None else str(value)


def _input_of(db, audit_id: str, revision: int) -> int | None:
    row = db.execute("SELECT id FROM inputs WHERE audit_id = ? AND revision = ? AND status = 'done'",
                     (audit_id, revision)).fetchone()
    return row[0] if row else None


def _sound(ws: Workspace, old: sqlite3.Connection) -> bool:
    """The ledger replaced is whole, not empty, and knows every number issued and every result published
    (one restored from an old copy does not: it is made again without asking)."""
    try:
        if old.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            return False
        if not old.execute("SELECT 1 FROM inputs UNION ALL SELECT 1 FROM certificates LIMIT 1").fetchone():
            return False
        numbers = {n for (n,) in old.execute("SELECT number FROM certificates")}
        if journal_numbers(ws) - numbers:
            return False
        hashes = {h for (h,) in old.execute("SELECT sha256 FROM inputs")}
        return all((f / ".sha256").read_text().strip() in hashes for f in published_folders(ws.outbox))
    except (sqlite3.Error, OSError):
        return False


def _dropped(old: sqlite3.Connection, new: sqlite3.Connection) -> list[Message]:
    """What ``old`` holds that the rebuilt ledger ``new`` does not: decisions waiting or taken, inputs
    (duplicates, those in progress, rejections without a folder), changes of certificates people made."""
    event = "number || ' ' || action || ' ' || by || ' ' || at"
    checks = (  # (message, what old holds: (identity, example), what new holds: identity)
        ("rebuild.drops_waiting", "SELECT audit_id, audit_id FROM decisions WHERE status = 'pending'",
         "SELECT audit_id FROM decisions WHERE status = 'pending'"),
        ("rebuild.drops_taken", "SELECT audit_id || ' ' || status, audit_id FROM decisions WHERE status IN "
         "('approved', 'refused') AND COALESCE(decided_by, '') != 'auto'", "SELECT audit_id || ' ' || status FROM "
         "decisions"),
        ("rebuild.drops_inputs", "SELECT sha256, name FROM inputs", "SELECT sha256 FROM inputs"),
        ("rebuild.drops_events", f"SELECT {event}, number FROM certificate_events WHERE by NOT IN ('auto', "
         "'system', 'rebuilt')", f"SELECT {event} FROM certificate_events"))
    found: list[Message] = []
    for key, before, after in checks:
        try:
            kept = {r[0] for r in new.execute(after)}
            lost = [r[1] for r in old.execute(before) if r[0] not in kept]
        except sqlite3.Error:  # an older ledger without the table: nothing of it to drop
            continue
        if lost:
            found.append(Message(key, {"count": len(lost), "example": lost[0]}))
    return found


def _rejection(db, ws: Workspace, folder: Path, archived: dict[str, Path], report: Rebuilt) -> None:
    sha = (folder / ".sha256").read_text().strip()
    if db.execute("SELECT 1 FROM inputs WHERE sha256 = ?", (sha,)).fetchone():
        return
    try:
        lines = (folder / "problems.txt").read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    problems = [line for line in lines if line and not line.startswith(" ")]
    original = archived.get(sha)
    stamp = _stamp(folder)
    first = json.dumps({"key": "legacy.text", "params": {"text": problems[0]}}, ensure_ascii=False) if problems \
        else None
    db.execute(
        "INSERT INTO inputs (sha256, name, size, mtime, received_at, finished_at, status, output, archived_to, "
        "problems, first_problem) VALUES (?, ?, ?, ?, ?, ?, 'rejected', ?, ?, ?, ?)",
        (sha, original.name if original else folder.name, original.stat().st_size if original else 0, stamp, stamp,
         stamp, ws.shown(folder), ws.shown(original) if original else None, len(problems), first))
    report.rejections += 1
