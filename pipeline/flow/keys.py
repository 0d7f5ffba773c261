"""The workspace's Ed25519 signing keys (``certpipe keys init | show | rotate``).

``.certpipe/keys/signing.key`` is the private key (PKCS#8 PEM, unencrypted), created owner-only
(0600, ``O_EXCL``: never over an existing file) in a folder of mode 0700; it is never printed or
logged. ``.certpipe/keys/public/<key id>.json`` holds every public key the workspace ever signed with
(its key id, the raw key in base64url, when it was made and, once rotated, retired): certificates keep
verifying after a rotation. Only ``rotate`` replaces the private key; the old one is gone.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.core.token import key_id
from pipeline.errors import CertpipeError
from pipeline.workspace import Workspace


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    public: bytes  # raw, 32 bytes
    created: str
    retired: str | None = None

    @property
    def b64(self) -> str:
        return base64.urlsafe_b64encode(self.public).rstrip(b"=").decode("ascii")

    def to_json(self) -> dict:
        return {"key_id": self.key_id, "algorithm": "Ed25519", "public_key": self.b64,
                "created": self.created, "retired": self.retired}


class Signer:
    """Signs with the workspace's current private key; ``key_id`` names its public key."""

    def __init__(self, private) -> None:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        self._private = private
        self.key_id = key_id(private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    def sign(self, data: bytes) -> bytes:
        return self._private.sign(data)

    def __repr__(self) -> str:  # never the key
        return f"Signer(key_id={self.key_id!r})"


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _raw_public(private) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _write_private(path: Path, private) -> None:
    """The private key into a new file, owner-only from its first byte, synced."""
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_public(ws: Workspace, key: PublicKey) -> None:
    from pipeline.atomic import write_bytes

    ws.public_keys.mkdir(parents=True, exist_ok=True)
    write_bytes(ws.public_keys / f"{key.key_id}.json", (json.dumps(key.to_json(), indent=2) + "\n").encode())


def _make_dirs(ws: Workspace) -> None:
    ws.keys.mkdir(parents=True, exist_ok=True)
    os.chmod(ws.keys, 0o700)


def init_keys(ws: Workspace) -> PublicKey:
    """A new key pair for the workspace; refused when it already has one (``rotate`` replaces it)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if ws.signing_key.exists():
        raise CertpipeError("keys.exists", {"path": ws.shown(ws.signing_key)})
    _make_dirs(ws)
    private = Ed25519PrivateKey.generate()
    try:
        _write_private(ws.signing_key, private)
    except FileExistsError as exc:
        raise CertpipeError("keys.exists", {"path": ws.shown(ws.signing_key)}) from exc
    key = PublicKey(key_id(_raw_public(private)), _raw_public(private), _now())
    _write_public(ws, key)
    return key


def rotate_keys(ws: Workspace) -> tuple[PublicKey, PublicKey]:
    """A new private key replaces the current one; the old public key stays trusted, marked retired.
    Returns (old, new)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    old_signer = load_signer(ws)
    if old_signer is None:
        raise CertpipeError("keys.missing", {"path": ws.shown(ws.signing_key)})
    private = Ed25519PrivateKey.generate()
    fresh = ws.keys / "signing.key.new"
    fresh.unlink(missing_ok=True)  # what an interrupted rotation left: never used
    _write_private(fresh, private)
    new = PublicKey(key_id(_raw_public(private)), _raw_public(private), _now())
    _write_public(ws, new)  # trusted before anything is signed with it
    os.replace(fresh, ws.signing_key)
    fd = os.open(ws.keys, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    keys = trusted_keys(ws)
    old = keys.get(old_signer.key_id) or PublicKey(old_signer.key_id, b"", new.created)
    old = PublicKey(old.key_id, old.public, old.created, new.created)
    if old.public:
        _write_public(ws, old)
    return old, new


def load_signer(ws: Workspace) -> Signer | None:
    """The workspace's signer, or ``None`` when it has no key (certificates are then unsigned)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        pem = ws.signing_key.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CertpipeError("keys.unreadable", {"path": ws.shown(ws.signing_key)}) from exc
    try:
        private = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise CertpipeError("keys.unreadable", {"path": ws.shown(ws.signing_key)}) from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise CertpipeError("keys.unreadable", {"path": ws.shown(ws.signing_key)})
    return Signer(private)


def trusted_keys(ws: Workspace) -> dict[str, PublicKey]:
    """Every public key the workspace trusts, by key id (a file whose name does not match its key is
    skipped: it cannot have been written here)."""
    out: dict[str, PublicKey] = {}
    if not ws.public_keys.is_dir():
        return out
    for path in sorted(ws.public_keys.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            text = data["public_key"]
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        kid = key_id(raw)
        if len(raw) != 32 or path.stem != kid:
            continue
        out[kid] = PublicKey(kid, raw, str(data.get("created") or ""), data.get("retired"))
    return out


def verifiers(ws: Workspace) -> dict:
    """``core.token.check``'s keys: key id → ``(signature, data) -> bool``."""
    return {kid: verifier(key.public) for kid, key in trusted_keys(ws).items()}


def verifier(public: bytes):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = Ed25519PublicKey.from_public_bytes(public)

    def verify(signature: bytes, data: bytes) -> bool:
        try:
            key.verify(signature, data)
        except InvalidSignature:
            return False
        return True

    return verify


def has_key(ws: Workspace) -> bool:
    return ws.signing_key.exists()


def unsigned_warning(ws: Workspace) -> bool:
    """Whether ``status`` should warn: certificates were issued while the workspace has no signing key."""
    if has_key(ws) or not ws.ledger.exists():
        return False
    import sqlite3

    try:
        db = sqlite3.connect(f"file:{ws.ledger}?mode=ro", uri=True)
        try:
            return db.execute("SELECT 1 FROM certificates LIMIT 1").fetchone() is not None
        finally:
            db.close()
    except sqlite3.Error:
        return False
