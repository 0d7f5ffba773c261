"""Each certification decision taken, kept in the outbox folder of the audit decided
(``decisions.jsonl``, one line a decision): approved or refused, who, when, why, the revision and the
certificate it issued or changed. The ledger is the system of record; this copy is what lets
``certpipe ledger rebuild`` (``flow.rebuild``) give the decisions back when the ledger is lost.

A line is appended and synced (``atomic.append_lines``) under the folder's publishing lock, so it
never meets a revision being published: a newer revision moves the file, with the files of the
revision it was about, to ``history/rN/``. A line cut short by a crash is skipped by the reader."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from pipeline.atomic import append_lines
from pipeline.filenames import safe_name
from pipeline.flow.ledger import Ledger
from pipeline.flow.publish import fsync_dir
from pipeline.lock import file_lock
from pipeline.workspace import Workspace

log = logging.getLogger("certpipe")

#: The journal of the decisions taken on one revision of an audit, in its outbox folder.
JOURNAL = "decisions.jsonl"

_FIELDS = ("audit_id", "revision", "kind", "level", "number", "renews", "status", "created_at", "decided_by",
           "decided_at", "reason")


def record_decision(ws: Workspace, ledger: Ledger, decision_id: int) -> bool:
    """The decision ``decision_id`` as the ledger now holds it, added to its audit's outbox folder.
    Returns False (and logs why) when it could not be written: the ledger keeps the decision."""
    row = ledger.db.execute(f"SELECT {', '.join(_FIELDS)}, auditors FROM decisions WHERE id = ?",
                            (decision_id,)).fetchone()
    if row is None or row[_FIELDS.index("status")] == "pending":
        return False
    entry = dict(zip(_FIELDS, row[:-1], strict=True)) | {"auditors": json.loads(row[-1] or "[]")}
    folder = ws.outbox / safe_name(entry["audit_id"])
    try:
        with file_lock(ws.publish_lock(folder)):
            if not folder.is_dir():
                log.warning("decision on %s: no outbox folder %s to record it in", entry["audit_id"], folder)
                return False
            journal = folder / JOURNAL
            lead = "" if _ends_whole(journal) else "\n"  # after a line cut short, a line of its own
            append_lines(journal, [lead + json.dumps(entry, ensure_ascii=False, sort_keys=True)])
            fsync_dir(folder)
    except OSError as exc:
        log.warning("decision on %s not recorded in %s: %s", entry["audit_id"], folder, exc)
        return False
    return True


def _ends_whole(journal: Path) -> bool:
    try:
        with open(journal, "rb") as fh:
            fh.seek(0, 2)
            if not fh.tell():
                return True
            fh.seek(-1, 2)
            return fh.read(1) == b"\n"
    except FileNotFoundError:
        return True


def read_records(folder: Path) -> list[dict]:
    """The decisions recorded in ``folder`` (an audit's outbox folder, or one of its ``history/rN``),
    oldest first; lines that are not a whole decision are skipped."""
    try:
        text = (folder / JOURNAL).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    found = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if (isinstance(entry, dict) and entry.get("status") in ("approved", "refused")
                and isinstance(entry.get("audit_id"), str) and entry.get("kind") in ("issue", "revision",
                                                                                     "surveillance")):
            found.append(entry)
    return found
