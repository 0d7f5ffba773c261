"""``certpipe find TEXT``: an organisation (name or part of it, credit code), an audit id or a
certificate number — what the ledger knows, and where each file is."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape

from pipeline import api
from pipeline.cli.app import app, out, settings, use_lang
from pipeline.cli.words import LevelWords, reason
from pipeline.i18n import t


@app.command(short_help="查找组织、审核、证书 / find an organisation, audit or certificate")
def find(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="组织名称（或其一部分）、统一社会信用代码、审核编号或证书编号 / "
                                             "organisation name (or part), credit code, audit id or "
                                             "certificate number")],
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
    lang: Annotated[str | None, typer.Option("--lang", help="语言 zh|en（默认全局 --lang）/ language")] = None,
) -> None:
    """查找：组织（名称或其一部分、统一社会信用代码）、审核编号或证书编号；列出组织、其审核、证书（是否有效）、
    每个输入的结果与文件位置。找不到时退出码 1。

    Find an organisation (name or part of it, credit code), an audit id or a certificate number: the
    organisation, its audits, their certificates (in force or not), every input's outcome and where each
    file is. Exit 1 when nothing is found."""
    if lang not in (None, "zh", "en"):
        raise typer.BadParameter("zh | en", param_hint="--lang")
    s = settings(ctx)
    lang = use_lang(ctx, lang)
    found = api.find(text, s.workspace)
    if as_json:
        print(json.dumps([org.to_json(lang) for org in found], ensure_ascii=False, indent=2))
        raise typer.Exit(0 if found else 1)
    if not found:
        out.print(t("find.none", lang, text=text), markup=False)
        raise typer.Exit(1)
    words = LevelWords(s.workspace, lang)
    if len(found) >= api.FIND_LIMIT:
        out.print(f"[yellow]{t('find.more', lang, limit=api.FIND_LIMIT)}[/]")
    for org in found:
        title = org.name or t("find.unknown_org", lang)
        out.print(f"[bold]{escape(title)}[/]" + (f"  {escape(org.credit_code)}" if org.credit_code else ""))
        if org.former_names:
            out.print("  " + t("find.former", lang, names="；".join(org.former_names)), markup=False)
        for audit in org.audits:
            out.print(f"  {escape(audit.audit_id)}  {escape(audit.standard)}  "
                      + t(f"find.origin.{audit.origin}", lang), highlight=False)
            cert = audit.certificate
            if cert is not None:
                state = t(f"cert.status.{cert.status}", lang)
                out.print("    " + escape(t("find.certificate", lang, number=cert.number,
                                                level=words(cert.standard, cert.level) if cert.level else "—",
                                                issued=cert.issue_date or "—", expires=cert.expiry_date or "—",
                                                state=state)), highlight=False)
            if audit.decision is not None:
                d = audit.decision
                out.print("    " + escape(t(f"find.decision.{d.status}", lang, kind=t(f"cert.kind.{d.kind}", lang),
                                                by=d.decided_by or "—", at=(d.decided_at or "—")[:10],
                                                reason=d.reason or "—")), highlight=False)
            for row in audit.inputs:
                result = (f"{row.total} {words(row.standard, row.level) or t('run.no_level', lang)}"
                          if row.status == "done"
                          else reason([row.first_problem] if row.first_problem else [], row.note, lang))
                where = " → ".join(p for p in (row.output, row.archived_to) if p)
                out.print("    " + escape(f"{row.name}: {t(f'status.{row.status}', lang)} {result}  {where}"),
                          highlight=False)
