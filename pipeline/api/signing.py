"""Signed certificates: the workspace's signing keys, a certificate verified, the public register."""

from __future__ import annotations

from pathlib import Path

from pipeline.api.workspace import looked_at, open_workspace
from pipeline.workspace import Workspace


def init_keys(workspace: Path | str | Workspace | None = None):
    """A new Ed25519 signing key for the workspace (``certpipe keys init``); ``CertpipeError`` when it
    has one. Returns its ``PublicKey`` (``key_id``, ``public``, ``created``); the private key is
    written owner-only to ``.certpipe/keys/signing.key`` and never returned."""
    from pipeline.flow.keys import init_keys as make

    return make(looked_at(workspace))


def rotate_keys(workspace: Path | str | Workspace | None = None):
    """A new signing key replaces the current one (``certpipe keys rotate``); the old public key stays
    trusted, marked retired. Returns ``(old, new)`` ``PublicKey``s."""
    from pipeline.flow.keys import rotate_keys as rotate

    return rotate(looked_at(workspace))


def public_keys(workspace: Path | str | Workspace | None = None) -> list:
    """Every public key the workspace trusts, oldest first; the one it signs with now has
    ``retired is None`` (``certpipe keys show``)."""
    from pipeline.flow.keys import trusted_keys

    return sorted(trusted_keys(looked_at(workspace)).values(), key=lambda k: (k.retired is None, k.created))


def unsigned_certificates(workspace: Path | str | Workspace | None = None) -> bool:
    """Whether certificates have been issued while the workspace has no signing key (``status`` warns)."""
    from pipeline.flow.keys import unsigned_warning

    return unsigned_warning(looked_at(workspace))


def verify_certificate(text: str, workspace: Path | str | Workspace | None = None):
    """The verdict on a certificate (``certpipe verify``): ``text`` is a certificate number, a token, a
    verify link, or the path of a photo (.png/.jpg), .pdf or .docx. Returns a ``Verdict``: ``result``
    (``genuine``, ``specimen``, ``outdated``, ``not_in_force``, ``tampered``, ``forged``, ``unknown_key``,
    ``unsigned``, ``not_found``, ``unreadable``), ``status``, the signed ``claims``, the ``fields`` that
    differ, ``unchecked``, ``changed`` and ``current`` (``flow/verify.Verdict``), ``exit_code`` and
    ``to_json()``."""
    from pipeline.flow.verify import verify

    return verify(str(text), looked_at(workspace))


def publish_register(dest: Path | str, workspace: Path | str | Workspace | None = None):
    """The public register written to the folder ``dest`` (``certpipe publish DIR``): an index page
    with search, a page and a JSON file per certificate, the public keys; only public fields. Returns
    ``Published`` (``dest``, ``count``, ``written``: files changed, ``seconds``)."""
    from pipeline.flow.site import publish_site

    ws, config = open_workspace(workspace)
    return publish_site(ws, config, Path(dest))
