"""A workspace made ready: ``init_workspace`` for a new one (folders and a commented certpipe.toml),
``prepare`` before a driver's first file (folders exist, a crashed run's leftovers tidied)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from pipeline.config import Config, load_config
from pipeline.flow.ledger import Ledger
from pipeline.flow.publish import cleanup_staging
from pipeline.workspace import Workspace


def init_workspace(root: Path) -> tuple[Workspace, Config]:
    """Make the workspace's folders and a commented certpipe.toml; an existing certpipe.toml is
    checked first, so a broken one stops before anything is made."""
    root = Path(root).resolve()
    config = load_config(root / "certpipe.toml")
    ws = Workspace.configured(root, config)
    for folder in (ws.inbox, ws.outbox, ws.archive, ws.standards, ws.templates):
        folder.mkdir(parents=True, exist_ok=True)
    if not ws.config_file.exists():
        ws.config_file.write_text(files("pipeline").joinpath("certpipe.toml").read_text(encoding="utf-8"),
                                  encoding="utf-8")
    return ws, config


def prepare(ws: Workspace) -> None:
    """What a driver does before its first file: folders exist, a crashed run's leftovers are tidied."""
    for folder in (ws.inbox, ws.outbox, ws.archive, ws.state):
        folder.mkdir(parents=True, exist_ok=True)
    cleanup_staging(ws.outbox)
    ledger = Ledger(ws.ledger)
    try:
        ledger.clear_stale_claims()
    finally:
        ledger.close()
