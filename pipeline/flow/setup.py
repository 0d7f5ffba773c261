"""A workspace made ready: ``init_workspace`` for a new one (folders and a commented certpipe.toml),
``prepare`` before a driver's first file (folders exist, a crashed run's leftovers tidied)."""

from __future__ import annotations

import glob
import os
from importlib.resources import files
from pathlib import Path

from pipeline.config import Config, load_config
from pipeline.flow.guard import refuse_lost_ledger
from pipeline.flow.intake_file import recover, sha256_of
from pipeline.flow.job import shown_name
from pipeline.flow.ledger import Ledger
from pipeline.flow.publish import cleanup_staging
from pipeline.workspace import Workspace


def init_workspace(root: Path) -> tuple[Workspace, Config]:
    """Make the workspace's folders, a commented certpipe.toml and the signing key its certificates'
    QR codes are signed with (``flow/keys.py``: without one nobody could verify them); an existing
    certpipe.toml is checked first, so a broken one stops before anything is made, and an existing
    key is kept."""
    root = Path(root).resolve()
    config = load_config(root / "certpipe.toml")
    ws = Workspace.configured(root, config)
    for folder in (ws.inbox, ws.outbox, ws.archive, ws.standards, ws.templates):
        folder.mkdir(parents=True, exist_ok=True)
    if not ws.config_file.exists():
        ws.config_file.write_text(files("pipeline").joinpath("certpipe.toml").read_text(encoding="utf-8"),
                                  encoding="utf-8")
    if not ws.signing_key.exists():
        from pipeline.flow.keys import init_keys

        init_keys(ws)
    return ws, config


def prepare(ws: Workspace) -> None:
    """What a driver does before its first file: folders exist, a crashed run's leftovers are tidied,
    and the ledger is the one that goes with the outbox: a missing or empty ledger beside published
    audits is refused (numbering again from 1 would give their certificate numbers to others;
    ``certpipe ledger rebuild`` makes it again from the outbox and the archive)."""
    for folder in (ws.inbox, ws.outbox, ws.archive, ws.state):
        folder.mkdir(parents=True, exist_ok=True)
    cleanup_staging(ws.outbox)
    for old in (ws.state / "locks").glob("*.*.lock"):  # a lock file per audit id, before the 64 stripes
        old.unlink(missing_ok=True)
    refuse_lost_ledger(ws)
    ledger = Ledger(ws.ledger)
    try:
        ledger.clear_stale_claims()
        recover(ws.inbox, lambda sha: ledger.archived_content(sha))
        _where_archived(ws, ledger)
    finally:
        ledger.close()


def _where_archived(ws: Workspace, ledger: Ledger) -> None:
    """Outcomes recorded whose original left the inbox for the archive before that was recorded (a
    crash between the two): found in the archive by name and content, and recorded."""
    missing = [r for r in ledger.unarchived() if not (ws.inbox / r.name).exists()]
    found = []
    for row in missing:
        stem, suffix = os.path.splitext(row.name)
        for candidate in sorted(ws.archive.glob(f"*/{glob.escape(stem)}*{glob.escape(suffix)}")):
            if candidate.is_file() and sha256_of(candidate) == row.sha256:
                found.append((row.id, shown_name(ws.shown(candidate))))
                break
    if found:
        ledger.archived(found)


