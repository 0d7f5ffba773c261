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


def _fields(names: list[str], lang: str) -> str:
    words = [t(f"verify.field.{f}", lang) for f in names]
    return "、".join(words) if lang == "zh" else ", ".join(words)


STYLE = {"genuine": "bold green", "specimen": "bold yellow", "unreadable": "bold yellow", "not_found": "bold yellow"}


@app.command(short_help="核验证书真伪与状态 / verify a certificate")
def verify(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(metavar="INPUT", help="证书编号、签名令牌、二维码网址，或照片（.png/.jpg）、"
                                                                ".pdf、.docx 文件 / certificate number, token, QR "
                                                                "link, or a photo, .pdf or .docx file")],
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """核验证书：读取二维码，用本工作区信任的公钥核验签名，比对文件上印刷的编号、组织、信用代码、标准、等级、
    日期、认证范围、批准号与签名内容，查询证书当前状态，并与登记中的现行内容比对。退出码：0 真实有效；
    1 无效（暂停、撤销、过期等）、不是最新（登记内容已变更）、被改动、伪造、密钥未知、无签名或查无此证；2 无法读取。

    Verify a certificate: read its QR code, check the signature against the workspace's trusted keys,
    compare the printed number, organisation, credit code, standard, level, dates, scope and approval
    number with what is signed, look up its status and compare it with the register's current details.
    Exit 0 genuine and in force; 1 not in force, out of date, tampered, forged, unknown key, unsigned or
    not found; 2 unreadable."""
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
    elif result in ("genuine", "specimen") and verdict.source == "image":
        result += "_photo"  # only the QR code was read: the headline claims nothing of the printed text
    elif result == "genuine" and verdict.source in ("link", "token"):
        result = "genuine_token"
    elif result == "genuine" and verdict.unchecked:  # an older token: not all the print could be compared
        result = "genuine_unchecked"
    fields = _fields(verdict.changed if verdict.result == "outdated" else
                     verdict.unchecked if result == "genuine_unchecked" else verdict.fields, lang)
    out.print(t(f"verify.result.{result}", lang, number=verdict.number or "—", status=status, fields=fields,
                key_id=verdict.key_id or "—"), style=STYLE.get(verdict.result, "bold red"), markup=False)
    if verdict.result in ("unreadable", "outdated"):
        out.print(t(f"verify.result.{verdict.result}.hint", lang), markup=False)
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
    if details.get("scope") and "scope" not in verdict.changed:
        rows.insert(3, ("scope", str(details["scope"])))
    if verdict.status:
        rows.append(("status", status))
    for label, value in rows:
        out.print(f"  {t(f'verify.label.{label}', lang)}: {value}", markup=False, highlight=False)
    for name in verdict.changed:
        value = verdict.current.get(name, "")
        if name == "level":
            value = api.level_words(claims.standard if claims else None, value, lang, s.workspace)
        elif name == "standard":
            value = _standard_name(value, s.workspace)
        out.print("  " + t("verify.changed", lang, field=t(f"verify.field.{name}", lang), value=value),
                  markup=False, highlight=False)
    if claims is not None and claims.specimen:
        out.print("  " + t("verify.label.specimen", lang), markup=False)
    if claims is not None and verdict.result in ("genuine", "specimen", "not_in_force", "tampered", "outdated"):
        caveat = "verify.printed_checked" if verdict.printed_checked else (
            "verify.printed_not_checked" if verdict.source == "image" else "verify.printed_none")
        out.print("  " + t(caveat, lang), markup=False)
        if verdict.printed_checked and verdict.unchecked:
            out.print("  " + t("verify.printed_unsigned", lang, fields=_fields(verdict.unchecked, lang)), markup=False)
    for when, state, by, reason in verdict.history:
        by = t(f"cert.by.{by}", lang) if by in ("auto", "system") else by
        out.print("  " + t("verify.history", lang, when=when, status=t(f"verify.status.{state}", lang), by=by,
                           reason=reason), markup=False)
    raise typer.Exit(verdict.exit_code)
