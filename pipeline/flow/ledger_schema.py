"""The ledger's schema: its tables and indexes (``SCHEMA``, for a new ledger), its version
(``SCHEMA_VERSION``, kept in ``PRAGMA user_version``) and how a ledger of an older version is brought
up to date (``MIGRATIONS``, applied by ``Ledger`` when it opens one, in one transaction). See
docs/architecture.md, "Records"."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

#: The tables of organisations and audits (schema 3).
RECORDS_SQL = """CREATE TABLE IF NOT EXISTS organisations (
    id INTEGER PRIMARY KEY,
    credit_code TEXT UNIQUE,  -- the unified social credit code: the identity, where there is one
    name_key TEXT NOT NULL,  -- the normalised name: the identity where there is no credit code
    name TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS organisations_name ON organisations(name_key);
CREATE TABLE IF NOT EXISTS organisation_names (  -- names and addresses over time, append-only
    org_id INTEGER NOT NULL REFERENCES organisations(id),
    name TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    since TEXT NOT NULL,
    source TEXT NOT NULL  -- generated | intake | migrated | rebuilt, and the audit id
);
CREATE TABLE IF NOT EXISTS audits (
    audit_id TEXT PRIMARY KEY,
    org_id INTEGER REFERENCES organisations(id),  -- NULL: not known (a migrated audit without one)
    standard TEXT NOT NULL,
    edition TEXT NOT NULL DEFAULT '',
    fingerprint TEXT NOT NULL DEFAULT '',
    audit_type TEXT NOT NULL DEFAULT '',
    planned_start TEXT,
    planned_end TEXT,
    certificate_no TEXT,  -- the certificate it belongs to (a surveillance or recertification)
    origin TEXT NOT NULL CHECK (origin IN ('generated', 'external', 'migrated', 'rebuilt')),
    created_by TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audits_org ON audits(org_id);
"""

#: The certificate's life (schema 4): its current state beside the certificate, every change of it
#: (append-only: ``certificate_events``), and the certification decisions, waiting or taken.
CERTIFICATE_COLUMNS = (
    "    org_id INTEGER REFERENCES organisations(id)",
    "    level TEXT",  # the level's key, as now in force
    "    status TEXT NOT NULL DEFAULT 'issued'",  # core.lifecycle.STATUSES
    "    issued_on TEXT",  # ISO dates
    "    expires_on TEXT",
    "    surveillance_due TEXT",
    "    suspended_until TEXT",
    "    renews TEXT",  # the certificate a recertification's new one supersedes
)
LIFE_SQL = """
CREATE INDEX IF NOT EXISTS certificates_status ON certificates(status, expires_on);
CREATE INDEX IF NOT EXISTS certificates_org ON certificates(org_id);
CREATE TABLE IF NOT EXISTS certificate_events (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL,
    at TEXT NOT NULL,
    action TEXT NOT NULL,  -- issue, revise, maintain, or an action of core.lifecycle.CHANGES
    status TEXT NOT NULL,  -- the status after it
    by TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    level TEXT,
    audit_id TEXT,
    until TEXT,
    done INTEGER NOT NULL DEFAULT 0  -- what it changes outside the ledger (status.json, notice, register) is written
);
CREATE INDEX IF NOT EXISTS certificate_events_number ON certificate_events(number, id);
CREATE INDEX IF NOT EXISTS certificate_events_undone ON certificate_events(done) WHERE done = 0;
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY,
    audit_id TEXT NOT NULL,
    input_id INTEGER NOT NULL,
    revision INTEGER,
    kind TEXT NOT NULL CHECK (kind IN ('issue', 'revision', 'surveillance')),
    level TEXT,  -- the level the result reached (its key), NULL for none
    number TEXT,  -- the certificate concerned (a revision, a surveillance), NULL for a new one
    renews TEXT,
    auditors TEXT NOT NULL DEFAULT '[]',  -- JSON: the lead auditor and the auditors, who may not decide
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'refused', 'replaced')),
    created_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS decisions_audit ON decisions(audit_id, status);
"""

#: What the console's searches and the dashboard need to stay fast on 100,000 inputs (schema 4).
SEARCH_SQL = """
CREATE INDEX IF NOT EXISTS inputs_status ON inputs(status, id);
CREATE INDEX IF NOT EXISTS inputs_finished ON inputs(finished_at);
CREATE INDEX IF NOT EXISTS inputs_name ON inputs(name);
CREATE INDEX IF NOT EXISTS audits_standard ON audits(standard, audit_id);
"""

#: What ``certpipe find`` needs to answer in milliseconds on 100,000 audits (schema 5): the beginning of
#: an audit id or certificate number in any case (LIKE 'x%' uses a NOCASE index), a number an input names.
FIND_SQL = """
CREATE INDEX IF NOT EXISTS audits_id_nocase ON audits(audit_id COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS certificates_number_nocase ON certificates(number COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS inputs_certificate ON inputs(certificate_no) WHERE certificate_no IS NOT NULL;
CREATE INDEX IF NOT EXISTS organisation_names_org ON organisation_names(org_id);
"""

#: A new ledger (the newest schema).
SCHEMA = """
CREATE TABLE IF NOT EXISTS inputs (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime TEXT NOT NULL,
    received_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('processing', 'done', 'rejected', 'duplicate', 'retried')),
    audit_id TEXT,
    standard TEXT,
    revision INTEGER,
    certificate_no TEXT,
    total TEXT,
    level TEXT,  -- the level's key (three-star), never its words
    output TEXT,
    archived_to TEXT,
    problems INTEGER NOT NULL DEFAULT 0,
    first_problem TEXT,  -- JSON: the first problem as data (key, params, sheet, cell)
    note TEXT,  -- JSON: a message as data (key, params)
    retryable INTEGER NOT NULL DEFAULT 0  -- a rejection not the input's fault: the same content is tried again
);
CREATE UNIQUE INDEX IF NOT EXISTS inputs_once ON inputs(sha256) WHERE status NOT IN ('duplicate', 'retried');
CREATE UNIQUE INDEX IF NOT EXISTS inputs_revision ON inputs(audit_id, revision) WHERE revision IS NOT NULL;
CREATE INDEX IF NOT EXISTS inputs_audit ON inputs(audit_id, status, revision);
CREATE TABLE IF NOT EXISTS certificates (
    number TEXT PRIMARY KEY,
    audit_id TEXT NOT NULL UNIQUE,  -- the audit that issued it
    standard TEXT NOT NULL,
    year INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    issued_at TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}',  -- JSON: what the register shows, from the newest revision
""" + ",\n".join(CERTIFICATE_COLUMNS) + """
);
CREATE TABLE IF NOT EXISTS counters (scope TEXT PRIMARY KEY, value INTEGER NOT NULL);
""" + RECORDS_SQL + LIFE_SQL + SEARCH_SQL + FIND_SQL


#: The schema's version, kept in ``PRAGMA user_version``.
SCHEMA_VERSION = 5


def statements(db: sqlite3.Connection, sql: str) -> None:
    """Run every statement of ``sql`` (separated by ``;``)."""
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)


def _to_v2(db: sqlite3.Connection, path: Path) -> None:
    """Version 2 keeps keys and parameters where version 1 kept words (``migrate.words_to_keys``)."""
    from pipeline.flow.migrate import words_to_keys

    words_to_keys(db, path)


def _to_v3(db: sqlite3.Connection, path: Path) -> None:
    """Version 3 knows organisations and audits with identity. The audits an older ledger saw are
    recorded (``migrated``) with the organisation their certificate names, where there is one."""
    from pipeline.flow.migrate import migrate_audits

    statements(db, RECORDS_SQL)
    migrate_audits(db)


def _to_v4(db: sqlite3.Connection, path: Path) -> None:
    """Version 4 knows the life of a certificate: its state and its changes (``migrate.certificate_life``)."""
    from pipeline.flow.migrate import certificate_life

    for column in CERTIFICATE_COLUMNS:
        db.execute(f"ALTER TABLE certificates ADD COLUMN {column.strip()}")
    statements(db, LIFE_SQL + SEARCH_SQL)
    certificate_life(db)


#: How a ledger of an older version is brought up to date: {version reached: SQL, or a function of the
#: connection and the ledger's path, from the one before}. New ledgers are made from ``SCHEMA``.
#: Applied in order, in one transaction.
MIGRATIONS: dict[int, str | Callable[[sqlite3.Connection, Path], None]] = {
    2: _to_v2, 3: _to_v3, 4: _to_v4,
    # version 5: what find needs, and an audit id in other case found (records.case_twin)
    5: FIND_SQL,
}
