"""The workspace: the folder that holds ``inbox/ outbox/ archive/ standards/ templates/`` and an
optional ``certpipe.toml``. Chosen by ``--workspace``, else ``$CERTPIPE_WORKSPACE``, else the
current directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def rejected(self) -> Path:
        return self.outbox / "_rejected"

    @property
    def standards(self) -> Path:
        return self.root / "standards"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def config_file(self) -> Path:
        return self.root / "certpipe.toml"

    @property
    def state(self) -> Path:
        """certpipe's own files (ledger, lock, logs, scratch space on the outbox's filesystem)."""
        return self.root / ".certpipe"
