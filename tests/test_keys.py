"""The workspace's signing keys: made owner-only, never printed, rotated with the old public key kept."""

from __future__ import annotations

import json
import stat

from pipeline.core.token import key_id
from pipeline.flow.keys import load_signer, trusted_keys, verifier
from tests.helpers.workspace import make_ws, run, sample_audit, workbook


def test_init_makes_an_owner_only_key_and_never_prints_it(tmp_path, cli):
    ws = make_ws(tmp_path)
    code, out, _ = cli("-W", ws.root, "keys", "init")
    assert code == 0
    mode = stat.S_IMODE(ws.signing_key.stat().st_mode)
    assert mode == 0o600 and stat.S_IMODE(ws.keys.stat().st_mode) == 0o700
    pem = ws.signing_key.read_text()
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    secret = "".join(pem.splitlines()[1:-1])
    signer = load_signer(ws)
    assert signer is not None and signer.key_id in out and secret not in out and "PRIVATE" not in out
    assert secret not in repr(signer)
    code, shown, _ = cli("-W", ws.root, "keys", "show", "--json")
    keys = json.loads(shown)
    assert code == 0 and [k["key_id"] for k in keys] == [signer.key_id] and secret not in shown
    # the key signs, and its public half verifies it
    public = trusted_keys(ws)[signer.key_id].public
    assert key_id(public) == signer.key_id
    assert verifier(public)(signer.sign(b"x"), b"x") and not verifier(public)(signer.sign(b"x"), b"y")
    # a second init is refused and leaves the key alone
    code, _, err = cli("-W", ws.root, "keys", "init")
    assert code == 2 and "rotate" in err and ws.signing_key.read_text() == pem


def test_rotate_keeps_the_old_public_key_trusted(tmp_path, cli):
    ws = make_ws(tmp_path)
    assert cli("-W", ws.root, "keys", "init")[0] == 0
    old = load_signer(ws)
    signature = old.sign(b"certificate")
    code, out, _ = cli("-W", ws.root, "keys", "rotate")
    new = load_signer(ws)
    assert code == 0 and new.key_id != old.key_id and old.key_id in out and new.key_id in out
    assert stat.S_IMODE(ws.signing_key.stat().st_mode) == 0o600
    keys = trusted_keys(ws)
    assert set(keys) == {old.key_id, new.key_id}
    assert keys[old.key_id].retired and keys[new.key_id].retired is None
    assert verifier(keys[old.key_id].public)(signature, b"certificate")
    code, shown, _ = cli("-W", ws.root, "--lang", "en", "keys", "show")
    assert code == 0 and "retired" in shown and "current" in shown


def test_rotate_without_a_key_and_show_without_one(tmp_path, cli):
    ws = make_ws(tmp_path)
    code, _, err = cli("-W", ws.root, "--lang", "en", "keys", "rotate")
    assert code == 2 and "keys init" in err
    assert cli("-W", ws.root, "keys", "show")[0] == 1


def test_status_warns_when_certificates_are_issued_without_a_key(tmp_path, cli):
    ws = make_ws(tmp_path)
    _, out, _ = cli("-W", ws.root, "--lang", "en", "status", "--json")
    assert json.loads(out)["unsigned_certificates"] is False
    workbook(ws, "a.xlsx", sample_audit(audit_id="K-2026-001", target="95"))
    run(ws)
    _, out, _ = cli("-W", ws.root, "--lang", "en", "status")
    assert "no signing key" in out
    assert cli("-W", ws.root, "keys", "init")[0] == 0
    _, out, _ = cli("-W", ws.root, "--lang", "en", "status")
    assert "no signing key" not in out


def test_a_new_workspace_can_sign_from_the_start_and_init_again_keeps_its_key(tmp_path, cli):
    """A clerk following the guide (init, new, run) must not issue certificates nobody can verify."""
    root = tmp_path / "ws"
    code, out, _ = cli("init", root)
    assert code == 0 and "密钥" in out
    key = root / ".certpipe" / "keys" / "signing.key"
    first = key.read_bytes()
    assert first.startswith(b"-----BEGIN PRIVATE KEY-----")
    code, out, _ = cli("init", root)
    assert code == 0 and "已存在" in out
    assert key.read_bytes() == first
