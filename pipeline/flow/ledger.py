"""The ledger: an SQLite record, in the workspace, of every input and what became of it, of
revisions, and of certificate numbers (allocated in a transaction, unique, never reused).

A row is *claimed* (status ``processing``) before work starts; a unique index on the content hash
of claimed and finished rows makes the same content processed once, even by two workers at once.
A driver that starts clears claims left by a crashed run: their inputs are still in the inbox.

Commits are synced to disk only where it matters (``transaction(durable=True)``): certificate numbers
before anything carrying them is published, outcomes before an original leaves the inbox. The other
commits (claims, releases) are written but not synced — a power cut loses at most claims, which a
starting driver clears anyway — and the next durable commit syncs them too (one write-ahead log)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from pipeline.core.certificates import safe_number
from pipeline.core.certify import Plan
from pipeline.errors import CertpipeError, LedgerError
from pipeline.excel.checks import Problem
from pipeline.flow.certs import Result, plan_for, record_result
from pipeline.flow.ledger_schema import MIGRATIONS, SCHEMA, SCHEMA_VERSION, statements
from pipeline.flow.timelimit import deferred
from pipeline.i18n import Message


@dataclass(frozen=True)
class InputRow:
    """One input as the ledger keeps it: ``level`` is the level's key; ``first_problem`` and ``note``
    are data (``Problem``, ``Message``), rendered where they are shown (``to_json(lang)``)."""

    id: int
    sha256: str
    name: str
    size: int
    received_at: str
    finished_at: str | None
    status: str
    audit_id: str | None
    standard: str | None
    revision: int | None
    certificate_no: str | None
    total: str | None
    level: str | None
    output: str | None
    archived_to: str | None
    problems: int
    first_problem: Problem | None
    note: Message | None
    retryable: bool = False
    resolved: bool = False  # a rejection a later accepted submission of its audit (or file name) made good
    decision: str | None = None  # the certification decision on this result: pending, approved or refused

    @classmethod
    def from_db(cls, values: tuple) -> InputRow:
        fields = list(values)
        fields[16] = _load(fields[16], Problem.from_json)
        fields[17] = _load(fields[17], Message.from_json)
        fields[18] = bool(fields[18])
        return cls(*fields)

    def to_json(self, lang: str = "zh") -> dict:
        """Plain data for ``--json``: messages as key, params and their words in ``lang``."""
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        if self.first_problem is not None:
            data["first_problem"] = self.first_problem.to_json() | {"text": self.first_problem.format(lang)}
        if self.note is not None:
            data["note"] = self.note.to_json() | {"text": self.note.render(lang)}
        return data


def _load(text: str | None, parse):
    """A message kept as JSON; text that is not (a row written before messages were data) shows as it is."""
    if not text:
        return None
    try:
        data = json.loads(text)
        if isinstance(data, dict) and "key" in data:
            return parse(data)
    except ValueError:
        pass
    return parse({"key": "legacy.text", "params": {"text": text}})


def _dump(value) -> str | None:
    return None if value is None else json.dumps(value.to_json(), ensure_ascii=False)


_STORED = tuple(f for f in InputRow.__dataclass_fields__ if f not in ("resolved", "decision"))  # worked out by rows()
_COLUMNS = ", ".join(_STORED)
#: The same columns of the ``inputs`` table aliased ``i``, for queries that join it.
ROW_COLUMNS = ", ".join(f"i.{c}" for c in _STORED)

#: Seconds a write waits for another process's write lock before it fails with a LedgerError.
BUSY_TIMEOUT = 30.0


def now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True)
class Numbering:
    """What an accepted input asks for: a revision of its audit, and a certificate when it reached a
    level (``certificate`` = short code, number format, year, level key). What the outbox already
    holds of the audit, which the ledger may not know (published by a run stopped before recording
    it): ``published`` the revision published from this very content, ``highest`` the highest one."""

    row: int
    audit_id: str
    standard: str
    certificate: tuple[str, str, int, str] | None = None
    published: int | None = None
    highest: int = 0
    ranks: dict[str, int] = field(default_factory=dict)  # the standard's level keys → rank
    audit_type: str = ""  # as the workbook writes it
    printed: dict | None = None  # what a certificate would print of the organisation (core.certify.PRINTED)
    audit_end: date | None = None  # the day the audit ended (a surveillance cannot end before its certificate)

    @property
    def level(self) -> str | None:
        return self.certificate[3] if self.certificate else None


@dataclass(frozen=True)
class Finished:
    """An input's outcome as the ledger keeps it; ``details``: the register's view of its certificate."""

    row: int
    status: str
    output: str
    total: str | None = None
    level: str | None = None  # the level's key
    certificate_no: str | None = None
    problems: int = 0
    first_problem: Problem | None = None
    note: Message | None = None
    details: dict | None = None
    retryable: bool = False
    plan: Plan | None = None  # an accepted result's consequences for certificates
    result: Result | None = None
    audit_id: str | None = None  # a rejected workbook's audit id, when it could be read


def _rival(db: sqlite3.Connection, r: Numbering, batch_after: int) -> Plan | None:
    """Another content of ``r``'s audit in the same batch (an input after ``batch_after``, the last
    one before the batch began) — in another worker's hands (numbered, not finished) or accepted —
    makes ``r`` a refusal naming it: neither becomes a silent revision of the other. Checked in the
    numbering transaction, so two workers cannot both miss each other. (``+status``: read by the
    audit's index, ~7 µs on 100,000 inputs; by the status index it scanned the run's, ~11 ms.)"""
    found = db.execute(
        "SELECT name, status FROM inputs WHERE audit_id = ? "
        "AND +status IN ('processing', 'done') AND (status = 'done' OR revision IS NOT NULL) AND id > ? AND id != ? "
        "AND sha256 != (SELECT sha256 FROM inputs WHERE id = ?) ORDER BY id LIMIT 1",
        (r.audit_id, batch_after, r.row, r.row)).fetchone()
    if found is None:
        return None
    return Plan("refuse", field="audit_id", why=Message("pipe.same_audit_in_batch", {
        "audit_id": r.audit_id, "other": found[0], "status": Message(f"status.{found[1]}")}))


def _assign(db: sqlite3.Connection, r: Numbering) -> int:
    """The revision: the one this content was published as already, if no other input holds it;
    else the next after every revision the ledger and the outbox know (a number the outbox shows for
    other content is never given again, or one version would replace the other)."""
    (last,) = db.execute("SELECT COALESCE(MAX(revision), 0) FROM inputs WHERE audit_id = ? AND revision IS NOT NULL",
                         (r.audit_id,)).fetchone()
    taken = r.published is not None and db.execute(
        "SELECT 1 FROM inputs WHERE audit_id = ? AND revision = ?", (r.audit_id, r.published)).fetchone()
    revision = r.published if r.published is not None and not taken else max(last, r.highest) + 1
    db.execute("UPDATE inputs SET audit_id = ?, standard = ?, revision = ? WHERE id = ?",
               (r.audit_id, r.standard, revision, r.row))
    return revision


def _certificate_number(db: sqlite3.Connection, audit_id: str, standard: str, short: str, number_format: str,
                        year: int, level: str) -> tuple[str, date]:
    row = db.execute("SELECT number, COALESCE(issued_on, issued_at) FROM certificates WHERE audit_id = ?",
                     (audit_id,)).fetchone()
    if row:
        return row[0], date.fromisoformat(row[1][:10])
    stamp = now()
    number = allocate_number(db, audit_id, standard, short, number_format, year, level, stamp)
    return number, date.fromisoformat(stamp[:10])


def allocate_number(db: sqlite3.Connection, audit_id: str, standard: str, short: str, number_format: str,
                    year: int, level: str, stamp: str) -> str:
    """A new certificate number for the audit, from the year's counter: never one the ledger holds."""
    scope = f"{year}"
    db.execute("INSERT INTO counters(scope, value) VALUES (?, 0) ON CONFLICT(scope) DO NOTHING", (scope,))
    while True:
        (seq,) = db.execute("UPDATE counters SET value = value + 1 WHERE scope = ? RETURNING value",
                            (scope,)).fetchone()
        number = number_format.format(year=year, standard=short, seq=seq, level=level)
        if not safe_number(number):  # certpipe.toml's check makes this impossible; printed, it would be for good
            raise CertpipeError("err.unsafe_number", {"number": repr(number)})
        if not db.execute("SELECT 1 FROM certificates WHERE number = ?", (number,)).fetchone():
            break
    db.execute("INSERT INTO certificates (number, audit_id, standard, year, seq, issued_at, level, issued_on) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (number, audit_id, standard, year, seq, stamp, level, stamp[:10]))
    return number


class Ledger:
    """The ledger of one workspace. ``readonly``: for those who only look (``certpipe ledger``,
    ``status``, the API's ``open_ledger``): no write can happen through it, and a missing ledger is a
    ``LedgerError`` instead of a new empty one."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        try:
            if readonly:
                self._open_readonly(path)
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            if self.db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                self._up_to_date()
        except BaseException as exc:
            if hasattr(self, "db"):
                self.db.close()
            if isinstance(exc, sqlite3.Error):
                raise LedgerError(key="err.ledger_open", params={"path": path, "detail": exc}) from exc
            raise

    def _open_readonly(self, path: Path) -> None:
        if not path.is_file():
            raise LedgerError(key="err.no_ledger", params={"path": path})
        self.db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT,
                                  isolation_level=None)
        if self.db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            self.db.close()
            Ledger(path).close()  # an older ledger is brought up to date once (a newer one refused)
            self.db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT,
                                      isolation_level=None)

    def _up_to_date(self) -> None:
        """A new ledger gets the schema; an older one its migrations; a newer one is refused untouched
        (this certpipe would not know its columns)."""
        with self.transaction(durable=True) as db:
            (version,) = db.execute("PRAGMA user_version").fetchone()
            if version > SCHEMA_VERSION:
                raise LedgerError(key="err.ledger_newer", params={"path": self.path, "found": version,
                                                                 "known": SCHEMA_VERSION})
            if version == 0:
                statements(db, SCHEMA)
            else:
                for step in range(version + 1, SCHEMA_VERSION + 1):
                    migration = MIGRATIONS[step]
                    if callable(migration):
                        migration(db, self.path)
                    else:
                        statements(db, migration)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """A write transaction; ``durable``: on disk when it returns (with every commit before it).
        The per-file time limit is held back while it is open, so it can never leave the database
        locked half-way; it fires right after."""
        with deferred():
            try:
                if durable:
                    self.db.execute("PRAGMA synchronous=FULL")
                try:
                    self.db.execute("BEGIN IMMEDIATE")
                    yield self.db
                except BaseException:
                    if self.db.in_transaction:
                        self.db.execute("ROLLBACK")
                    raise
                self.db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise LedgerError(key="err.ledger_write", params={"path": self.path, "detail": exc}) from exc
            finally:
                if durable:
                    with suppress(sqlite3.Error):  # a connection that broke meanwhile: the error above says so
                        self.db.execute("PRAGMA synchronous=NORMAL")

    def is_empty(self) -> bool:
        """No input, certificate or audit recorded: a new ledger (or one emptied)."""
        return not self.db.execute("SELECT 1 FROM inputs UNION ALL SELECT 1 FROM certificates UNION ALL "
                                   "SELECT 1 FROM audits LIMIT 1").fetchone()

    def last_input(self) -> int:
        """The id of the newest input (0: none): where a batch begins (``Ledger.number``'s ``batch_after``)."""
        return self.db.execute("SELECT COALESCE(MAX(id), 0) FROM inputs").fetchone()[0]

    def certificate_numbers(self) -> set[str]:
        return {n for (n,) in self.db.execute("SELECT number FROM certificates")}

    # ---- inputs ----------------------------------------------------------------------------
    def clear_stale_claims(self) -> int:
        """Forget claims of a run that died: their inputs are still in the inbox."""
        with self.transaction() as db:
            return db.execute("DELETE FROM inputs WHERE status = 'processing'").rowcount

    def release(self, *row_ids: int) -> None:
        """Give up claims (processing failed for a reason outside the input)."""
        with self.transaction() as db:
            db.executemany("DELETE FROM inputs WHERE id = ? AND status = 'processing'", [(r,) for r in row_ids])

    def find(self, sha256: str) -> InputRow | None:
        try:
            row = self.db.execute(
                f"SELECT {_COLUMNS} FROM inputs WHERE sha256 = ? AND status NOT IN ('duplicate', 'retried')",
                (sha256,),
            ).fetchone()
        except sqlite3.Error as exc:  # a database damaged after it opened
            raise LedgerError(key="err.ledger_open", params={"path": self.path, "detail": exc}) from exc
        return InputRow.from_db(row) if row else None

    def claim(self, sha256: str, name: str, size: int, mtime: float) -> int | None:
        """Start work on this content; ``None`` when it was (or is being) processed already."""
        stamp = datetime.fromtimestamp(mtime).astimezone().isoformat(timespec="seconds")
        try:
            with self.transaction() as db:
                cur = db.execute(
                    "INSERT INTO inputs (sha256, name, size, mtime, received_at, status) "
                    "VALUES (?, ?, ?, ?, ?, 'processing')", (sha256, name, size, stamp, now()))
                return cur.lastrowid
        except LedgerError as exc:
            if isinstance(exc.__cause__, sqlite3.IntegrityError):
                return None
            raise

    def record_duplicate(self, sha256: str, name: str, size: int, mtime: float, archived_to: str,
                         original: InputRow) -> None:
        stamp = datetime.fromtimestamp(mtime).astimezone().isoformat(timespec="seconds")
        with self.transaction(durable=True) as db:
            db.execute(
                "INSERT INTO inputs (sha256, name, size, mtime, received_at, finished_at, status, audit_id, "
                "archived_to, note) VALUES (?, ?, ?, ?, ?, ?, 'duplicate', ?, ?, ?)",
                (sha256, name, size, stamp, now(), now(), original.audit_id, archived_to,
                 _dump(Message("ledger.duplicate_of", {"id": original.id, "name": original.name,
                                                       "status": Message(f"status.{original.status}")}))))

    def number(self, requests: list[Numbering], *, review: bool = False,
               type_key: Callable[[str], str | None] = lambda text: None, batch_after: int | None = None,
               ) -> list[tuple[int, Plan, tuple[str, date] | None]]:
        """For each accepted input of a group: its revision, what its result means for certificates
        (``flow/certs.plan_for``), and the certificate's number and first issue date when one is made
        now — in one transaction, on disk before anything is published."""
        given = []
        with self.transaction(durable=True) as db:
            for r in requests:
                rival = _rival(db, r, batch_after) if batch_after is not None else None
                if rival is not None:  # another content of the audit in this batch: a person chooses
                    given.append((0, rival, None))
                    continue
                revision = _assign(db, r)
                plan = plan_for(db, r.audit_id, r.level, r.ranks, review=review, type_key=type_key,
                                written_type=r.audit_type, printed=r.printed,
                                audit_end=r.audit_end)
                certificate = None
                if plan.certificate_now:
                    certificate = _certificate_number(db, r.audit_id, r.standard, *r.certificate)
                    plan = replace(plan, number=certificate[0])
                given.append((revision, plan, certificate))
        return given

    def finish(self, row_id: int, *, status: str, output: str, total: str | None = None,
               level: str | None = None, certificate_no: str | None = None, problems: int = 0,
               first_problem: Problem | None = None, note: Message | None = None, details: dict | None = None,
               retryable: bool = False) -> None:
        self.finish_many([Finished(row_id, status, output, total, level, certificate_no, problems, first_problem,
                                   note, details, retryable)])

    def finish_many(self, outcomes: list[Finished]) -> None:
        """Record the outcomes of a group, on disk when this returns (their originals may then leave
        the inbox). A certificate's register details are kept from the newest accepted revision:
        checked in the same transaction, so workers finishing revisions in any order agree."""
        with self.transaction(durable=True) as db:
            stamp = now()
            for f in outcomes:
                updated = db.execute(
                    "UPDATE inputs SET status = ?, output = ?, total = ?, level = ?, certificate_no = ?, "
                    "problems = ?, first_problem = ?, note = ?, retryable = ?, finished_at = ?, "
                    "revision = CASE WHEN ? = 'done' THEN revision END, audit_id = COALESCE(audit_id, ?) "
                    "WHERE id = ? AND status = 'processing'",
                    (f.status, f.output, f.total, f.level, f.certificate_no, f.problems, _dump(f.first_problem),
                     _dump(f.note), int(f.retryable), stamp, f.status, f.audit_id, f.row)).rowcount
                if updated != 1:  # its claim was cleared meanwhile: the original must not leave the inbox
                    raise sqlite3.IntegrityError(f"input #{f.row} is no longer claimed")
                if f.plan is not None and f.result is not None:
                    record_result(db, f.plan, f.result, stamp)
                if f.details is not None:
                    db.execute(
                        "UPDATE certificates SET details = ? WHERE number = ? AND (SELECT revision FROM inputs "
                        "WHERE id = ?) >= (SELECT MAX(revision) FROM inputs WHERE audit_id = certificates.audit_id "
                        "AND status = 'done')", (json.dumps(f.details, ensure_ascii=False), f.certificate_no, f.row))

    def retire(self, row_id: int) -> None:
        """A rejection that was not the input's fault (``retryable``): the same content dropped again is
        processed again, and this row stays as history."""
        with self.transaction() as db:
            db.execute("UPDATE inputs SET status = 'retried' WHERE id = ? AND status = 'rejected'", (row_id,))

    def outstanding_audits(self, standard: str) -> list[tuple[str, str, str]]:
        """Audits of ``standard`` whose workbook this workspace generated and no accepted input has
        answered yet, as (audit id, edition, definition hash); a read-only query."""
        return self.db.execute(
            "SELECT audit_id, edition, fingerprint FROM audits a WHERE standard = ? AND origin = 'generated' "
            "AND NOT EXISTS (SELECT 1 FROM inputs i WHERE i.audit_id = a.audit_id AND i.status = 'done') "
            "ORDER BY audit_id", (standard,)).fetchall()

    def certificates(self) -> list[tuple[str, dict]]:
        return [(n, json.loads(d)) for n, d in self.db.execute(
            "SELECT number, details FROM certificates ORDER BY year, seq")]

    def archived(self, moved: list[tuple[int, str]]) -> None:
        """Where the originals of these rows went: [(row id, archive path)]."""
        with self.transaction() as db:
            db.executemany("UPDATE inputs SET archived_to = ? WHERE id = ?", [(to, row) for row, to in moved])

    def rows(self, status: str | None = None, *, audit_id: str | None = None, organisation: str | None = None,
             standard: str | None = None, since: str | None = None, until: str | None = None) -> list[InputRow]:
        """Inputs, oldest first; of one ``status``, ``audit_id``, ``standard``, received from ``since``
        to ``until`` (ISO dates, inclusive), or of an organisation whose name holds ``organisation`` (or
        whose credit code it is). A rejection that a later accepted submission of the same audit (or,
        without a readable audit id, of the same file name) made good is ``resolved``."""
        where, args = [], []
        for column, value in (("status", status), ("audit_id", audit_id), ("standard", standard)):
            if value:
                where.append(f"{column} = ?")
                args.append(value)
        if since:
            where.append("received_at >= ?")
            args.append(since)
        if until:
            where.append("substr(received_at, 1, 10) <= ?")
            args.append(until)
        if organisation:
            where.append("audit_id IN (SELECT a.audit_id FROM audits a JOIN organisations o ON o.id = a.org_id "
                         "WHERE o.name LIKE '%' || ? || '%' ESCAPE '\\' OR o.credit_code = ?)")
            args += [organisation.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"),
                     organisation.strip().upper()]
        sql = f"SELECT {_COLUMNS} FROM inputs" + (" WHERE " + " AND ".join(where) if where else "")
        rows = [InputRow.from_db(r) for r in self.db.execute(sql + " ORDER BY id", args)]
        if any(r.status == "rejected" for r in rows):
            made_good = self._made_good()
            rows = [replace(r, resolved=True) if r.status == "rejected" and made_good(r) else r for r in rows]
        decided = dict(self.db.execute("SELECT input_id, status FROM decisions ORDER BY id"))  # (the newest wins)
        if decided:
            rows = [replace(r, decision=decided[r.id]) if r.id in decided else r for r in rows]
        return rows

    def _made_good(self):
        by_audit = dict(self.db.execute("SELECT audit_id, MAX(id) FROM inputs WHERE status = 'done' GROUP BY audit_id"))
        by_name = dict(self.db.execute("SELECT name, MAX(id) FROM inputs WHERE status = 'done' GROUP BY name"))
        return lambda r: (by_audit.get(r.audit_id, 0) if r.audit_id else by_name.get(r.name, 0)) > r.id

    def finished_since(self, stamp: str) -> list[InputRow]:
        """Inputs received at ``stamp`` (``now()``) or later whose outcome is recorded, oldest first."""
        return [InputRow.from_db(r) for r in self.db.execute(
            f"SELECT {_COLUMNS} FROM inputs WHERE received_at >= ? AND status IN ('done', 'rejected', 'duplicate') "
            "ORDER BY id", (stamp,))]

    def archived_content(self, sha256: str) -> bool:
        """Whether this content's outcome is recorded (it is in the outbox and the archive)."""
        return self.db.execute("SELECT 1 FROM inputs WHERE sha256 = ? AND status IN ('done', 'rejected', "
                               "'duplicate')", (sha256,)).fetchone() is not None

    def certificate_of(self, audit_id: str) -> tuple[str, str | None] | None:
        """The audit's certificate: (number, level key as last issued), if it has one."""
        row = self.db.execute("SELECT number, details FROM certificates WHERE audit_id = ?", (audit_id,)).fetchone()
        return (row[0], json.loads(row[1] or "{}").get("level")) if row else None

    def audit_rows(self, audit_id: str) -> list[InputRow]:
        """Every input of one audit, oldest first."""
        return [InputRow.from_db(r) for r in self.db.execute(
            f"SELECT {_COLUMNS} FROM inputs WHERE audit_id = ? ORDER BY id", (audit_id,))]

    def unarchived(self) -> list[InputRow]:
        """Inputs whose outcome is recorded but not where their original went."""
        return [InputRow.from_db(r) for r in self.db.execute(
            f"SELECT {_COLUMNS} FROM inputs WHERE status IN ('done', 'rejected', 'duplicate') "
            "AND archived_to IS NULL ORDER BY id")]

    def last_finished(self) -> str | None:
        """When the newest outcome was recorded (``now()`` form)."""
        return self.db.execute("SELECT MAX(finished_at) FROM inputs").fetchone()[0]

    def latest_done(self) -> list[InputRow]:
        """The newest accepted revision of every audit."""
        return [InputRow.from_db(r) for r in self.db.execute(
            f"SELECT {ROW_COLUMNS} FROM inputs i JOIN (SELECT audit_id, MAX(revision) AS newest FROM inputs "
            "WHERE status = 'done' GROUP BY audit_id) m ON i.audit_id = m.audit_id AND i.revision = m.newest "
            "WHERE i.status = 'done' ORDER BY i.id")]
