"""What the ledger's migrations need beyond SQL: the level keys behind the words an older ledger kept
(read from the standards of the workspace it belongs to), its English note understood, and the
audits it saw recorded with their organisations (schema 3)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from pipeline.errors import CertpipeError
from pipeline.flow.orgs import organisation
from pipeline.flow.standards import all_standards, definition_paths, load_file

_DUPLICATE = re.compile(r"^same content as input #(\d+) \((.*), (\w+)\)$")


def level_keys(ledger: Path) -> dict[tuple[str, str], str]:
    """{(standard key, words once shown for a level): the level's key}: the label in Chinese and English,
    with and without its stars (``★★★ 三星``), for every standard the workspace knows. The ledger lives
    in ``<workspace>/.certpipe/``."""
    root = ledger.parent.parent if ledger.parent.name == ".certpipe" else None
    try:
        standards = all_standards(root)
    except CertpipeError:  # a broken definition in the workspace: what can be read still helps
        standards = []
        for path in definition_paths(root).values():
            try:
                standards.append(load_file(path))
            except CertpipeError:
                continue
    keys: dict[tuple[str, str], str] = {}
    for std in standards:
        for level in std.levels:
            for lang in ("zh", "en"):
                keys[(std.key, level.label.get(lang))] = level.key
                keys[(std.key, std.describe_level(level, lang))] = level.key
    return keys


def legacy_note(text: str) -> dict:
    """An older ledger's note as a message: its one English sentence understood, the rest kept as written."""
    found = _DUPLICATE.match(text)
    if found:
        return {"key": "ledger.duplicate_of",
                "params": {"id": int(found[1]), "name": found[2],
                           "status": {"$msg": {"key": f"status.{found[3]}", "params": {}}}}}
    return {"key": "legacy.text", "params": {"text": text}}


def migrate_audits(db: sqlite3.Connection) -> None:
    """Schema 3: the audits an older ledger saw, with the organisation their certificate names."""
    named: dict[str, tuple[str, str]] = {}
    for audit_id, details in db.execute("SELECT audit_id, details FROM certificates"):
        data = json.loads(details or "{}")
        named[audit_id] = (str(data.get("organisation") or ""), str(data.get("credit_code") or ""))
    seen = db.execute("SELECT audit_id, MIN(standard), MIN(received_at) FROM inputs WHERE audit_id IS NOT NULL "
                      "AND status IN ('done', 'processing') GROUP BY audit_id").fetchall()
    for audit_id, standard, received in seen:
        name, code = named.get(audit_id, ("", ""))
        org_id = organisation(db, name, code, "", f"migrated {audit_id}", received or "")
        db.execute("INSERT OR IGNORE INTO audits (audit_id, org_id, standard, origin, created_at) "
                   "VALUES (?, ?, ?, 'migrated', ?)", (audit_id, org_id, standard or "", received or ""))


def words_to_keys(db: sqlite3.Connection, path: Path) -> None:
    """Version 1 kept words in the language of whoever ran certpipe: level labels, the first problem,
    notes (an English one among Chinese). Version 2 keeps keys and parameters. Level labels become
    their keys by the standards of the workspace; other text is kept, shown as it was written."""
    db.execute("ALTER TABLE inputs ADD COLUMN retryable INTEGER NOT NULL DEFAULT 0")
    db.execute("UPDATE inputs SET retryable = 1, note = NULL WHERE note = 'retryable'")
    keys = level_keys(path)
    rows = db.execute("SELECT id, standard, level, first_problem, note FROM inputs").fetchall()
    for row_id, standard, level, first_problem, note in rows:
        legacy = {"key": "legacy.text", "params": {"text": first_problem}} if first_problem else None
        db.execute("UPDATE inputs SET level = ?, first_problem = ?, note = ? WHERE id = ?",
                   (keys.get((standard, level), level) if level else None,
                    json.dumps(legacy, ensure_ascii=False) if legacy else None,
                    json.dumps(legacy_note(note), ensure_ascii=False) if note else None, row_id))
    for number, standard, details in db.execute("SELECT number, standard, details FROM certificates").fetchall():
        data = json.loads(details or "{}")
        label = data.get("level")
        if label and (standard, label) in keys:
            data["level"] = keys[(standard, label)]
        elif label:
            data["level_label"], data["level"] = label, None
        data["standard_key"] = standard
        db.execute("UPDATE certificates SET details = ? WHERE number = ?",
                   (json.dumps(data, ensure_ascii=False), number))


def certificate_life(db: sqlite3.Connection) -> None:
    """Schema 4: each certificate's state from what its register details say (in force: an older
    ledger knew no other state), and its issue as the first of its changes."""
    rows = db.execute("SELECT c.number, c.audit_id, c.issued_at, c.details, a.org_id FROM certificates c "
                      "LEFT JOIN audits a ON a.audit_id = c.audit_id").fetchall()
    for number, audit_id, issued_at, details, org_id in rows:
        data = json.loads(details or "{}")
        issued_on = str(data.get("issue_date") or issued_at[:10])
        db.execute("UPDATE certificates SET org_id = ?, level = ?, status = 'issued', issued_on = ?, expires_on = ?, "
                   "surveillance_due = ? WHERE number = ?",
                   (org_id, data.get("level"), issued_on, data.get("expiry_date"), data.get("surveillance_due"),
                    number))
        db.execute("INSERT INTO certificate_events (number, at, action, status, by, level, audit_id, done) "
                   "VALUES (?, ?, 'issue', 'issued', 'migrated', ?, ?, 1)",
                   (number, issued_at, data.get("level"), audit_id))
