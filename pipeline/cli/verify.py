"""``certpipe verify INPUT``: a certificate number, token, verify link, photo, .pdf or .docx checked."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from pipeline import api
from pipeline.cli.app import app, out, settings
from pipeline.errors import CertpipeError
from pipeline.i18n import t


def _standard_name(key: str, workspace) -> str:
    """A standard's key (what a token signs) as people name it (``GB/T 27922-2011``); the key when unknown."""
    try:
        return api.load_standard(key, workspace).code
    except CertpipeError:
        return key


STYLE = {"genuine": "bold green", "specimen": "bold yellow", "unreadable": "bold yellow", "not_found": "bold yellow"}


@app.command(short_help="核验证书真伪与状态 / verify a certificate")
def verify(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(metavar="INPUT", help="证书编号、签名令牌、二维码网址，或照片（.png/.jpg）、"
                                                                ".pdf、.docx 文件 / certificate number, token, QR "
                                                                "link, or a photo, .pdf or .docx file")],
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """核验证书：读取二维码，用本工作区信任的公钥核验签名，比对文件上印刷的组织、等级、编号、日期与签名内容，
    查询证书当前状态。退出码：0 真实有效；1 无效（暂停、撤销、过期等）、被改动、伪造、密钥未知、无签名或查无此证；
    2 无法读取。

    Verify a certificate: read its QR code, check the signature against the workspace's trusted keys,
    compare the printed organisation, level, number and dates with what is signed, and look up its
    status. Exit 0 genuine and in force; 1 not in force, tampered, forged, unknown key, unsigned or not
    found; 2 unreadable."""
    s = settings(ctx)
    lang = s.lang
    verdict = api.verify_certificate(source, s.workspace)
    if as_json:
        print(json.dumps(verdict.to_json(), ensure_ascii=False, indent=2))
        raise typer.Exit(verdict.exit_code)
    status = t(f"verify.status.{verdict.status}", lang) if verdict.status else "—"
    result = verdict.result
    if result == "genuine" and verdict.claims is None:
        result = "registered"
    fields = "、".join(t(f"verify.field.{f}", lang) for f in verdict.fields) if lang == "zh" else \
        ", ".join(t(f"verify.field.{f}", lang) for f in verdict.fields)
    out.print(t(f"verify.result.{result}", lang, number=verdict.number or "—", status=status, fields=fields,
                key_id=verdict.key_id or "—"), style=STYLE.get(verdict.result, "bold red"), markup=False)
    if verdict.result == "unreadable":
        out.print(t("verify.result.unreadable.hint", lang), markup=False)
    claims = verdict.claims
    details = verdict.details
    rows = []
    if claims is not None:
        rows = [("number", claims.number), ("organisation", claims.organisation),
                ("credit_code", claims.credit_code),
                ("standard", f"{_standard_name(claims.standard, s.workspace)} / "
                             f"{api.level_words(claims.standard, claims.level, lang, s.workspace)}"),
                ("dates", f"{claims.issue_date.isoformat()} / {claims.expiry_date.isoformat()}"),
                ("key", verdict.key_id)]
    elif details:
        words = api.level_words(details.get("standard_key"), details.get("level"), lang, s.workspace)
        rows = [("number", verdict.number), ("organisation", details.get("organisation", "")),
                ("credit_code", details.get("credit_code", "")),
                ("standard", f"{details.get('standard', '')} / {words}"),
                ("dates", f"{details.get('issue_date', '')} / {details.get('expiry_date', '')}")]
    if verdict.status:
        rows.append(("status", status))
    for label, value in rows:
        out.print(f"  {t(f'verify.label.{label}', lang)}: {value}", markup=False, highlight=False)
    if claims is not None and claims.specimen:
        out.print("  " + t("verify.label.specimen", lang), markup=False)
    if claims is not None and verdict.result in ("genuine", "not_in_force", "tampered"):
        out.print("  " + t("verify.printed_checked" if verdict.printed_checked else "verify.printed_not_checked",
                           lang), markup=False)
    for when, state, by, reason in verdict.history:
        by = t(f"cert.by.{by}", lang) if by in ("auto", "system") else by
        out.print("  " + t("verify.history", lang, when=when, status=t(f"verify.status.{state}", lang), by=by,
                           reason=reason), markup=False)
    raise typer.Exit(verdict.exit_code)
