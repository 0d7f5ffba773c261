"""Organisations in the ledger: known by their unified social credit code where they have one, else
by their normalised name; every name and address they were given is kept. Plain SQL on a ledger
connection (used inside its transactions, and by its migrations)."""

from __future__ import annotations

import re
import sqlite3
import unicodedata

_NOT_NAME = re.compile(r"[\s\W_]+", re.UNICODE)


def name_key(name: str) -> str:
    """An organisation's name as identity: ``（北京）某某 有限公司`` and ``(北京)某某有限公司`` are one."""
    return _NOT_NAME.sub("", unicodedata.normalize("NFKC", name or "")).casefold()


def organisation(db: sqlite3.Connection, name: str, credit_code: str, address: str, source: str,
                 stamp: str) -> int | None:
    """The organisation's id (made when new); a new name or address is added to its history."""
    code = (credit_code or "").strip().upper() or None
    key = name_key(name)
    if not code and not key:
        return None
    row = None
    if code:
        row = db.execute("SELECT id, name, address FROM organisations WHERE credit_code = ?", (code,)).fetchone()
    if row is None and key and code:  # known by name only so far: its credit code is learnt now
        row = db.execute("SELECT id, name, address FROM organisations WHERE name_key = ? AND credit_code IS NULL "
                         "ORDER BY id LIMIT 1", (key,)).fetchone()
        if row is not None:
            db.execute("UPDATE organisations SET credit_code = ? WHERE id = ?", (code, row[0]))
    elif row is None and key:  # no credit code given: the one organisation of that name, if there is one
        rows = db.execute("SELECT id, name, address FROM organisations WHERE name_key = ? LIMIT 2", (key,)).fetchall()
        row = rows[0] if len(rows) == 1 else None
    if row is None:
        org_id = db.execute("INSERT INTO organisations (credit_code, name_key, name, address, created_at) "
                            "VALUES (?, ?, ?, ?, ?)", (code, key, name, address or "", stamp)).lastrowid
    else:
        org_id = row[0]
        if (name and name != row[1]) or (address and address != row[2]):
            db.execute("UPDATE organisations SET name = ?, name_key = ?, address = ? WHERE id = ?",
                       (name or row[1], key or name_key(row[1]), address or row[2], org_id))
        else:
            return org_id
    db.execute("INSERT INTO organisation_names (org_id, name, address, since, source) VALUES (?, ?, ?, ?, ?)",
               (org_id, name, address or "", stamp, source))
    return org_id
