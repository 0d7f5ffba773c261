"""``certpipe ledger rebuild``: the ledger made again from what the outbox and the archive hold, so
that a lost, emptied or corrupt ledger never lets a certificate number be issued twice.

Every published folder (``outbox/<audit>/`` and its ``history/rN/``) says which content it was made
from (``.sha256``), its revision (``.revision`` or ``rN``) and, in ``scorecard.json``, the audit, the
standard, the total, the level and the certificate (number, first issue date). Rejections
(``outbox/_rejected/<stem>/``) say their content and their problems (``problems.txt``, kept as written).
The archive gives each content its original's name and where it went. The certificate counters are
set past the highest sequence number found, by the ``[certificates] number_format``. The old ledger
file, if any, is kept beside the new one (``ledger.sqlite.<time>.old``)."""

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
from pipeline.flow.guard import journal_numbers, published_folders
from pipeline.flow.intake_file import sha256_of
from pipeline.flow.ledger import Ledger
from pipeline.flow.orgs import organisation
from pipeline.flow.publish import fsync_dir, revision_of
from pipeline.flow.records import journal_audits
from pipeline.i18n import Message
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
    kept_old: Path | None = None
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


def rebuild_ledger(ws: Workspace, config: Config) -> Rebuilt:
    """Make the ledger again from the outbox and the archive (the workspace locked meanwhile)."""
    with workspace_lock(ws, "ledger rebuild"):
        return _rebuild(ws, config)


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


def _rebuild(ws: Workspace, config: Config) -> Rebuilt:
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
            _numbers_known(db, old, journal_numbers(ws), pattern, report)
            for scope, value in sorted(report.counters.items()):
                db.execute("INSERT INTO counters(scope, value) VALUES (?, ?) ON CONFLICT(scope) DO UPDATE SET "
                           "value = MAX(value, excluded.value)", (scope, value))
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


def _cover(original: Path) -> tuple[str, str]:
    """The organisation's name and credit code from an archived workbook (older scorecards lack them)."""
    from pipeline.excel.intake import read_workbook
    from pipeline.excel.values import text_of

    try:
        filled = read_workbook(original)
    except Exception:  # an archived file that is no workbook: the register shows no name
        return "", ""
    cells = [filled.cell(name) for name in ("org_name", "org_credit_code")]
    return tuple(text_of(c.value) if c is not None else "" for c in cells)  # type: ignore[return-value]


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
