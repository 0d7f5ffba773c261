"""``certpipe status``: what waits in the inbox, what was done today, the last errors, who holds
the workspace, and whether its certpipe.toml is valid (status still runs when it is not)."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer
from rich.markup import escape

from pipeline import api
from pipeline.cli.app import app, out, settings
from pipeline.i18n import t


@app.command(short_help="工作区状态 / workspace status")
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """工作区状态：收件箱待处理、今日处理、最近错误、是否有监视进程、配置是否有效 / workspace status."""
    s = settings(ctx)
    ws, lang = s.workspace, s.lang
    state = api.workspace_status(ws)
    waiting, rows, held = state.waiting, state.rows, state.held_by
    today = date.today().isoformat()
    done_today = [r for r in rows if (r.finished_at or "").startswith(today)]
    counts = {st: sum(1 for r in done_today if r.status == st) for st in ("done", "rejected", "duplicate")}
    # claims count as work in progress only while a driver holds the workspace (the next one clears them)
    in_progress = sum(1 for r in rows if r.status == "processing") if held else 0
    errors = [r for r in rows if r.status == "rejected" and not r.resolved][-5:]  # a later submission made good
    log_file = ws.log_file
    config_error = s.config_error.render(lang) if s.config_error else None
    if as_json:
        print(json.dumps({"workspace": str(ws.root), "waiting": waiting, "today": counts,
                          "in_progress": in_progress,
                          "last_rejected": [{"file": r.name, "time": r.finished_at, "audit_id": r.audit_id,
                                             "problem": r.first_problem.format(lang) if r.first_problem else None}
                                            for r in errors],
                          "held_by": held, "config_valid": config_error is None, "config_error": config_error,
                          "not_files": state.not_files, "not_workbooks": state.strays,
                          "ledger_lost": state.ledger_lost,
                          "register_behind": state.register_behind, "decisions_waiting": state.decisions,
                          "due": state.due, "certificates": state.certificates,
                          "issuer": [m.to_json() | {"text": m.render(lang)} for m in state.issuer],
                          "unsigned_certificates": api.unsigned_certificates(ws),
                          "log": str(log_file) if log_file.exists() else None},
                         ensure_ascii=False, indent=2))
        raise typer.Exit(1 if config_error else 0)
    out.print(t("status.workspace", lang, root=ws.root))
    if config_error:
        out.print(f"[bold red]{t('status.config_bad', lang)}[/]")
        out.print(config_error, markup=False)
    elif ws.config_file.exists():
        out.print(t("status.config_ok", lang, path=ws.config_file))
    else:
        out.print(t("status.config_default", lang))
    out.print(t("status.inbox_waiting", lang, count=len(waiting)) + (": " + ", ".join(waiting[:10]) if waiting else ""))
    out.print(t("status.today", lang, **counts))
    comma = "，" if lang == "zh" else ", "
    if state.certificates:
        counts = comma.join(f"{t(f'cert.status.{k}', lang)} {v}" for k, v in sorted(state.certificates.items()))
        out.print(t("status.certificates", lang, counts=counts))
    for problem in state.issuer:
        out.print(f"[yellow]⚠ {escape(problem.render(lang))}[/]")
        if problem.hint(lang):
            out.print(f"  → {escape(problem.hint(lang))}")
    if state.decisions:
        out.print(f"[yellow]{t('status.decisions', lang, n=state.decisions)}[/]")
    if state.due:
        counts = comma.join(f"{t(f'due.kind.{k}', lang)} {v}" for k, v in sorted(state.due.items()))
        out.print(f"[yellow]{escape(t('status.due', lang, counts=counts))}[/]")
    if state.ledger_lost:
        out.print(f"[bold red]{t('status.ledger_lost', lang, count=state.ledger_lost)}[/]")
    if state.register_behind:
        out.print(f"[yellow]{t('status.register_behind', lang, register=ws.shown(ws.register))}[/]")
    if api.unsigned_certificates(ws):
        out.print(t("status.unsigned", lang) + "; " + t("status.unsigned.hint", lang), style="yellow", markup=False)
    for name in state.not_files:
        out.print("  [magenta]![/] " + escape(f"{name}: {t('status.ignored', lang)}"), highlight=False)
    if state.strays:
        out.print(t("status.strays", lang, count=len(state.strays),
                    names=(comma.join(state.strays[:10]) + (" …" if len(state.strays) > 10 else ""))),
                  style="magenta", markup=False)
    if in_progress:
        out.print(t("status.in_progress", lang, count=in_progress))
    out.print(t("status.held", lang, who=held) if held else t("status.free", lang))
    if log_file.exists():
        out.print(t("status.log", lang, path=log_file), markup=False)
    if errors:
        out.print(t("status.last_rejected", lang))
    for r in errors:
        problem = r.first_problem.format(lang) if r.first_problem else ""
        where = " ".join(x for x in (r.finished_at, r.name, r.audit_id) if x)
        out.print("  [red]✗[/] " + escape(f"{where}: {problem}"), highlight=False)
    if config_error:
        raise typer.Exit(1)
