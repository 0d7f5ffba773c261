"""``certpipe keys init | show | rotate``: the workspace's signing key (the private key is never shown)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from pipeline import api
from pipeline.cli.app import Group, app, out, settings
from pipeline.i18n import t

keys_app = typer.Typer(cls=Group, help="签名密钥：生成、查看、更换 / signing keys: init, show, rotate",
                       no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("init", short_help="生成签名密钥 / make the signing key")
def init(ctx: typer.Context) -> None:
    """为工作区生成 Ed25519 签名密钥；私钥仅所有者可读，从不显示。已有密钥时拒绝（请用 rotate）。

    Make the workspace's Ed25519 signing key; the private key is owner-only and never shown. Refused
    when the workspace has one (use rotate)."""
    s = settings(ctx)
    key = api.init_keys(s.workspace)
    out.print(t("keys.made", s.lang, key_id=key.key_id, path=s.workspace.shown(s.workspace.signing_key)),
              markup=False)


@keys_app.command("rotate", short_help="更换签名密钥 / rotate the signing key")
def rotate(ctx: typer.Context) -> None:
    """生成新的签名密钥取代当前密钥；旧公钥继续被信任，用于核验它签过的证书。

    Make a new signing key in place of the current one; the old public key stays trusted for the
    certificates it signed."""
    s = settings(ctx)
    old, new = api.rotate_keys(s.workspace)
    out.print(t("keys.rotated", s.lang, old=old.key_id, new=new.key_id), markup=False)


@keys_app.command("show", short_help="显示公钥与指纹 / show the public keys")
def show(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """显示工作区信任的每个公钥（Ed25519，base64url）及其指纹（密钥编号）。没有密钥时退出码 1。

    Show every public key the workspace trusts (Ed25519, base64url) and its fingerprint (key id).
    Exit 1 when there is none."""
    s = settings(ctx)
    keys = api.public_keys(s.workspace)
    if as_json:
        print(json.dumps([k.to_json() for k in keys], ensure_ascii=False, indent=2))
        raise typer.Exit(0 if keys else 1)
    if not keys:
        out.print(t("keys.none", s.lang), markup=False)
        raise typer.Exit(1)
    for key in keys:
        state = t("keys.current", s.lang) if key.retired is None else t("keys.retired", s.lang, when=key.retired)
        out.print(f"{key.key_id}  Ed25519  {state}  " + t("keys.created", s.lang, when=key.created), markup=False)
        out.print(f"  {key.b64}", markup=False)
