"""The web console's users, their sessions and the audit trail of console actions, in a SQLite file
of their own (``Workspace.users``): the console only ever reads the ledger, and the drivers never
open this file.

Passwords are kept as argon2id hashes (``argon2-cffi``); a session is a random token whose SHA-256
alone is stored, with its CSRF token and its end. Every console action that changes something, and
every login, is a row of ``trail`` (who, when, what, on what)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipeline.errors import CertpipeError

ROLES = ("clerk", "reviewer", "admin")
NAME = re.compile(r"^[\w.@-]{1,64}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('clerk', 'reviewer', 'admin')),
    hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    user TEXT NOT NULL REFERENCES users(name),
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS trail (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    user TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '{}'
);
"""


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class User:
    name: str
    role: str
    disabled: bool
    created_at: str
    changed_at: str
    full_name: str = ""  # the person's name as a workbook names auditors: who decides, for independence

    def to_json(self) -> dict:
        return {"name": self.name, "role": self.role, "disabled": self.disabled, "created_at": self.created_at,
                "changed_at": self.changed_at, "full_name": self.full_name}


@dataclass(frozen=True)
class Session:
    token: str
    user: User
    csrf: str
    expires: float


@dataclass(frozen=True)
class TrailEntry:
    at: str
    user: str
    action: str
    target: str
    detail: dict


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def check_password(password: str) -> None:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise CertpipeError("users.password_length", {"min": MIN_PASSWORD, "max": MAX_PASSWORD})


def check_name(name: str) -> None:
    if not NAME.fullmatch(name or ""):
        raise CertpipeError("users.bad_name", {"name": name})


class UserStore:
    """The users file of one workspace (made on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            if "full_name" not in {r[1] for r in self.db.execute("PRAGMA table_info(users)")}:  # an older file
                self.db.execute("ALTER TABLE users ADD COLUMN full_name TEXT NOT NULL DEFAULT ''")
        except (sqlite3.Error, OSError) as exc:
            raise CertpipeError("users.open_failed", {"path": path, "detail": getattr(exc, "strerror", None) or exc}
                                ) from exc
        self._dummy: str | None = None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> UserStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- users ----------------------------------------------------------------------------------
    def _user(self, row) -> User:
        return User(row[0], row[1], bool(row[2]), row[3], row[4], row[5])

    def get(self, name: str) -> User | None:
        row = self.db.execute("SELECT name, role, disabled, created_at, changed_at, full_name FROM users "
                              "WHERE name = ?", (name,)).fetchone()
        return self._user(row) if row else None

    def users(self) -> list[User]:
        return [self._user(r) for r in self.db.execute(
            "SELECT name, role, disabled, created_at, changed_at, full_name FROM users ORDER BY name")]

    def set_full_name(self, name: str, full_name: str, *, by: str = "") -> None:
        """The person's name as workbooks name auditors (``王立``): a decision made in the console is
        taken in that name, so the independence rule can see a lead auditor deciding his own audit."""
        full_name = " ".join(full_name.split())
        if not full_name or len(full_name) > 64 or not full_name.isprintable():
            raise CertpipeError("users.bad_full_name", {"full_name": full_name})
        self._known(name)
        self.db.execute("UPDATE users SET full_name = ?, changed_at = ? WHERE name = ?", (full_name, _now(), name))
        self.record(by or name, "user.full_name", name, {"full_name": full_name})

    def add(self, name: str, role: str, password: str, *, by: str = "", full_name: str = "") -> User:
        check_name(name)
        if role not in ROLES:
            raise CertpipeError("users.bad_role", {"role": role, "roles": " | ".join(ROLES)})
        check_password(password)
        stamp = _now()
        try:
            self.db.execute("INSERT INTO users (name, role, hash, created_at, changed_at) VALUES (?, ?, ?, ?, ?)",
                            (name, role, _hasher().hash(password), stamp, stamp))
        except sqlite3.IntegrityError as exc:
            raise CertpipeError("users.exists", {"name": name}) from exc
        self.record(by or name, "user.add", name, {"role": role})
        if full_name.strip():
            self.set_full_name(name, full_name, by=by)
        return self.get(name)  # type: ignore[return-value]

    def set_password(self, name: str, password: str, *, by: str = "") -> None:
        check_password(password)
        self._known(name)
        with self.db:
            self.db.execute("UPDATE users SET hash = ?, changed_at = ? WHERE name = ?",
                            (_hasher().hash(password), _now(), name))
            self.db.execute("DELETE FROM sessions WHERE user = ?", (name,))
        self.record(by or name, "user.passwd", name)

    def disable(self, name: str, *, by: str = "") -> None:
        self._known(name)
        with self.db:
            self.db.execute("UPDATE users SET disabled = 1, changed_at = ? WHERE name = ?", (_now(), name))
            self.db.execute("DELETE FROM sessions WHERE user = ?", (name,))
        self.record(by or name, "user.disable", name)

    def _known(self, name: str) -> User:
        user = self.get(name)
        if user is None:
            raise CertpipeError("users.unknown", {"name": name})
        return user

    def verify(self, name: str, password: str) -> User | None:
        """The user, when the name is an enabled user and the password is theirs; else None. A name that
        is not a user costs the same hash as one that is (no timing tells which names exist)."""
        from argon2.exceptions import InvalidHashError, VerificationError

        row = self.db.execute("SELECT hash FROM users WHERE name = ? AND disabled = 0", (name,)).fetchone()
        hasher = _hasher()
        if row is None:
            if self._dummy is None:
                self._dummy = hasher.hash(secrets.token_hex(16))
            with contextlib.suppress(VerificationError, InvalidHashError):
                hasher.verify(self._dummy, password or "")
            return None
        try:
            hasher.verify(row[0], password or "")
        except (VerificationError, InvalidHashError):
            return None
        if hasher.check_needs_rehash(row[0]):
            self.db.execute("UPDATE users SET hash = ? WHERE name = ?", (hasher.hash(password), name))
        return self.get(name)

    # ---- sessions -------------------------------------------------------------------------------
    def new_session(self, user: User, hours: float) -> Session:
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        expires = time.time() + hours * 3600
        with self.db:
            self.db.execute("DELETE FROM sessions WHERE expires < ?", (time.time(),))
            self.db.execute("INSERT INTO sessions (token_hash, user, csrf, created_at, expires) VALUES (?, ?, ?, ?, ?)",
                            (_digest(token), user.name, csrf, _now(), expires))
        return Session(token, user, csrf, expires)

    def session(self, token: str | None) -> Session | None:
        """The live session of ``token``: not expired, its user enabled."""
        if not token or len(token) > 200:
            return None
        row = self.db.execute(
            "SELECT s.csrf, s.expires, u.name, u.role, u.disabled, u.created_at, u.changed_at, u.full_name "
            "FROM sessions s JOIN users u ON u.name = s.user WHERE s.token_hash = ?", (_digest(token),)).fetchone()
        if row is None or row[1] < time.time() or row[4]:
            return None
        return Session(token, User(row[2], row[3], bool(row[4]), row[5], row[6], row[7]), row[0], row[1])

    def end_session(self, token: str | None) -> None:
        if token:
            self.db.execute("DELETE FROM sessions WHERE token_hash = ?", (_digest(token),))

    # ---- the audit trail ------------------------------------------------------------------------
    def record(self, user: str, action: str, target: str = "", detail: dict | None = None) -> None:
        self.db.execute("INSERT INTO trail (at, user, action, target, detail) VALUES (?, ?, ?, ?, ?)",
                        (_now(), user, action, target, json.dumps(detail or {}, ensure_ascii=False)))

    def trail(self, limit: int = 100) -> list[TrailEntry]:
        return [TrailEntry(at, user, action, target, json.loads(detail)) for at, user, action, target, detail in
                self.db.execute("SELECT at, user, action, target, detail FROM trail ORDER BY id DESC LIMIT ?",
                                (limit,))]
