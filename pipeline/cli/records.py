"""``certpipe ledger``: what happened to every input; ``certpipe ledger rebuild``: the ledger made
again from the outbox and the archive."""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape

from pipeline import api
from pipeline.cli.app import Group, app, out, settings, use_lang
from pipeline.cli.tables import KEY, NUMBER, TEXT, Listing
from pipeline.cli.words import LevelWords, reason
from pipeline.i18n import Listing as Several
from pipeline.i18n import t


class LedgerStatus(StrEnum):
    done = "done"
    rejected = "rejected"
    duplicate = "duplicate"
    processing = "processing"
    retried = "retried"


ledger_app = typer.Typer(cls=Group, help="账本：每个输入的结果；重建 / the ledger: every input's outcome; rebuild",
                         invoke_without_command=True)
app.add_typer(ledger_app, name="ledger")

LangOption = Annotated[str | None, typer.Option("--lang", help="语言 zh|en（默认全局 --lang）/ language")]


@ledger_app.callback()
def ledger(
    ctx: typer.Context,
    status: Annotated[LedgerStatus | None, typer.Option(
        "--status", help="只列出此结果 / only this outcome: done | rejected | duplicate | processing")] = None,
    audit: Annotated[str | None, typer.Option("--audit", help="只列出此审核编号 / only this audit id")] = None,
    org: Annotated[str | None, typer.Option("--org", help="组织名称的一部分或信用代码 / part of an organisation's "
                                            "name, or its credit code")] = None,
    standard: Annotated[str | None, typer.Option("--standard", help="只列出此标准键 / only this standard")] = None,
    since: Annotated[str | None, typer.Option("--since", help="收到不早于 YYYY-MM-DD / received on or after")] = None,
    until: Annotated[str | None, typer.Option("--until", help="收到不晚于 YYYY-MM-DD / received on or before")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
    lang: LangOption = None,
) -> None:
    """列出账本：每个输入文件的处理结果，以所选语言显示（与写入时的语言无关）；rebuild 重建账本。

    List what happened to every input, in the language asked (whoever ran certpipe then);
    ``rebuild`` makes the ledger again from the outbox and the archive."""
    if ctx.invoked_subcommand is not None:
        return
    if lang not in (None, "zh", "en"):
        raise typer.BadParameter("zh | en", param_hint="--lang")
    s = settings(ctx)
    lang = use_lang(ctx, lang)
    for option, value in (("--since", since), ("--until", until)):
        if value is not None:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise typer.BadParameter(t("cert.bad_date", lang, value=value), param_hint=option) from None
    rows = api.ledger_rows(s.workspace, status.value if status else None, audit_id=audit, organisation=org,
                           standard=standard, since=since, until=until)
    words = LevelWords(s.workspace, lang)
    if as_json:
        data = [r.to_json(lang) | {"level_words": words(r.standard, r.level) or None} for r in rows]
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    kinds = {"id": NUMBER, "file": KEY, "status": KEY, "audit": KEY, "revision": NUMBER, "result": TEXT,
             "certificate": KEY, "time": KEY}
    table = Listing(t("ledger.title", lang), [(t(f"ledger.col.{col}", lang), kind) for col, kind in kinds.items()])
    for r in rows:
        if r.status == "done":
            result = f"{r.total} {words(r.standard, r.level) or t('run.no_level', lang)}"
            if r.decision:  # review mode: what the certification decision made of it
                result += f" · {t(f'ledger.decision.{r.decision}', lang)}"
        else:
            result = reason([r.first_problem] if r.first_problem else [], r.note, lang)
            if r.resolved:
                result = f"{t('ledger.resolved', lang)} {result}"
        table.add_row(r.id, r.name, t(f"status.{r.status}", lang), r.audit_id or "", r.revision or "", result,
                      r.certificate_no or "", r.finished_at or r.received_at)
    table.print(out)


@ledger_app.command("rebuild", short_help="按发件箱与归档重建账本 / rebuild the ledger from the outbox")
def rebuild(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option("--force", help="账本完好时也重建（会丢弃只有账本才有的记录）/ rebuild a "
                                        "sound ledger too (drops what only it holds)")] = False,
) -> None:
    """按发件箱与归档重建账本：已发布的修订版本、证书编号与计数器、退回件、内容哈希、认证决定（待决定的与
    已作出的）；原账本另存保留。账本丢失、被清空或损坏后使用，此后任何证书编号都不会重复发出。账本完好时
    先说明重建会丢弃什么，不做改动；确需重建加 --force。

    Make the ledger again from the outbox and the archive: published revisions, certificate numbers
    and counters, rejections, content hashes, certification decisions (waiting and taken); the old
    ledger file is kept. For a ledger lost, emptied or corrupt: no certificate number is ever issued
    twice afterwards. A sound ledger is left alone, with what a rebuild would drop of it said;
    --force rebuilds it anyway."""
    s = settings(ctx)
    lang = s.lang
    report = api.rebuild_ledger(s.workspace, force=force)
    counters = ", ".join(f"{scope}: {value}" for scope, value in sorted(report.counters.items())) or "—"
    out.print(t("rebuild.done", lang, audits=report.audits, revisions=report.revisions,
                certificates=report.certificates, rejections=report.rejections, counters=counters))
    out.print(t("rebuild.decisions", lang, waiting=report.decisions_waiting, taken=report.decisions_taken))
    if report.kept_old:
        out.print(t("rebuild.kept_old", lang, path=s.workspace.shown(report.kept_old)), markup=False)
    if report.dropped:
        out.print(f"[yellow]⚠[/] {escape(t('rebuild.dropped', lang, dropped=Several(tuple(report.dropped))))}")
    for problem in report.unreadable:
        out.print(f"[yellow]⚠[/] {escape(problem.render(lang))}")
    out.print(t("rebuild.cannot_restore", lang), markup=False)
