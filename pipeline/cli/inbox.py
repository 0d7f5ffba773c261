"""``certpipe run | watch | init | demo``: the inbox pipeline's drivers."""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pipeline import api
from pipeline.cli.app import app, out, settings
from pipeline.cli.tables import KEY, TEXT, Listing
from pipeline.cli.words import LevelWords, reason
from pipeline.errors import CertpipeError, ConfigError
from pipeline.i18n import t
from pipeline.logs import console_above, setup_logging
from pipeline.workspace import Workspace

SUMMARY_ROWS = 50  # above this, the summary lists only what was not reported (certpipe ledger has all)
STATUS_STYLE = {"done": "green", "rejected": "red", "duplicate": "yellow", "skipped": "dim", "waiting": "cyan",
                "ignored": "magenta", "failed": "bold red"}


def _workspace(s) -> Workspace:
    """The workspace (its configuration was checked before the command started)."""
    if not s.workspace.root.is_dir():
        raise ConfigError(key="run.no_workspace", params={"path": s.workspace.root})
    return s.workspace


def _not_yet_a_workspace(ws: Workspace) -> bool:
    """A folder without certpipe.toml that ``run`` or ``watch`` will make a workspace of (its outbox
    and ledger folder are not there yet): many scripts rely on that, so it is not refused, but said."""
    return not ws.config_file.is_file() and not (ws.outbox.is_dir() and ws.state.is_dir())


def _say_made(ws: Workspace, s) -> None:
    """Said once, on stderr (never in ``--json``'s data; ``-q`` keeps it quiet), when the workspace
    was made: nothing to say on later runs, nor when the command stopped before making it."""
    if s.verbosity >= 0 and ws.outbox.is_dir() and ws.state.is_dir():
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            t("run.workspace_made", s.lang, path=ws.root), style="yellow", markup=False)


def _summary(ws: Workspace, outcomes: list[api.Outcome], seconds: float, lang: str) -> None:
    words = LevelWords(ws, lang)
    kinds = {"file": KEY, "status": KEY, "audit": KEY, "result": TEXT, "output": KEY}
    table = Listing(t("run.summary", lang, seconds=f"{seconds:.1f}"),
                    [(t(f"run.col.{col}", lang), kind) for col, kind in kinds.items()])
    shown = outcomes if len(outcomes) <= SUMMARY_ROWS else [o for o in outcomes if o.status != "done"]
    for o in sorted(shown, key=lambda o: o.name):
        if o.status == "done":
            level = words(o.standard, o.level) or t("run.no_level", lang)
            result = f"{o.total} {level}" + (f" r{o.revision}" if o.revision else "")
            if o.note is not None:  # what it means for a certificate: maintained, awaiting a decision
                result += f" · {o.note.render(lang)}"
        else:
            result = reason(o.problems, o.note, lang)
        table.add_row(o.name, t(f"status.{o.status}", lang), o.audit_id or "", result, o.output or "",
                      styles={1: STATUS_STYLE.get(o.status, "")})
    if shown:
        table.print(out)
    if len(shown) < len(outcomes):
        out.print(t("run.summary_cut", lang, count=len(outcomes) - len(shown)))
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in STATUS_STYLE}
    out.print(t("run.counts", lang, **counts))
    waiting = sum(1 for o in outcomes if o.note is not None and o.note.key.startswith("cert.awaiting"))
    if waiting:
        out.print(f"[yellow]{t('run.awaiting', lang, n=waiting)}[/]")


def _progress():
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=out, transient=True)


def run_once(ws: Workspace, *, lang: str, pdf: bool | None = None, workers: int | None = None,
             demo_dir: Path | None = None, as_json: bool = False) -> list[api.Outcome]:
    """``run`` (or, with ``demo_dir``, ``demo``) with a progress bar and the summary table; with
    ``as_json``, only the outcomes as JSON on stdout."""
    if as_json:
        result = api.run_inbox(ws, lang=lang, pdf=pdf, workers=workers)
        print(json.dumps({"seconds": round(result.seconds, 3), "outcomes": [o.to_json(lang) for o in result.outcomes],
                          "register_error": result.register_error.render(lang) if result.register_error else None},
                         ensure_ascii=False, indent=2, default=str))
        return result.outcomes
    progress = _progress()
    task = None

    def above(line: str) -> None:  # a log line printed above the bar, not through it
        progress.console.print(line, markup=False, highlight=False, emoji=False)

    # (no bar is drawn when stdout is not a terminal: the console's log lines stay as they are)
    with progress, console_above(above) if progress.console.is_terminal else contextlib.nullcontext():
        def start(total: int) -> None:
            nonlocal task
            task = progress.add_task(t("run.progress", lang), total=total)

        def done(outcome: api.Outcome) -> None:
            progress.advance(task)

        if demo_dir is not None:
            def written(ws: Workspace, paths: list[Path]) -> None:
                progress.console.print(t("demo.written", lang, count=len(paths), inbox=ws.inbox))

            demo = api.make_demo(demo_dir, lang=lang, pdf=bool(pdf), on_samples=written, on_start=start,
                                 on_done=done)
            ws, result = demo.workspace, demo.result
        else:
            result = api.run_inbox(ws, lang=lang, pdf=pdf, workers=workers, on_start=start, on_done=done)
    if result.outcomes:
        _summary(ws, result.outcomes, result.seconds, lang)
    else:
        out.print(t("run.empty", lang, inbox=ws.inbox))
    if result.register_error is not None:
        out.print(f"[yellow]⚠ {escape(result.register_error.render(lang))}[/]")
    if any(o.certificate_no for o in result.outcomes):  # what a body must fill in to sign certificates
        for problem in result.issuer:
            out.print(f"[yellow]⚠ {escape(problem.render(lang))}[/]")
    strays = api.inbox_strays(ws)  # a file dropped into the inbox that no run will take
    if strays:
        names = ("，" if lang == "zh" else ", ").join(strays[:10]) + (" …" if len(strays) > 10 else "")
        out.print(t("status.strays", lang, count=len(strays), names=names), style="magenta", markup=False)
    return result.outcomes


@app.command(short_help="处理收件箱一次 / process the inbox once")
def run(
    ctx: typer.Context,
    pdf: Annotated[bool | None, typer.Option(
        "--pdf/--no-pdf", help="同时生成 PDF（需 LibreOffice）/ also make PDFs")] = None,
    workers: Annotated[int | None, typer.Option("--workers", "-j", min=1,
                                                help="并行进程数（默认：CPU 核数）/ worker processes")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """处理收件箱中的全部评分表一次。

    退出码：0 全部完成；1 有退回（数据问题）；
    3 有文件因外部原因（磁盘、权限）失败，仍在收件箱等待下次处理（3 优先于 1）；
    2 无法开始（配置、工作区被占用、账本）。

    Process everything in the inbox once.

    Exit codes: 0 all done; 1 some rejected (a data problem);
    3 some failed for an outside reason (disk, permission) and still wait in the inbox (3 wins over 1);
    2 could not start (configuration, busy workspace, ledger)."""
    s = settings(ctx)
    ws = _workspace(s)
    made = _not_yet_a_workspace(ws)
    setup_logging(ws, verbosity=s.verbosity, fmt=s.log_format)
    try:
        outcomes = run_once(ws, lang=s.lang, pdf=pdf, workers=workers, as_json=as_json)
    finally:
        if made:
            _say_made(ws, s)
    statuses = {o.status for o in outcomes}
    raise typer.Exit(3 if "failed" in statuses else 1 if "rejected" in statuses else 0)


@app.command(short_help="持续监视收件箱 / watch the inbox")
def watch(
    ctx: typer.Context,
    poll: Annotated[bool | None, typer.Option(
        "--poll/--no-poll", help="轮询模式（网络共享目录）/ poll (network shares)")] = None,
    pdf: Annotated[bool | None, typer.Option("--pdf/--no-pdf", help="同时生成 PDF / also make PDFs")] = None,
    settle: Annotated[float | None, typer.Option("--settle", min=0, help="文件稳定等待秒数 / settle seconds")] = None,
) -> None:
    """持续监视收件箱：先处理积压文件，然后逐个处理新放入的评分表，Ctrl-C 或 SIGTERM 结束。

    退出码：0 正常停止；2 无法开始（配置、工作区被占用、账本）；
    3 开始后因外部原因（磁盘、账本）停止，重启可能恢复。

    Watch the inbox: process the backlog, then each workbook as it settles, until Ctrl-C / SIGTERM.

    Exit codes: 0 a normal stop; 2 could not start (configuration, busy workspace, ledger);
    3 stopped for an outside reason (disk, ledger) after it started: a restart may help."""
    s = settings(ctx)
    lang = s.lang
    ws = _workspace(s)
    made = _not_yet_a_workspace(ws)
    setup_logging(ws, verbosity=s.verbosity, fmt=s.log_format)
    started = threading.Event()

    def ready() -> None:
        started.set()
        if made:
            _say_made(ws, s)
        out.print(t("watch.started", lang, inbox=ws.inbox))

    words = LevelWords(ws, lang)

    def outcome(o: api.Outcome) -> None:
        style = STATUS_STYLE.get(o.status, "")
        if o.status == "done":  # its level, and what it means for a certificate (awaiting a decision ...)
            detail = " · ".join(x for x in (words(o.standard, o.level), o.note.render(lang) if o.note else "") if x)
        else:
            detail = reason(o.problems, o.note, lang)
        out.print(f"[{style}]{t(f'status.{o.status}', lang)}[/] "
                  + escape(f"{o.name} {o.audit_id or ''} {o.total or ''} {detail}"), highlight=False)

    def error(path: Path, exc: CertpipeError) -> None:  # disk full, ledger busy...: said, tried again later
        out.print("[red]✗[/] " + escape(f"{path.name}: {exc.render(lang)}"), highlight=False)

    stop = threading.Event()
    try:
        with api.stop_on_signals(stop):
            api.watch_inbox(ws, stop=stop, lang=lang, pdf=pdf, settle=settle, poll=poll, on_ready=ready,
                            on_outcome=outcome, on_error=error)
    except KeyboardInterrupt:  # a second Ctrl-C: stop at once; the file in hand is redone next time
        pass
    except CertpipeError as exc:  # before it started: 2, as the error says; after: 3, a restart may help
        if started.is_set():
            exc.exit_code = 3
        raise
    out.print(t("watch.stopped", lang))


@app.command(short_help="创建空工作区 / make an empty workspace")
def init(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="新工作区目录 / folder of the new workspace")],
) -> None:
    """创建空工作区（含带注释的 certpipe.toml）/ make an empty workspace with a commented certpipe.toml."""
    s = settings(ctx)
    existed = (directory / "certpipe.toml").is_file()
    ws = api.init_workspace(directory)
    out.print(t("init.existing" if existed else "init.done", s.lang, path=ws.root))


@app.command(short_help="演示：样例评分表全流程 / demo: sample audits end to end")
def demo(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="演示工作区目录 / demo workspace folder")] = Path("demo"),
    pdf: Annotated[bool, typer.Option("--pdf", help="同时生成 PDF / also make PDFs")] = False,
) -> None:
    """演示：创建工作区，为每个内置标准写入已填写的样例评分表并处理，然后说明去哪里看结果。

    Demo: a workspace with filled sample audits for every built-in standard, processed."""
    s = settings(ctx)
    lang = s.lang
    ws = api.init_workspace(directory)  # checked and made before logging goes into it
    setup_logging(ws, verbosity=s.verbosity, fmt=s.log_format)
    outcomes = run_once(ws, lang=lang, pdf=pdf, demo_dir=directory)
    out.print(t("demo.look", lang, outbox=ws.outbox, rejected=ws.rejected, register=ws.register, root=ws.root))
    if any(o.status == "failed" for o in outcomes):  # (one sample is rejected on purpose: not an error)
        raise typer.Exit(3)
