"""The workspace: the folder that holds ``inbox/ outbox/ archive/ standards/ templates/`` and an
optional ``certpipe.toml``. Chosen by ``--workspace``, else ``$CERTPIPE_WORKSPACE``, else the
current directory. Every path certpipe uses is named here, nowhere else."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Workspace:
    """``inbox``, ``outbox`` and ``archive`` may be placed elsewhere by ``[paths]`` in certpipe.toml
    (relative to the root, or absolute)."""

    root: Path
    inbox_dir: str = "inbox"
    outbox_dir: str = "outbox"
    archive_dir: str = "archive"

    @classmethod
    def configured(cls, root: Path, config) -> Workspace:
        paths = config.paths
        return cls(root, paths.inbox, paths.outbox, paths.archive)

    def shown(self, path: Path) -> str:
        """A path as users are told it: relative to the workspace when inside it, else absolute."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    @property
    def inbox(self) -> Path:
        return self.root / self.inbox_dir

    @property
    def outbox(self) -> Path:
        return self.root / self.outbox_dir

    @property
    def archive(self) -> Path:
        return self.root / self.archive_dir

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
        """certpipe's own files: the ledger, the workspace lock and the publishing locks, scratch space."""
        return self.root / ".certpipe"

    @property
    def ledger(self) -> Path:
        """The system of record (SQLite)."""
        return self.state / "ledger.sqlite"

    @property
    def audit_journal(self) -> Path:
        """Every audit the workspace allocated, one JSON line each, append-only: what a rebuilt ledger
        knows of workbooks sent out and not yet returned."""
        return self.state / "audits.jsonl"

    @property
    def number_journal(self) -> Path:
        """Every certificate number issued, one per line, append-only, written after the ledger's commit:
        a ledger that lacks one of them is behind (restored from an old copy) and is refused."""
        return self.state / "numbers.txt"

    @property
    def keys(self) -> Path:
        """The signing keys: ``signing.key`` (the private key, owner-only) and ``public/<key id>.json``
        (every public key the workspace ever signed with, kept after rotation)."""
        return self.state / "keys"

    @property
    def signing_key(self) -> Path:
        return self.keys / "signing.key"

    @property
    def public_keys(self) -> Path:
        return self.keys / "public"

    @property
    def users(self) -> Path:
        """The web console's users, sessions and audit trail of console actions (SQLite, apart from the
        ledger: the console never writes the ledger)."""
        return self.state / "users.sqlite"

    @property
    def register(self) -> Path:
        return self.outbox / "register.xlsx"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def log_file(self) -> Path:
        return self.logs / "certpipe.log"

    @property
    def lock_file(self) -> Path:
        """Held by the one driver (``run`` or ``watch``) of the workspace; ``lock_info`` says who."""
        return self.state / "lock"

    @property
    def lock_info(self) -> Path:
        return self.state / "lock.info"

    def publish_lock(self, dest: Path) -> Path:
        """The lock file of workers publishing to ``dest`` (revisions of one audit, same-named rejections):
        one of 64 stripes, ``locks/00.lock`` … ``locks/63.lock``, chosen by a hash of ``dest``. A fixed set,
        because a lock file cannot be removed safely while another process may be waiting on it; two
        destinations on one stripe only take turns."""
        import hashlib

        key = f"{dest.parent.name}\0{dest.name}".encode("utf-8", "surrogatepass")
        stripe = int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % 64
        return self.state / "locks" / f"{stripe:02d}.lock"

    @property
    def scratch(self) -> Path:
        """Scratch space of the workspace's own (the demo's blank workbooks)."""
        return self.state / "scratch"
